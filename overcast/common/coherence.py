"""Change counters that keep per-process caches true across worker processes.

A writer bumps the counter *after* its transaction commits; a reader notes the
counter *before* it loads from the database, and throws its cache away whenever
the counter has moved. So a cache can only ever hold data at least as new as the
counter value it is tagged with, and a change is seen by every process on its
very next request.

Two kinds:

* :class:`FileCounter` - eight bytes in a shared, memory-mapped file. Reading it is
  a memory load (no system call, no database); every process on the host sees a
  bump at once. The default: an all-in-one cloud or workers on one host.
* :class:`DatabaseCounter` - a row in the service's database, for processes on
  several hosts sharing PostgreSQL. Reading costs one small query.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from overcast.common.db.engine import Database

_COUNTER = struct.Struct("<Q")
T = TypeVar("T")


class ChangeCounter(Protocol):
    async def current(self) -> int:
        """The counter's value now."""

    async def bump(self) -> None:
        """Move the counter on; call after the change has committed."""


class FileCounter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < _COUNTER.size:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._fd).st_size < _COUNTER.size:
                    os.ftruncate(self._fd, _COUNTER.size)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _COUNTER.size)

    def value(self) -> int:
        value: int = _COUNTER.unpack_from(self._map, 0)[0]
        return value

    async def current(self) -> int:
        return self.value()

    async def bump(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            _COUNTER.pack_into(self._map, 0, self.value() + 1)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class DatabaseCounter:
    """A counter in ``table`` (columns ``name`` and ``value``), row ``name``."""

    def __init__(self, db: Database, table: Table, name: str) -> None:
        self._db = db
        self._table = table
        self._name = name

    async def current(self) -> int:
        async with self._db.read() as session:
            value = await session.scalar(
                select(self._table.c.value).where(self._table.c.name == self._name)
            )
        return int(value or 0)

    async def bump(self) -> None:
        insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        async with self._db.write() as session:
            await session.execute(
                insert(self._table)
                .values(name=self._name, value=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            await session.execute(
                update(self._table)
                .where(self._table.c.name == self._name)
                .values(value=self._table.c.value + 1)
            )


class CoherentCache:
    """Values loaded from a database, valid for one value of a change counter.

    ``max_values`` bounds it (least recently loaded out first); 0, or no counter,
    turns it off: every read then loads.
    """

    def __init__(self, counter: ChangeCounter | None, max_values: int) -> None:
        self.counter = counter
        self.max_values = max_values if counter is not None else 0
        self.generation = -1
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    async def sync(self) -> int:
        """Empty the cache if a writer moved the counter; returns the generation."""
        if self.counter is None:
            return self.generation
        if isinstance(self.counter, FileCounter):
            current = self.counter.value()  # a memory read: no need for a coroutine
        else:
            current = await self.counter.current()
        if current != self.generation:
            self.clear()
            self.generation = current
        return current

    def clear(self) -> None:
        self._values.clear()

    def forget(self, key: Hashable) -> None:
        """Drop ``key``'s value, so that the next read loads it."""
        self._values.pop(key, None)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value for ``key``, loading (and keeping) it when missing.

        A value loaded while the counter moved is returned but not kept.
        """
        generation = await self.sync()
        if key in self._values:
            value: T = self._values[key]
            return value
        value = await load()
        if self.generation == generation and self.max_values > 0:
            self._values[key] = value
            if len(self._values) > self.max_values:
                self._values.popitem(last=False)
        return value
