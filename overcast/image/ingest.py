"""Streaming image data into a store: sizes, hashes and format checks computed on the way.

Incoming chunks are gathered into buffers of ``chunk_size`` bytes taken from a
small pool. A full buffer is handed to three stages that each work through the
buffers in order, on their own, in a thread: md5, sha512 (hashlib releases the
GIL, so the two use two cores) and the store writer. No stage waits for another:
a slow disk moment does not stall the hashing, nor a busy core the disk. The
network is read only while a buffer is free, so memory per upload is the pool,
``DEPTH`` buffers, whatever the image size; the buffers are page-aligned, which
lets the file store write them with O_DIRECT.

Nothing is committed until the whole stream is in and the data passed the format
check; on any failure whatever was written is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mmap
from collections.abc import AsyncIterable, Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from overcast.image import formats
from overcast.image.stores.base import StoreWriter

HASH_ALGO = "sha512"
DEPTH = 8
"""Buffers per upload: enough for the stages to drift apart by a few buffers."""


@dataclass(frozen=True)
class Stored:
    """Data now durable in a store, and what was learnt about it on the way."""

    location: str
    size: int
    checksum: str
    os_hash_value: str
    virtual_size: int | None


class TooLarge(Exception):
    """The stream went past the limit; the message says which limit."""


@dataclass(frozen=True)
class Limit:
    bytes: int
    message: str


@dataclass(frozen=True)
class Expectations:
    disk_format: str
    require_format_match: bool
    limit: Limit


async def ingest(
    chunks: AsyncIterable[bytes],
    writer: StoreWriter,
    expect: Expectations,
    *,
    executor: Executor,
    chunk_size: int,
) -> Stored:
    """Write ``chunks`` through ``writer`` and commit them.

    :raises TooLarge: when the data exceeds ``expect.limit``.
    :raises formats.FormatMismatch: when the data is not what ``expect.disk_format`` says.
    :raises StoreError: when the store fails; in every case nothing stays written.
    """
    pipe = _Pipeline(writer, executor, chunk_size)
    try:
        size = await pipe.feed(chunks, expect)
        found = formats.inspect(bytes(pipe.head), pipe.tail(), size)
        virtual_size = formats.check(
            expect.disk_format, found, require_match=expect.require_format_match
        )
        location = await writer.commit()
    except BaseException:
        await pipe.settle()
        await writer.abort()
        raise
    finally:
        pipe.release()
    return Stored(location, size, pipe.md5.hexdigest(), pipe.sha.hexdigest(), virtual_size)


class _Stage:
    """One consumer of the filled buffers, taking them in order in a task of its own.

    After a failure it keeps taking buffers, only to give them back, so that the
    feeder never waits for a buffer that will not come; the failure is raised to
    the feeder when it asks for its next buffer.
    """

    def __init__(
        self, work: Callable[[memoryview], Awaitable[Any]], done_with: Callable[[int], None]
    ) -> None:
        self.work = work
        self.done_with = done_with
        self.failure: BaseException | None = None
        self.queue: asyncio.Queue[tuple[int, memoryview] | None] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while (item := await self.queue.get()) is not None:
            index, view = item
            try:
                if self.failure is None:
                    await self.work(view)
            except Exception as exc:
                self.failure = exc
            finally:
                self.done_with(index)


class _Pipeline:
    def __init__(self, writer: StoreWriter, executor: Executor, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)
        self.buffers = [mmap.mmap(-1, chunk_size) for _ in range(DEPTH)]
        self.users = [0] * DEPTH  # stages still holding each buffer
        self.free: asyncio.Queue[int] = asyncio.Queue()
        for index in range(DEPTH):
            self.free.put_nowait(index)
        self.current: int | None = None
        self.fill = 0
        self.head = bytearray()
        self.last = b""  # the last TAIL_BYTES handed on
        loop = asyncio.get_running_loop()

        def hashing(state: Any) -> Callable[[memoryview], Awaitable[None]]:
            return lambda view: loop.run_in_executor(executor, state.update, view)

        self.stages = [
            _Stage(hashing(self.md5), self._done_with),
            _Stage(hashing(self.sha), self._done_with),
            _Stage(writer.write, self._done_with),
        ]

    async def feed(self, chunks: AsyncIterable[bytes], expect: Expectations) -> int:
        size = 0
        checked_head = False
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > expect.limit.bytes:
                raise TooLarge(expect.limit.message)
            if len(self.head) < formats.HEAD_BYTES:
                self.head += chunk[: formats.HEAD_BYTES - len(self.head)]
            elif not checked_head:
                _check_head(self.head, expect)
                checked_head = True
            await self._take(memoryview(chunk))
        if self.fill:
            self._hand_on()
        await self._finish()
        return size

    async def _take(self, view: memoryview) -> None:
        while view:
            if self.current is None:
                self.current = await self.free.get()
                self._raise_failure()
            count = min(len(view), self.chunk_size - self.fill)
            self.buffers[self.current][self.fill : self.fill + count] = view[:count]
            self.fill += count
            view = view[count:]
            if self.fill == self.chunk_size:
                self._hand_on()

    def _hand_on(self) -> None:
        assert self.current is not None
        view = memoryview(self.buffers[self.current])[: self.fill]
        self.last = (self.last + bytes(view[-formats.TAIL_BYTES :]))[-formats.TAIL_BYTES :]
        self.users[self.current] = len(self.stages)
        for stage in self.stages:
            stage.queue.put_nowait((self.current, view))
        self.current, self.fill = None, 0

    def _done_with(self, index: int) -> None:
        self.users[index] -= 1
        if self.users[index] == 0:
            self.free.put_nowait(index)

    def _raise_failure(self) -> None:
        for stage in self.stages:
            if stage.failure is not None:
                raise stage.failure

    async def _finish(self) -> None:
        await self.settle()
        self._raise_failure()

    async def settle(self) -> None:
        """Let the stages finish the buffers handed on; then no thread uses a buffer."""
        if self.stages[0].task.done():
            return
        for stage in self.stages:
            stage.queue.put_nowait(None)
        await asyncio.wait([stage.task for stage in self.stages])

    def release(self) -> None:
        """Give the buffers' memory back now, not when the garbage collector gets to it."""
        buffers, self.buffers = self.buffers, []
        for buffer in buffers:
            with contextlib.suppress(BufferError):  # a view still exists: the collector frees it
                buffer.close()

    def tail(self) -> bytes:
        """The last bytes of the data."""
        return self.last


def _check_head(head: bytearray, expect: Expectations) -> None:
    """Fail early when the first bytes already show the data is not what was declared."""
    if expect.disk_format == "vhd":
        return  # a fixed VHD is known by its footer only
    found = formats.inspect(bytes(head), b"", len(head))
    formats.check(expect.disk_format, found, require_match=expect.require_format_match)
