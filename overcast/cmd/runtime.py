"""Running services: bind their ports, then serve them in one or several worker processes."""

from __future__ import annotations

import logging
import os
import shutil
import socket
from collections.abc import Sequence

import uvloop

from overcast.cmd.services import SERVICES, Shared
from overcast.common import logging as overcast_logging
from overcast.common.config import Settings
from overcast.common.server import bind, bind_group, run_workers, serve_apps


def serve(settings: Settings, names: Sequence[str], workers: int | None = None) -> None:
    """Serve ``names`` until interrupted.

    :raises overcast.common.server.PortInUse: when a port is taken.
    """
    count = workers or settings.server.workers
    host = settings.server.host
    if count == 1:
        worker_main(settings, list(names), [bind(host, SERVICES[n].port(settings)) for n in names])
        return
    groups = [bind_group(host, SERVICES[n].port(settings), count) for n in names]
    per_worker = [[group[i] for group in groups] for i in range(count)]
    metrics_dir = settings.data_dir / "run" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    args = [(settings, list(names), sockets) for sockets in per_worker]
    run_workers(worker_main, args, name="overcast-worker")


def worker_main(settings: Settings, names: list[str], sockets: list[socket.socket]) -> None:
    """One worker: build every service's app and serve it on its socket."""
    overcast_logging.configure(settings.log_level)
    try:
        uvloop.run(_serve(settings, names, sockets))
    except KeyboardInterrupt:
        logging.getLogger(__name__).debug("interrupted")


async def _serve(settings: Settings, names: list[str], sockets: list[socket.socket]) -> None:
    shared = Shared(settings)
    built = [await SERVICES[name].build(settings, shared) for name in names]
    try:
        await serve_apps([(b.app, sock) for b, sock in zip(built, sockets, strict=True)])
    finally:
        for b in built:
            await b.close()
        await shared.close()
