"""Streaming data into the file store: hashes, limits, format checks, two-phase writes."""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from overcast.image.formats import FormatMismatch
from overcast.image.ingest import Expectations, Limit, TooLarge, ingest
from overcast.image.stores import DataNotFound, FileStore, StorageFull
from overcast.image.stores import file as file_store
from overcast.image.stores.file import O_DIRECT, FileWriter
from tests.unit.image.test_formats import qcow2

CHUNK = 64 * 1024


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "images", ThreadPoolExecutor(4), read_chunk=CHUNK)


def expect(disk_format: str = "raw", limit: int = 1 << 30) -> Expectations:
    return Expectations(disk_format, True, Limit(limit, "too big"))


async def pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(
    store: FileStore, location: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in store.read(location, offset, length)])


def leftovers(store: FileStore) -> list[str]:
    return sorted(p.name for p in store.root.rglob("*") if p.is_file())


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 17])
async def test_data_is_stored_with_its_hashes(store: FileStore, size: int) -> None:
    data = os.urandom(size)
    stored = await ingest(
        pieces(data), store.writer("img"), expect(), executor=store.executor, chunk_size=CHUNK
    )
    assert stored.size == size
    assert stored.checksum == hashlib.md5(data).hexdigest()
    assert stored.os_hash_value == hashlib.sha512(data).hexdigest()
    assert stored.virtual_size == size
    assert await read_all(store, stored.location) == data
    assert leftovers(store) == ["img"]


async def test_ranges_are_read_from_the_offset(store: FileStore) -> None:
    data = os.urandom(5 * CHUNK)
    stored = await ingest(
        pieces(data), store.writer("img"), expect(), executor=store.executor, chunk_size=CHUNK
    )
    assert (
        await read_all(store, stored.location, CHUNK + 5, 2 * CHUNK)
        == data[CHUNK + 5 : 3 * CHUNK + 5]
    )


async def test_too_much_data_is_refused_and_nothing_stays(store: FileStore) -> None:
    with pytest.raises(TooLarge, match="too big"):
        await ingest(
            pieces(b"x" * 50_000),
            store.writer("img"),
            expect(limit=40_000),
            executor=store.executor,
            chunk_size=CHUNK,
        )
    assert leftovers(store) == []


async def test_data_in_another_format_is_refused_early_and_nothing_stays(store: FileStore) -> None:
    data = qcow2() + os.urandom(3 * CHUNK)
    with pytest.raises(FormatMismatch):
        await ingest(
            pieces(data),
            store.writer("img"),
            expect("raw"),
            executor=store.executor,
            chunk_size=CHUNK,
        )
    assert leftovers(store) == []


async def test_a_vhd_is_checked_by_its_footer_at_the_end(store: FileStore) -> None:
    from tests.unit.image.test_formats import vhd_footer

    data = os.urandom(2 * CHUNK + 100) + vhd_footer(1 << 30)
    stored = await ingest(
        pieces(data, 7000),
        store.writer("img"),
        expect("vhd"),
        executor=store.executor,
        chunk_size=CHUNK,
    )
    assert stored.virtual_size == 1 << 30


async def test_a_failing_stream_leaves_nothing(store: FileStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a" * (2 * CHUNK)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await ingest(
            broken(), store.writer("img"), expect(), executor=store.executor, chunk_size=CHUNK
        )
    assert leftovers(store) == []


class FullWriter(FileWriter):
    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        raise StorageFull("image storage is full (No space left on device)")


async def test_a_full_disk_is_reported_and_nothing_stays(store: FileStore) -> None:
    with pytest.raises(StorageFull):
        await ingest(
            pieces(b"z" * (3 * CHUNK)),
            FullWriter(store, "img"),
            expect(),
            executor=store.executor,
            chunk_size=CHUNK,
        )
    assert leftovers(store) == []


async def test_partial_files_of_dead_writers_are_swept_but_live_ones_kept(store: FileStore) -> None:
    live = store.writer("live")
    await live.write(b"data")
    (store.partial / "dead.123.part").write_bytes(b"left behind")
    assert await store.sweep() == 1
    assert leftovers(store) == [live.path.name]
    await live.abort()


async def test_missing_data_and_foreign_locations_are_not_found(store: FileStore) -> None:
    with pytest.raises(DataNotFound):
        await read_all(store, f"file://{store.root}/nothing")
    with pytest.raises(DataNotFound):
        await read_all(store, "file:///etc/passwd")
    await store.delete(f"file://{store.root}/nothing")  # deleting what is gone is fine


class FailsLaterWriter(FileWriter):
    """A disk that fills up after the first buffers."""

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self.written >= 3 * CHUNK:
            raise StorageFull("image storage is full (No space left on device)")
        super()._write(chunk)


async def test_a_store_failing_mid_stream_stops_the_upload_and_nothing_stays(
    store: FileStore,
) -> None:
    # far more data than the pipeline holds: the feeder must learn of the failure
    with pytest.raises(StorageFull):
        await ingest(
            pieces(os.urandom(40 * CHUNK), CHUNK),
            FailsLaterWriter(store, "img"),
            expect(),
            executor=store.executor,
            chunk_size=CHUNK,
        )
    assert leftovers(store) == []


async def test_aligned_buffers_go_direct_and_anything_else_through_the_cache(
    store: FileStore,
) -> None:
    aligned = mmap.mmap(-1, CHUNK)
    aligned[:] = os.urandom(CHUNK)
    unaligned = memoryview(bytearray(CHUNK + 1))[1:]  # right length, odd address
    unaligned[:] = os.urandom(CHUNK)
    writer = store.writer("img")
    await writer.write(memoryview(aligned))
    assert writer.direct == bool(O_DIRECT)
    await writer.write(unaligned)
    await writer.write(b"tail")
    assert not writer.direct
    location = await writer.commit()
    assert await read_all(store, location) == bytes(aligned) + bytes(unaligned) + b"tail"


async def test_data_is_synced_in_the_background_while_it_streams(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_store, "SYNC_BYTES", 2 * CHUNK)
    syncs: list[int] = []
    real_sync = os.fdatasync
    monkeypatch.setattr(file_store.os, "fdatasync", lambda fd: syncs.append(fd) or real_sync(fd))
    data = os.urandom(7 * CHUNK)
    stored = await ingest(
        pieces(data), store.writer("img"), expect(), executor=store.executor, chunk_size=CHUNK
    )
    assert len(syncs) == 3  # after 2, 4 and 6 buffers; the commit's fsync does the rest
    assert await read_all(store, stored.location) == data
