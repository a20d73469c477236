"""Running services: bind their ports, then serve them in one or several worker processes.

APIs listen on ports; engines (the conductor with its scheduler, a compute
agent) serve the bus. With the in-process bus, the compute API and the
engines must share a process, so with several workers they all run in the
first one and the other workers serve the remaining APIs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
from collections.abc import Sequence

import uvloop

from overcast.cmd.services import ENGINES, LOCAL_BUS_ONLY, SERVICES, Shared
from overcast.common import logging as overcast_logging
from overcast.common.config import Settings
from overcast.common.server import bind, bind_group, run_workers, serve_apps

LOG = logging.getLogger(__name__)


def serve(settings: Settings, names: Sequence[str], workers: int | None = None) -> None:
    """Serve ``names`` (APIs and engines) until interrupted.

    :raises overcast.common.server.PortInUse: when a port is taken.
    """
    count = workers or settings.server.workers
    host = settings.server.host
    apis = [n for n in names if n in SERVICES]
    engines = [n for n in names if n in ENGINES]
    if count == 1:
        sockets = [bind(host, SERVICES[n].port(settings)) for n in apis]
        worker_main(settings, apis, engines, sockets)
        return
    local = settings.bus.driver == "local"
    pinned = [n for n in apis if local and n in LOCAL_BUS_ONLY]
    spread = [n for n in apis if n not in pinned]
    groups = [bind_group(host, SERVICES[n].port(settings), count) for n in spread]
    first = [bind(host, SERVICES[n].port(settings)) for n in pinned]
    metrics_dir = settings.data_dir / "run" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    args = []
    for i in range(count):
        sockets = [group[i] for group in groups]
        if i == 0:
            args.append((settings, spread + pinned, engines, sockets + first))
        else:
            args.append((settings, spread, [], sockets))
    run_workers(worker_main, args, name="overcast-worker")


def worker_main(
    settings: Settings, names: list[str], engines: list[str], sockets: list[socket.socket]
) -> None:
    """One worker: build every service's app and serve it on its socket; run the engines."""
    overcast_logging.configure(settings.log_level)
    try:
        uvloop.run(_serve(settings, names, engines, sockets))
    except KeyboardInterrupt:
        LOG.debug("interrupted")


async def _serve(
    settings: Settings, names: list[str], engines: list[str], sockets: list[socket.socket]
) -> None:
    shared = Shared(settings)
    built = [await SERVICES[name].build(settings, shared) for name in names]
    running = [await ENGINES[name](settings, shared) for name in engines]
    try:
        if built:
            await serve_apps([(b.app, sock) for b, sock in zip(built, sockets, strict=True)])
        else:
            await _until_stopped()
    finally:
        for engine in reversed(running):
            await engine.stop()
        for b in built:
            await b.close()
        await shared.close()


async def _until_stopped() -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
