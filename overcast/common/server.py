"""Serving ASGI apps on pre-bound sockets, in this process or in several worker processes.

With several workers, the parent binds one ``SO_REUSEPORT`` socket per worker
and port, and hands each worker its own: the kernel then spreads incoming
connections evenly across workers (a single shared socket lets whichever
process wakes first take most of them). A worker that dies is replaced on the
same sockets, so no port is ever closed. ``SIGINT``/``SIGTERM`` stop the parent,
which stops the workers and waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp

LOG = logging.getLogger(__name__)
BACKLOG = 2048
RESTART_DELAY = 1.0


class PortInUse(Exception):
    """A port to listen on is taken by another process."""


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket, shareable with child processes.

    :raises PortInUse: when the address is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def bind_group(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` ``SO_REUSEPORT`` sockets on one port, one per worker.

    The port is first bound plainly and released, so that a port already served
    by another process (even one using ``SO_REUSEPORT``) is refused, not shared.

    :raises PortInUse: when the address is taken.
    """
    bind(host, port).close()
    return [bind(host, port, reuse_port=True) for _ in range(count)]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve_apps`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_apps(apps: Sequence[tuple[ASGIApp, socket.socket]]) -> None:
    """Serve each app on its socket until SIGINT or SIGTERM."""
    servers = [
        _Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                http="httptools",
                proxy_headers=False,
                ws="none",
                timeout_keep_alive=75,
                server_header=False,
            )
        )
        for app, _ in apps
    ]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(
        *(s.serve(sockets=[sock]) for s, (_, sock) in zip(servers, apps, strict=True))
    )


def run_workers(
    target: Callable[..., None], args: Sequence[tuple[Any, ...]], *, name: str = "worker"
) -> None:
    """Run ``target(*args[i])`` in one spawned process per entry of ``args`` until told to stop."""
    context = multiprocessing.get_context("spawn")
    stopping = False
    workers = len(args)

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=target, args=args[index], name=f"{name}-{index}", daemon=False
        )
        process.start()
        return process

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    LOG.error(
                        "%s exited with %s; starting a new one", process.name, process.exitcode
                    )
                    time.sleep(RESTART_DELAY)
                    processes[index] = start(index)
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
