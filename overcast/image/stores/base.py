"""The one small interface every image store implements.

A store keeps image data and nothing else: the image service decides what to
write and records the location a store hands back. Writing is two-phase, so that
an interrupted upload leaves nothing behind::

    writer = store.writer(image_id)
    try:
        for chunk in data:
            await writer.write(chunk)
        location = await writer.commit()     # durable from here on
    except BaseException:
        await writer.abort()                 # removes whatever was written
        raise

Errors (the image API maps each to one status)::

    StoreError (503)
     ├── StorageFull (413)
     └── DataNotFound (the data of an active image is gone)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class StoreError(Exception):
    """The store could not do what was asked; the message says why."""


class StorageFull(StoreError):
    """No room left for the data."""


class DataNotFound(StoreError):
    """No data at this location."""


@dataclass(frozen=True)
class StoreInfo:
    id: str
    type: str
    description: str
    default: bool = False
    read_only: bool = False
    properties: dict[str, Any] = field(default_factory=dict)


class StoreWriter(Protocol):
    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append ``chunk``; the caller does not touch it until this returns.

        :raises StorageFull: when there is no room left.
        :raises StoreError: when the data could not be written.
        """

    async def commit(self) -> str:
        """Make what was written durable and return its location.

        :raises StoreError: when it could not be made durable.
        """

    async def abort(self) -> None:
        """Forget what was written (never raises)."""


class Store(Protocol):
    info: StoreInfo

    def writer(self, image_id: str) -> StoreWriter:
        """A writer for new data of ``image_id``."""

    def read(
        self, location: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """The data at ``location``, from ``offset``, at most ``length`` bytes.

        :raises DataNotFound: when there is no data at ``location``.
        """

    async def delete(self, location: str) -> None:
        """Remove the data at ``location`` (missing data is not an error)."""

    async def sweep(self) -> int:
        """Remove what interrupted writers left behind; returns how many leftovers went."""
