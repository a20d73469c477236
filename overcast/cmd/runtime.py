"""Running services: bind their ports, then serve them in one or several worker processes.

APIs listen on ports; engines (the conductor with its scheduler, a compute
agent) serve the bus. With several workers on the in-process bus, the first
worker holds the bus and runs the engines, and the others reach its bus through
a relay socket (:mod:`overcast.common.bus.relay`): the compute API then runs in
every worker but the first, so that building servers and answering requests
for them use different cores. The other APIs run in every worker.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import signal
import socket
from collections.abc import Sequence

import uvloop

from overcast.cmd.services import ENGINES, OFF_THE_ENGINES, SERVICES, Shared
from overcast.common import logging as overcast_logging
from overcast.common.bus.relay import Relay, listen
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
    relay = listen() if settings.bus.driver == "local" else None
    apart = [n for n in apis if relay is not None and n in OFF_THE_ENGINES]
    spread = [n for n in apis if n not in apart]
    groups = [bind_group(host, SERVICES[n].port(settings), count) for n in spread]
    others = [bind_group(host, SERVICES[n].port(settings), count - 1) for n in apart]
    metrics_dir = settings.data_dir / "run" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    args = []
    for i in range(count):
        sockets = [group[i] for group in groups]
        if i == 0:
            args.append((settings, spread, engines, sockets, relay))
        else:
            sockets += [group[i - 1] for group in others]
            args.append((settings, spread + apart, [], sockets, relay and relay.for_others()))
    run_workers(worker_main, args, name="overcast-worker")


def worker_main(
    settings: Settings,
    names: list[str],
    engines: list[str],
    sockets: list[socket.socket],
    relay: Relay | None = None,
) -> None:
    """One worker: build every service's app and serve it on its socket; run the engines."""
    overcast_logging.configure(settings.log_level)
    try:
        uvloop.run(_serve(settings, names, engines, sockets, relay))
    except KeyboardInterrupt:
        LOG.debug("interrupted")


async def _serve(
    settings: Settings,
    names: list[str],
    engines: list[str],
    sockets: list[socket.socket],
    relay: Relay | None,
) -> None:
    shared = Shared(settings, relay)
    if relay is not None and relay.is_hub:
        await shared.bus()  # the other workers may send from their first request on
    built = [await SERVICES[name].build(settings, shared) for name in names]
    running = [await ENGINES[name](settings, shared) for name in engines]
    # What start-up made lives as long as the process: out of the collector's way, a
    # full collection (which stopped a busy worker for ~80 ms) scans only newer objects.
    gc.collect()
    gc.freeze()
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
