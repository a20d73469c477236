"""Streaming image data into a store: sizes, hashes and format checks computed on the way.

Incoming chunks are gathered into buffers of ``chunk_size`` bytes. A full buffer
is handed, at once, to three workers: md5 and sha512 each in a thread (hashlib
releases the GIL, so both run in parallel) and the store writer. Meanwhile the
next buffer fills from the network; it is handed over only when the previous one
is done. Memory per upload is therefore two buffers, whatever the image size.

Nothing is committed until the whole stream is in and the data passed the format
check; on any failure whatever was written is aborted.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterable, Awaitable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from overcast.image import formats
from overcast.image.stores.base import StoreWriter

HASH_ALGO = "sha512"


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
    return Stored(location, size, pipe.md5.hexdigest(), pipe.sha.hexdigest(), virtual_size)


class _Pipeline:
    def __init__(self, writer: StoreWriter, executor: Executor, chunk_size: int) -> None:
        self.writer = writer
        self.executor = executor
        self.chunk_size = chunk_size
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)
        self.buffers = (bytearray(chunk_size), bytearray(chunk_size))
        self.current = 0
        self.fill = 0
        self.handed = 0
        self.head = bytearray()
        self.inflight: asyncio.Future[Any] | None = None

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
        await self._drain()
        if self.fill:
            await self._process(memoryview(self.buffers[self.current])[: self.fill])
        return size

    async def _take(self, view: memoryview) -> None:
        while view:
            buffer = self.buffers[self.current]
            count = min(len(view), self.chunk_size - self.fill)
            buffer[self.fill : self.fill + count] = view[:count]
            self.fill += count
            view = view[count:]
            if self.fill == self.chunk_size:
                await self._drain()
                self.inflight = asyncio.ensure_future(self._process(memoryview(buffer)))
                self.current ^= 1
                self.fill = 0

    async def _process(self, view: memoryview) -> None:
        """Hash and write one buffer, the three at once; raise the first failure."""
        loop = asyncio.get_running_loop()
        work: list[Awaitable[Any]] = [
            loop.run_in_executor(self.executor, self.md5.update, view),
            loop.run_in_executor(self.executor, self.sha.update, view),
            self.writer.write(view),
        ]
        results = await asyncio.gather(*work, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self.handed += len(view)

    async def _drain(self) -> None:
        if self.inflight is not None:
            inflight, self.inflight = self.inflight, None
            await inflight

    async def settle(self) -> None:
        """Wait for buffer work still running (after a failure), ignoring its outcome."""
        if self.inflight is not None:
            inflight, self.inflight = self.inflight, None
            await asyncio.wait([inflight])
            if not inflight.cancelled():
                inflight.exception()  # retrieved: the first failure is already being raised

    def tail(self) -> bytes:
        """The last bytes of the data, from the buffers that hold them."""
        want = formats.TAIL_BYTES
        current = bytes(self.buffers[self.current][: self.fill])
        if len(current) >= want or self.handed <= len(current):
            return current[-want:]
        previous = self.buffers[self.current ^ 1]
        return bytes(previous[-(want - len(current)) :]) + current


def _check_head(head: bytearray, expect: Expectations) -> None:
    """Fail early when the first bytes already show the data is not what was declared."""
    if expect.disk_format == "vhd":
        return  # a fixed VHD is known by its footer only
    found = formats.inspect(bytes(head), b"", len(head))
    formats.check(expect.disk_format, found, require_match=expect.require_format_match)
