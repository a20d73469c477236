"""Blocking work (file writes, fsync, SQLite) off the event loop, in one pool of threads.

A storage node makes several such calls per request, so their cost matters:
``anyio.to_thread.run_sync`` spent a fifth of a busy node's event loop on its
task bookkeeping, where handing the call to an executor costs a queue put. The
pool is large because most of the calls wait on the disk (fsync), not the CPU,
and a container's group commits want writers in flight while others sync.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="overcast-io")


async def in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in the pool; the caller's context (request id) goes along."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_POOL, call)
