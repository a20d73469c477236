"""Group flushes: one syncfs made durable what every waiting writer wrote before it."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from overcast.object.storage.flush import Flushes, GroupFlush, syncfs


class SlowDisk:
    """A flush that takes a while and notes how many writes existed when it started."""

    def __init__(self, fail: bool = False) -> None:
        self.writes = 0
        self.flushes = 0
        self.durable = 0
        """Writes that a finished flush covers."""
        self.fail = fail
        self._lock = threading.Lock()

    def flush(self, path: Path) -> None:
        with self._lock:
            covered = self.writes
            self.flushes += 1
        time.sleep(0.02)
        if self.fail:
            raise OSError(5, "Input/output error")
        with self._lock:
            self.durable = max(self.durable, covered)


async def test_writers_that_wait_together_share_a_flush(tmp_path: Path) -> None:
    disk = SlowDisk()
    group = GroupFlush(tmp_path, disk.flush)

    async def writer() -> None:
        disk.writes += 1
        mine = disk.writes
        await group.flushed()
        assert disk.durable >= mine  # what it wrote is covered by a finished flush

    await asyncio.gather(*(writer() for _ in range(50)))
    assert disk.flushes <= 2


async def test_a_flush_that_started_before_the_write_does_not_count(tmp_path: Path) -> None:
    disk = SlowDisk()
    group = GroupFlush(tmp_path, disk.flush)
    early = asyncio.ensure_future(group.flushed())
    await asyncio.sleep(0.005)  # the first flush is running
    disk.writes += 1
    await group.flushed()
    assert disk.durable == 1
    assert disk.flushes == 2
    await early


async def test_a_failed_flush_fails_the_writers_it_was_to_cover(tmp_path: Path) -> None:
    group = GroupFlush(tmp_path, SlowDisk(fail=True).flush)
    results = await asyncio.gather(group.flushed(), group.flushed(), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)


async def test_devices_on_one_filesystem_share_their_flushes(tmp_path: Path) -> None:
    disk = SlowDisk()
    flushes = Flushes(disk.flush)
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    await asyncio.gather(flushes.flushed(tmp_path / "d1"), flushes.flushed(tmp_path / "d2"))
    assert disk.flushes == 1


def test_syncfs_flushes_a_real_filesystem(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    syncfs(tmp_path)
    with pytest.raises(OSError):
        syncfs(tmp_path / "missing")
