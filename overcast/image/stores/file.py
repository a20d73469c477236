"""The ``file`` store: image data as files in a directory on local disk.

Data is written to ``.partial/<image>.<random>.part`` while it streams, under an
exclusive ``flock`` that lives as long as the writer, then fsync'd and renamed to
``<image>``: a reader never sees a partial file, and a partial file nobody holds
a lock on was left by a writer that died, which :meth:`FileStore.sweep` removes.

Large writes would otherwise sit in the page cache until the final fsync, which
then stalls for as long as the disk needs to write all of it. So every
:data:`WRITEBACK_BYTES` the writer asks the kernel to start writing back (and to
drop what is already on disk): the disk works while the upload streams, the
final fsync has little left to do, and the page cache does not fill with data
nobody is about to read.
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
        self.written = 0
        self.flushed = 0

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        await self.store._run(self._write, chunk)

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            view = memoryview(chunk)
            while view:
                count = os.write(self.fd, view)
                view = view[count:]
                self.written += count
            if self.written - self.flushed >= WRITEBACK_BYTES:
                os.posix_fadvise(self.fd, 0, self.written, os.POSIX_FADV_DONTNEED)
                self.flushed = self.written
        except OSError as exc:
            raise _store_error(exc, "write") from None

    async def commit(self) -> str:
        await self.store._run(self._commit)
        return f"{SCHEME}{self.final}"

    def _commit(self) -> None:
        try:
            if self.fd is None:  # no data at all: an empty image
                self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
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
