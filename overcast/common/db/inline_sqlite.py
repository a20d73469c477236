"""SQLite connections run inline on the event loop instead of in a thread.

A process has one SQLite write connection, and its transactions queue for it.
Through aiosqlite every statement of a transaction hops to a thread and back,
and each hop lets the event loop run other tasks first, so a transaction of ten
statements held the connection (and the queue behind it) for ten turns of a busy
loop: the writer was the bottleneck of the whole process. A local SQLite write
takes tens of microseconds (WAL, ``synchronous = NORMAL``: no fsync at commit),
less than a thread hop, so here the statements run at once, and a transaction
holds the connection only for the work it does.

This module gives SQLAlchemy's aiosqlite dialect (through ``async_creator``) a
connection of the shape it expects from aiosqlite, whose coroutines complete
without suspending. Readers use such connections too (a pool of them): through
aiosqlite a one-row read made a dozen thread hops, each a wake-up of another
thread and a turn of the loop, and cost more than the read itself; with the GIL
the threads ran no read in parallel anyway. The one wait is ``BEGIN IMMEDIATE``
while another *process* writes (readers never wait, WAL). SQLite's own busy
handler would sleep through it with the event loop stopped, so two worker
processes that write often would take turns at doing anything at all; with
``lock_wait`` set, the connection instead retries, yielding to the loop between
tries.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor, begin: str | None, lock_wait: float | None) -> None:
        self._cursor = cursor
        self._begin = begin
        self._lock_wait = lock_wait

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        if self._begin is not None and not self._cursor.connection.in_transaction:
            await self._open(self._begin)
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        if self._begin is not None and not self._cursor.connection.in_transaction:
            await self._open(self._begin)
        self._cursor.executemany(sql, parameters)
        return self

    async def _open(self, begin: str) -> None:
        if self._lock_wait is None:
            self._cursor.execute(begin)
            return
        deadline = time.monotonic() + self._lock_wait
        tries = 0
        while True:
            try:
                self._cursor.execute(begin)
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            # Another process holds the write lock for its (short) transaction: let
            # this loop's other work run meanwhile, then sleep once nothing else does.
            tries += 1
            await asyncio.sleep(0 if tries < 4 else 0.001)

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _AtOnce:
    """Stands in for aiosqlite's queue to its thread: runs what is put in it at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # the caller awaits the future and sees it
            future.set_exception(exc)


class InlineConnection:
    """An aiosqlite-shaped connection whose work happens when it is asked for."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _AtOnce()
        self.begin: str | None = None
        self.lock_wait: float | None = None
        """Seconds ``begin`` retries for the write lock (the connection's ``busy_timeout``
        then being 0), yielding to the event loop between tries; None: SQLite's
        busy handler waits, blocking."""
        """The statement that opens a transaction before the first statement outside one.

        Emitting it here, as the sqlite3 module itself does, costs a C call where
        SQLAlchemy's ``begin`` event went through its whole execution path: that
        was a tenth of an instance build. It is None until the connection's
        PRAGMAs have run (``journal_mode`` cannot change inside a transaction).
        """

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor(), self.begin, self.lock_wait)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(database: str) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: inline connections to ``database``."""

    async def connect() -> InlineConnection:
        return InlineConnection(
            sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        )

    return connect
