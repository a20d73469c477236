"""Object files on a device: atomic writes, newest timestamp wins, tombstones, POST metadata."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pytest

from overcast.object.storage.diskfile import (
    Copies,
    Corrupt,
    Deleted,
    DiskFile,
    NotFound,
    Writer,
    data_dir,
    path_hash,
)
from overcast.object.timestamps import BadTimestamp, Timestamp


def diskfile(tmp_path: Path, obj: str = "o", policy: int = 0) -> DiskFile:
    return DiskFile(tmp_path / "sda", policy, 7, path_hash("pre", "suf", "AUTH_a", "c", obj))


def put(df: DiskFile, body: bytes, at: float, **extra: str) -> None:
    etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
    with df.writer() as writer:
        writer.write(body)
        writer.commit({"X-Timestamp": Timestamp.parse(at).internal, "ETag": etag, **extra})


def test_timestamps_parse_print_and_order() -> None:
    t = Timestamp.parse("1700000000.12345")
    assert t.normal == "1700000000.12345" == str(t)
    assert Timestamp.parse(1700000000.12345) == t
    assert t.bumped().internal == "1700000000.12345_0000000000000001"
    assert Timestamp.parse(t.bumped().internal) > t
    assert Timestamp.parse("1700000000.2") > t
    for bad in ("", "yesterday", "-1", "nan", "1.0_xyz"):
        with pytest.raises(BadTimestamp):
            Timestamp.parse(bad)


def test_a_written_object_reads_back_with_its_metadata(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    put(df, b"hello world", 100, **{"Content-Type": "text/plain"})
    found = df.current()
    assert b"".join(found.chunks()) == b"hello world" and found.size == 11
    assert found.metadata["ETag"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert found.metadata["Content-Type"] == "text/plain"
    assert b"".join(found.chunks(6, 9)) == b"wor"
    assert df.path.parent.name == df.hash[-3:]
    assert df.partition_path == tmp_path / "sda" / "objects" / "7"
    assert data_dir(2) == "objects-2"
    assert list((tmp_path / "sda" / "tmp").iterdir()) == []


def test_the_newest_write_wins_and_older_files_go(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    put(df, b"new", 200)
    put(df, b"old", 100)  # arrives late: older than what is there
    assert b"".join(df.current().chunks()) == b"new"
    assert [f[1] for f in df.files()] == [".data"]


def test_a_tombstone_hides_older_data_and_newer_data_beats_it(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    put(df, b"x", 100)
    df.delete(Timestamp.parse(150))
    with pytest.raises(Deleted) as deleted:
        df.current()
    assert deleted.value.timestamp == Timestamp.parse(150)
    assert [f[1] for f in df.files()] == [".ts"]
    put(df, b"y", 200)
    assert b"".join(df.current().chunks()) == b"y"
    with pytest.raises(NotFound):
        diskfile(tmp_path, "other").current()


def test_post_metadata_applies_only_when_newer_than_the_data(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    put(df, b"x", 100)
    df.post(Timestamp.parse(150), {"X-Object-Meta-Color": "blue"})
    found = df.current()
    assert found.meta is not None and found.meta["X-Object-Meta-Color"] == "blue"
    put(df, b"z", 200)  # a newer PUT replaces data and metadata
    assert df.current().meta is None
    assert [f[1] for f in df.files()] == [".data"]


def test_a_damaged_file_is_corrupt_and_can_be_quarantined(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    put(df, b"x" * 100, 100)
    data = df.files()[0][2]
    data.write_bytes(data.read_bytes()[:-3])
    with pytest.raises(Corrupt):
        df.current()
    moved = df.quarantine()
    assert moved.parent == tmp_path / "sda" / "quarantined" / "objects"
    with pytest.raises(NotFound):
        df.current()


@pytest.mark.parametrize("size", [7, Writer.SPILL + 1])
def test_an_abandoned_write_leaves_nothing(tmp_path: Path, size: int) -> None:
    """A small body never reached the disk; a large one's temporary file goes."""
    df = diskfile(tmp_path)
    with pytest.raises(RuntimeError), df.writer() as writer:
        writer.write(b"p" * size)
        raise RuntimeError("client went away")
    with pytest.raises(NotFound):
        df.current()
    tmp = tmp_path / "sda" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


def test_a_large_body_spills_to_disk_as_it_arrives(tmp_path: Path) -> None:
    df = diskfile(tmp_path)
    with df.writer() as writer:
        writer.write(b"a" * Writer.SPILL)
        assert not (tmp_path / "sda" / "tmp").exists()
        writer.write(b"b" * 10)
        assert len(list((tmp_path / "sda" / "tmp").iterdir())) == 1
        writer.write(b"c")
        writer.commit({"X-Timestamp": "1700000000.00000"})
    found = df.current()
    assert found.metadata["X-Timestamp"] == "1700000000.00000"
    assert b"".join(found.chunks()) == b"a" * Writer.SPILL + b"b" * 10 + b"c"


@pytest.mark.parametrize("size", [10, 3 * Writer.WRITEBACK + 5])
def test_copies_write_one_body_to_every_device_with_one_etag(tmp_path: Path, size: int) -> None:
    """A node holding several replicas hashes a body once and writes it to each device
    (a large one in batches, its write-back started as it goes)."""
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    files = [
        DiskFile(tmp_path / device, 0, 7, path_hash("pre", "suf", "AUTH_a", "c", "o"))
        for device in ("sda", "sdb", "sdc")
    ]
    with contextlib.ExitStack() as stack:
        copies = Copies([stack.enter_context(df.writer()) for df in files])
        if size < Writer.SPILL:
            copies.hold([body])
        else:
            for start in range(0, size, Writer.SPILL):
                batch = [body[start : start + Writer.SPILL]]
                copies.hash_all(batch)
                for writer in copies.writers:
                    writer.write_all(batch)
        copies.commit({"X-Timestamp": "1700000000.00000", "ETag": copies.etag})
    assert copies.etag == hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert copies.size == size
    for df in files:
        found = df.current()
        assert found.metadata["ETag"] == copies.etag
        assert b"".join(found.chunks()) == body
