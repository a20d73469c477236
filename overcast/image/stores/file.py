"""The ``file`` store: image data as files in a directory on local disk.

Data is written to ``.partial/<image>.<random>.part`` while it streams, under an
exclusive ``flock`` that lives as long as the writer, then fsync'd and renamed to
``<image>``: a reader never sees a partial file, and a partial file nobody holds
a lock on was left by a writer that died, which :meth:`FileStore.sweep` removes.

Whole, page-aligned buffers (what the upload pipeline hands over) are written
with O_DIRECT: straight from the buffer to the disk, without a copy into the
page cache or a cache full of data nobody is about to read. Anything else (an
unaligned tail, a filesystem without O_DIRECT such as tmpfs) is written through
the page cache, whose writeback the writer starts every :data:`WRITEBACK_BYTES`.
Either way an ``fdatasync`` runs in the background every :data:`SYNC_BYTES`, so
that the final fsync, which the client waits for, has little left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import secrets
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from overcast.image.stores.base import DataNotFound, StorageFull, StoreError, StoreInfo

WRITEBACK_BYTES = 32 << 20
SYNC_BYTES = 128 << 20
DIRECT_ALIGN = 4096
O_DIRECT = getattr(os, "O_DIRECT", 0)
READ_CHUNK = 1 << 20
PARTIAL_DIR = ".partial"
SCHEME = "file://"
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
T = TypeVar("T")


class FileStore:
    def __init__(
        self,
        root: Path,
        executor: Executor,
        *,
        store_id: str = "file",
        default: bool = True,
        read_chunk: int = READ_CHUNK,
    ) -> None:
        self.root = root.resolve()
        self.partial = self.root / PARTIAL_DIR
        self.partial.mkdir(parents=True, exist_ok=True)
        self.executor = executor
        self.read_chunk = read_chunk
        self.info = StoreInfo(
            id=store_id,
            type="file",
            description="Image data in files on this host's disk.",
            default=default,
            properties={"data_dir": str(self.root), "chunk_size": read_chunk},
        )

    def writer(self, image_id: str) -> FileWriter:
        return FileWriter(self, image_id)

    def path_of(self, location: str) -> Path:
        """The file of ``location``.

        :raises DataNotFound: when ``location`` is not a file of this store.
        """
        path = Path(location.removeprefix(SCHEME)) if location.startswith(SCHEME) else None
        if path is None or path.parent != self.root:
            raise DataNotFound(f"{location} is not a location of store {self.info.id!r}")
        return path

    async def read(
        self, location: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path_of(location)
        try:
            fd = await self._run(os.open, path, os.O_RDONLY)
        except FileNotFoundError:
            raise DataNotFound(f"no data at {location}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {location}: {exc.strerror}") from None
        pending: asyncio.Future[bytes] | None = None
        try:
            os.posix_fadvise(fd, offset, 0, os.POSIX_FADV_SEQUENTIAL)
            remaining = os.fstat(fd).st_size - offset if length is None else length
            position = offset
            if remaining > 0:
                pending = self._pread(fd, min(self.read_chunk, remaining), position)
            while pending is not None:
                data = await pending
                pending = None
                if not data:
                    break
                position += len(data)
                remaining -= len(data)
                if remaining > 0:  # read the next chunk while this one is sent
                    pending = self._pread(fd, min(self.read_chunk, remaining), position)
                yield data
        finally:
            if pending is not None:
                await asyncio.wait([pending])
            os.close(fd)

    def _pread(self, fd: int, size: int, position: int) -> asyncio.Future[bytes]:
        return asyncio.get_running_loop().run_in_executor(
            self.executor, os.pread, fd, size, position
        )

    async def delete(self, location: str) -> None:
        path = self.path_of(location)
        try:
            await self._run(path.unlink, True)
        except OSError as exc:
            raise StoreError(f"cannot delete {location}: {exc.strerror}") from None

    async def sweep(self) -> int:
        return await self._run(self._sweep)

    def _sweep(self) -> int:
        removed = 0
        for part in self.partial.glob("*.part"):
            try:
                fd = os.open(part, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                part.unlink(missing_ok=True)
                removed += 1
            except BlockingIOError:
                pass  # a live writer holds it
            finally:
                os.close(fd)
        return removed

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


class FileWriter:
    def __init__(self, store: FileStore, image_id: str) -> None:
        self.store = store
        self.final = store.root / image_id
        self.path = store.partial / f"{image_id}.{secrets.token_hex(6)}.part"
        self.fd: int | None = None
        self.direct = bool(O_DIRECT)
        self.written = 0
        self.flushed = 0
        self.synced = 0
        self.syncing: asyncio.Future[None] | None = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        await self.store._run(self._write, chunk)
        if self.written - self.synced >= SYNC_BYTES:
            await self._synced()
            assert self.fd is not None
            self.synced = self.written
            loop = asyncio.get_running_loop()
            self.syncing = loop.run_in_executor(self.store.executor, os.fdatasync, self.fd)

    async def _synced(self) -> None:
        """Wait for the background sync, if one runs.

        :raises StoreError: when it failed.
        """
        if self.syncing is not None:
            syncing, self.syncing = self.syncing, None
            try:
                await syncing
            except OSError as exc:
                raise _store_error(exc, "write") from None

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        try:
            if self.fd is None:
                self.fd = self._open()
            view = memoryview(chunk)
            if self.direct and len(view) % DIRECT_ALIGN:
                self._go_buffered()
            while view:
                try:
                    count = os.write(self.fd, view)
                except OSError as exc:
                    if not (self.direct and exc.errno == errno.EINVAL):
                        raise
                    self._go_buffered()  # the buffer is not aligned after all
                    continue
                view = view[count:]
                self.written += count
            if not self.direct and self.written - self.flushed >= WRITEBACK_BYTES:
                os.posix_fadvise(self.fd, 0, self.written, os.POSIX_FADV_DONTNEED)
                self.flushed = self.written
        except OSError as exc:
            raise _store_error(exc, "write") from None

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(self.path, flags | (O_DIRECT if self.direct else 0), 0o640)
        except OSError as exc:
            if not (self.direct and exc.errno == errno.EINVAL):
                raise
            self.direct = False  # the filesystem has no O_DIRECT
            fd = os.open(self.path, flags, 0o640)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _go_buffered(self) -> None:
        assert self.fd is not None
        fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~O_DIRECT)
        self.direct = False
        self.flushed = self.written

    async def commit(self) -> str:
        try:
            await self._synced()
        except StoreError:
            await self.store._run(self._close)
            raise
        await self.store._run(self._commit)
        return f"{SCHEME}{self.final}"

    def _commit(self) -> None:
        try:
            if self.fd is None:  # no data at all: an empty image
                self.fd = self._open()
            os.fsync(self.fd)
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.replace(self.path, self.final)
            directory = os.open(self.store.root, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise _store_error(exc, "commit") from None
        finally:
            self._close()

    async def abort(self) -> None:
        with contextlib.suppress(StoreError):
            await self._synced()  # the descriptor stays open until no thread uses it
        await self.store._run(self._abort)

    def _abort(self) -> None:
        self._close()
        with contextlib.suppress(OSError):  # else the sweep finds it: nobody holds its lock
            self.path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _store_error(exc: OSError, doing: str) -> StoreError:
    if exc.errno in _FULL:
        return StorageFull(f"image storage is full ({exc.strerror})")
    return StoreError(f"could not {doing} image data: {exc.strerror}")
