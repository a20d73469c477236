"""Object files on a storage node's devices, written atomically and fsynced.

Where an object lives::

    DEVICES/<device>/objects[-N]/<partition>/<suffix>/<hash>/<timestamp>.data|.ts|.meta

``hash`` is md5 of the object's path (salted with the cluster's prefix and
suffix) and ``suffix`` its last three hex digits, which groups hashes for
replication. A ``.data`` file holds the body, then its metadata as JSON, then
a footer (the metadata's length and a magic word): the ETag is known only once
the body is written, so the metadata goes after it. A DELETE leaves a ``.ts``
(tombstone) and a POST a ``.meta``, both with metadata only. The newest ``.data``
or ``.ts`` wins; a ``.meta`` newer than it updates its metadata.

Each write goes to a temporary file on the same device, is fsynced, renamed
into place and the directory fsynced, so an acknowledged write survives a crash
and a reader never sees half of one. Older files of the object are removed
afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from overcast.object.paths import hash_path
from overcast.object.storage.flush import start_writeback
from overcast.object.timestamps import BadTimestamp, Timestamp

MAGIC = b"OCM1"
FOOTER = struct.Struct("!I4s")
EXTENSIONS = (".data", ".ts", ".meta")


class DiskFileError(Exception):
    """Base of what reading an object's files can say."""


class NotFound(DiskFileError):
    """No such object on this device."""


class Deleted(NotFound):
    """The object's newest state here is a tombstone."""

    def __init__(self, timestamp: Timestamp) -> None:
        super().__init__(f"deleted at {timestamp}")
        self.timestamp = timestamp


class Corrupt(DiskFileError):
    """A file that cannot be what it claims (bad footer, metadata or size)."""


def path_hash(prefix: str, suffix: str, account: str, container: str, obj: str) -> str:
    """The name of an object's directory."""
    return hash_path(prefix, suffix, account, container, obj).hex()


def data_dir(policy: int) -> str:
    return "objects" if policy == 0 else f"objects-{policy}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_metadata(handle: BinaryIO) -> tuple[dict[str, Any], int]:
    """The metadata of an open object file, and the length of the body before it.

    :raises Corrupt: when the file does not end in a valid footer.
    """
    handle.seek(0, os.SEEK_END)
    total = handle.tell()
    if total < FOOTER.size:
        raise Corrupt("file too short for a footer")
    handle.seek(total - FOOTER.size)
    length, magic = FOOTER.unpack(handle.read(FOOTER.size))
    body = total - FOOTER.size - length
    if magic != MAGIC or body < 0:
        raise Corrupt("no metadata footer")
    handle.seek(body)
    try:
        metadata = json.loads(handle.read(length))
    except ValueError as exc:
        raise Corrupt(f"unreadable metadata: {exc}") from None
    if not isinstance(metadata, dict):
        raise Corrupt("metadata is not an object")
    return metadata, body


@dataclass
class Found:
    """An object's current state on one device."""

    path: Path
    metadata: dict[str, Any]
    """The ``.data`` file's metadata (``X-Timestamp``, ``ETag``, ``Content-Length``, ...)."""
    size: int
    meta: dict[str, Any] | None = None
    """A newer POST's metadata, if any."""

    @property
    def timestamp(self) -> Timestamp:
        return Timestamp.parse(self.metadata["X-Timestamp"])

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def chunks(self, start: int = 0, end: int | None = None, size: int = 65536) -> Iterator[bytes]:
        """The body from ``start`` up to ``end`` (exclusive), read in chunks."""
        stop = self.size if end is None else min(end, self.size)
        with self.open() as handle:
            handle.seek(start)
            left = stop - start
            while left > 0:
                chunk = handle.read(min(size, left))
                if not chunk:
                    raise Corrupt(f"{self.path} is shorter than its metadata says")
                left -= len(chunk)
                yield chunk


class DiskFile:
    """One object's files on one device."""

    def __init__(self, device_path: Path, policy: int, part: int, hash_: str) -> None:
        self.device_path = device_path
        self.hash = hash_
        self.suffix = hash_[-3:]
        self.partition_path = device_path / data_dir(policy) / str(part)
        self.path = self.partition_path / self.suffix / hash_

    # -- reading ----------------------------------------------------------------------

    def files(self) -> list[tuple[Timestamp, str, Path]]:
        """The object's files, newest first (unparsable names are left out)."""
        try:
            names = os.listdir(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for name in names:
            stem, ext = os.path.splitext(name)
            if ext not in EXTENSIONS:
                continue
            try:
                found.append((Timestamp.parse(stem), ext, self.path / name))
            except BadTimestamp:
                continue
        found.sort(key=lambda f: (f[0], f[1] == ".meta"), reverse=True)
        return found

    def current(self) -> Found:
        """The object as this device has it now.

        :raises Deleted: when its newest state is a tombstone.
        :raises NotFound: when there is nothing.
        :raises Corrupt: when its data file is unreadable.
        """
        meta: dict[str, Any] | None = None
        for timestamp, ext, path in self.files():
            if ext == ".meta":
                if meta is None:
                    meta = self._metadata_of(path)
                continue
            if ext == ".ts":
                raise Deleted(timestamp)
            with path.open("rb") as handle:
                metadata, size = read_metadata(handle)
            if meta is not None and Timestamp.parse(meta["X-Timestamp"]) <= timestamp:
                meta = None
            return Found(path, metadata, size, meta)
        raise NotFound("no such object")

    @staticmethod
    def _metadata_of(path: Path) -> dict[str, Any]:
        with path.open("rb") as handle:
            return read_metadata(handle)[0]

    # -- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """A writer for a new body; nothing is visible until ``commit``."""
        writer = Writer(self)
        try:
            yield writer
        finally:
            writer.discard()

    def delete(self, timestamp: Timestamp, metadata: dict[str, Any] | None = None) -> None:
        """Leave a tombstone at ``timestamp`` (older files go)."""
        with self.writer() as writer:
            writer.commit({**(metadata or {}), "X-Timestamp": timestamp.internal}, ".ts")

    def post(self, timestamp: Timestamp, metadata: dict[str, Any]) -> None:
        """Record a POST's metadata at ``timestamp``."""
        with self.writer() as writer:
            writer.commit({**metadata, "X-Timestamp": timestamp.internal}, ".meta")

    def cleanup(self) -> None:
        """Remove what the newest state makes useless: older data, tombstones and metas."""
        files = self.files()
        base = next((f for f in files if f[1] != ".meta"), None)
        newest_meta = next((f for f in files if f[1] == ".meta"), None)
        for timestamp, ext, path in files:
            keep = (timestamp, ext, path) == base or (
                ext == ".meta"
                and (timestamp, ext, path) == newest_meta
                and (base is None or timestamp > base[0])
            )
            if not keep:
                path.unlink(missing_ok=True)

    def quarantine(self) -> Path:
        """Move the object's directory aside (it is corrupt); replication brings a good copy."""
        target = self.device_path / "quarantined" / self.partition_path.parent.name / self.hash
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(self.path, target)
        return target


class Writer:
    """A new body's file on one device.

    A small body stays in memory and reaches the disk only in :meth:`commit`
    (which a server runs in a thread): creating a file can wait on the
    filesystem's journal while other writers fsync, which must not stall the
    event loop for every object. A body past ``SPILL`` bytes goes to a
    temporary file as it arrives, and the disk is set to write back every
    ``WRITEBACK`` bytes of it at once, so that its flush finds little left to do.
    """

    SPILL = 1 << 20
    WRITEBACK = 8 << 20

    def __init__(self, diskfile: DiskFile) -> None:
        self.diskfile = diskfile
        self._handle: BinaryIO | None = None
        self._path: Path | None = None
        self._held: list[bytes] = []
        self._held_size = 0
        self._written = 0
        self._written_back = 0
        self._done = False

    def write_all(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def write(self, chunk: bytes) -> None:
        if self._handle is None:
            self._held.append(chunk)
            self._held_size += len(chunk)
            if self._held_size > self.SPILL:
                self._spill()
            return
        self._handle.write(chunk)
        self._written += len(chunk)
        if self._written - self._written_back >= self.WRITEBACK:
            self._handle.flush()
            start_writeback(
                self._handle.fileno(), self._written_back, self._written - self._written_back
            )
            self._written_back = self._written

    def _spill(self) -> BinaryIO:
        """The temporary file, made now if it was not, with what was held written to it."""
        if self._handle is None:
            tmp = self.diskfile.device_path / "tmp"
            tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=tmp, prefix=".obj-")
            self._handle, self._path = os.fdopen(fd, "wb"), Path(name)
        for chunk in self._held:
            self._handle.write(chunk)
            self._written += len(chunk)
        self._held, self._held_size = [], 0
        return self._handle

    def commit(self, metadata: dict[str, Any], ext: str = ".data", *, durable: bool = True) -> Path:
        """Append ``metadata``, fsync, and put the file in place as ``<X-Timestamp><ext>``.

        ``durable=False`` leaves out the file's and its directory's fsyncs: the caller
        makes the write durable itself (a :class:`~overcast.object.storage.flush.GroupFlush`).
        """
        handle = self._spill()
        encoded = json.dumps(metadata, separators=(",", ":")).encode()
        handle.write(encoded)
        handle.write(FOOTER.pack(len(encoded), MAGIC))
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
        handle.close()
        timestamp = Timestamp.parse(metadata["X-Timestamp"])
        target_dir = self.diskfile.path
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{timestamp.internal}{ext}"
        assert self._path is not None
        os.replace(self._path, target)
        self._done = True
        if durable:
            _fsync_dir(target_dir)
        self.diskfile.cleanup()
        return target

    def discard(self) -> None:
        if not self._done:
            self._done = True
            if self._handle is not None:
                self._handle.close()
            if self._path is not None:
                self._path.unlink(missing_ok=True)


class Copies:
    """One new body for the replicas a node holds: hashed once (MD5, the ETag), written to each.

    The node receives the body once for all of them; what it hashes is what every
    copy gets, so one hash checks them all against the client's ETag.
    """

    def __init__(self, writers: list[Writer]) -> None:
        self.writers = writers
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    @property
    def etag(self) -> str:
        return self._md5.hexdigest()

    def hash_all(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self._md5.update(chunk)
            self.size += len(chunk)

    def hold(self, chunks: list[bytes]) -> None:
        """A small body: hashed, and held by every writer until the commit."""
        self.hash_all(chunks)
        for writer in self.writers:
            writer.write_all(chunks)

    def commit(self, metadata: dict[str, Any]) -> None:
        """Every copy in place; made durable by the caller's flush (see ``Writer.commit``)."""
        for writer in self.writers:
            writer.commit(metadata, durable=False)


def suffix_hashes(partition_path: Path) -> dict[str, str]:
    """Per suffix of a partition, a hash of the names of its objects' files.

    Two replicas whose suffix hashes agree hold the same versions of the same
    objects (older files are cleaned up after every write), so replication
    compares these first and looks inside only the suffixes that differ.
    """
    hashes = {}
    try:
        suffixes = sorted(os.listdir(partition_path))
    except FileNotFoundError:
        return {}
    for suffix in suffixes:
        listing = suffix_listing(partition_path, suffix)
        if listing:
            text = "\n".join(
                f"{h}/{name}" for h, names in sorted(listing.items()) for name in names
            )
            hashes[suffix] = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    return hashes


def suffix_listing(partition_path: Path, suffix: str) -> dict[str, list[str]]:
    """Per object hash in a suffix, its files' names (sorted)."""
    folder = partition_path / suffix
    try:
        hashes = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    listing = {}
    for hash_ in hashes:
        try:
            names = sorted(n for n in os.listdir(folder / hash_) if n.endswith(EXTENSIONS))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if names:
            listing[hash_] = names
    return listing
