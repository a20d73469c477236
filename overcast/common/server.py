"""Serving ASGI apps on pre-bound sockets, in this process or in several worker processes.

The parent binds every listening socket once and hands them to the workers,
which all ``accept()`` on them, so the kernel spreads connections across
workers. A worker that dies unexpectedly is replaced. ``SIGINT``/``SIGTERM``
stop the parent, which stops the workers and waits for them.
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


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, shareable with child processes.

    :raises PortInUse: when the address is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


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
    target: Callable[..., None], args: tuple[Any, ...], workers: int, *, name: str = "worker"
) -> None:
    """Run ``target(*args)`` in ``workers`` spawned processes until told to stop."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(target=target, args=args, name=f"{name}-{index}", daemon=False)
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
