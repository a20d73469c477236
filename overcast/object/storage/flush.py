"""Group flushes: the new files of many writers made durable by one ``syncfs``.

Made durable one by one, a new object costs two cache flushes of its disk: an
fsync of the file, then one of the directory it was renamed into. Where every
fsync is a flush of its own (ext4 without a journal, many virtual disks),
concurrent PUTs queue for the disk, whatever the CPU could do.

``syncfs`` writes back everything dirty on a filesystem (data, inodes,
directories) and flushes once. A writer whose file is written and renamed
waits for the next ``syncfs`` that *starts* after that moment, which covers it;
every writer waiting then shares that one. So an acknowledged write is still on
disk, at the cost of one flush per burst of writers instead of two per file.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from collections.abc import Callable
from pathlib import Path

from overcast.common.threads import in_thread

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_LIBC.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
SYNC_FILE_RANGE_WRITE = 2
"""Start writing back the range's dirty pages; do not wait for them."""


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the disk start on ``length`` bytes of ``fd`` from ``offset`` now, without waiting.

    A large body would otherwise stay in the page cache until its flush, which then
    waits for all of it; started early, its write-back runs while the rest arrives.
    Only a hint: a filesystem that cannot do it is left to write back as it will.
    """
    _LIBC.sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)


def syncfs(path: Path) -> None:
    """Write back and flush the whole filesystem that holds ``path``.

    :raises OSError: when the filesystem reports a write-back error.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _LIBC.syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), str(path))
    finally:
        os.close(fd)


class GroupFlush:
    """Flushes of one filesystem, shared by the writers that wait at the same time."""

    def __init__(self, path: Path, flush: Callable[[Path], None] = syncfs) -> None:
        self.path = path
        self.flush = flush
        self.rounds = 0
        """Flushes started so far (one at a time)."""
        self.begun = 0
        """The newest flush whose ``syncfs`` has begun (set by its thread just before)."""
        self._running: asyncio.Future[None] | None = None

    async def flushed(self) -> None:
        """Return once everything written before this call is on disk.

        :raises OSError: when the flush that was to cover this call failed.
        """
        wanted = self.begun + 1  # the first flush that begins after now: it covers us
        while True:
            running = self._running or self._start()
            number = self.rounds
            try:
                await asyncio.shield(running)
            except OSError:
                if number >= wanted:
                    raise
            if number >= wanted:
                return

    def _start(self) -> asyncio.Future[None]:
        self.rounds += 1
        self._running = asyncio.ensure_future(self._round(self.rounds))
        return self._running

    async def _round(self, number: int) -> None:
        def flush() -> None:
            self.begun = number
            self.flush(self.path)

        try:
            await in_thread(flush)
        finally:
            self._running = None


class Flushes:
    """One :class:`GroupFlush` per filesystem (devices on one filesystem share it)."""

    def __init__(self, flush: Callable[[Path], None] = syncfs) -> None:
        self.flush = flush
        self._by_filesystem: dict[int, GroupFlush] = {}
        self._filesystem_of: dict[Path, int] = {}

    async def flushed(self, device: Path) -> None:
        """Return once everything written on ``device`` before this call is on disk."""
        filesystem = self._filesystem_of.get(device)
        if filesystem is None:
            filesystem = self._filesystem_of[device] = os.stat(device).st_dev
        group = self._by_filesystem.get(filesystem)
        if group is None:
            group = self._by_filesystem[filesystem] = GroupFlush(device, self.flush)
        await group.flushed()
