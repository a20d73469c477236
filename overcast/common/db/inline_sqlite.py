"""SQLite sessions that run SQLAlchemy's synchronous ORM at once, on the event loop.

A local SQLite statement takes microseconds (WAL, ``synchronous = NORMAL``: no
fsync at commit), so nothing is gained by leaving the event loop for it, and a
great deal is lost by the ways of doing so:

* through aiosqlite every statement hopped to a thread and back, and each hop let
  the loop run other tasks first, so a transaction of ten statements held the
  process's one write connection for ten turns of a busy loop;
* through SQLAlchemy's asyncio layer every call runs in a greenlet of its own: a
  spawn and about four switches per statement, half of a short transaction's
  cost, and with the session around it SQLAlchemy was most of a server boot.

So here a session is SQLAlchemy's synchronous :class:`~sqlalchemy.orm.Session` on
a plain ``sqlite3`` connection, behind the coroutine methods of ``AsyncSession``
that the services call (:class:`InlineSession`): ``await session.execute(...)``
runs the statement there and then. The code written for the asyncio session runs
unchanged on PostgreSQL, where :class:`~overcast.common.db.Database` uses the
real ``AsyncSession``.

The one wait is for SQLite's write lock while another *process* writes (readers
never wait, WAL). SQLite's busy handler would sleep through it with the event
loop stopped, so two busy worker processes would take turns at doing anything
at all; instead a write transaction takes the lock before it starts, retrying
and yielding to the loop between tries (:func:`begin`). A connection is checked
out only behind an asyncio semaphore as large as its pool, so a task never
blocks the loop waiting for one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError as DBAPIOperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


class InlineSession:
    """``AsyncSession``'s coroutine methods over a synchronous session; the rest as is."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.sync_session.execute(statement, params, **kw)

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.sync_session.scalar(statement, params, **kw)

    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.sync_session.scalars(statement, params, **kw)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        return self.sync_session.get(entity, ident, **kw)

    async def delete(self, instance: Any) -> None:
        self.sync_session.delete(instance)

    async def flush(self, objects: Any = None) -> None:
        self.sync_session.flush(objects)

    async def merge(self, instance: Any, **kw: Any) -> Any:
        return self.sync_session.merge(instance, **kw)

    async def refresh(self, instance: Any, attribute_names: Any = None, **kw: Any) -> None:
        self.sync_session.refresh(instance, attribute_names, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sync_session, name)  # add, new, identity_map, expunge...


class InlineDatabase:
    """A SQLite file's reader pool and its one writer connection, as inline sessions."""

    def __init__(self, path: str, *, pool_size: int, busy_timeout_ms: int) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.reader = _engine(path, pool_size, busy_timeout_ms, writer=False)
        self.writer = _engine(path, 1, busy_timeout_ms, writer=True)
        self.lock_wait = busy_timeout_ms / 1000
        self._read_slots = asyncio.Semaphore(pool_size)
        self._write_slot = asyncio.Semaphore(1)

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A transaction: a writer's is committed when the block ends without an exception,
        a reader's rolled back."""
        slots = self._write_slot if write else self._read_slots
        async with slots:
            with _session(self.writer if write else self.reader) as session:
                raw = cast(sqlite3.Connection, session.connection().connection.driver_connection)
                if write:
                    await begin(raw, "BEGIN IMMEDIATE", self.lock_wait)
                else:
                    raw.execute("BEGIN")  # one snapshot for every statement of the block
                yield cast(AsyncSession, InlineSession(session))
                if write:
                    session.commit()

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


@contextmanager
def _session(engine: Engine) -> Iterator[Session]:
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()  # the pool's reset ends a reader's transaction


async def begin(connection: sqlite3.Connection, statement: str, lock_wait: float) -> None:
    """Run ``statement`` (``BEGIN IMMEDIATE``): take the write lock, waiting up to
    ``lock_wait`` seconds for another process to release it without blocking the loop.

    :raises sqlalchemy.exc.OperationalError: when the lock stays taken that long (as a
        statement SQLAlchemy ran would).
    """
    deadline = time.monotonic() + lock_wait
    tries = 0
    while True:
        try:
            connection.execute(statement)
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise DBAPIOperationalError(statement, None, exc) from exc
        # Another process holds the lock for its (short) transaction: let this loop's
        # other work run meanwhile, then sleep once nothing else does.
        tries += 1
        await asyncio.sleep(0 if tries < 4 else 0.001)


def _engine(path: str, pool_size: int, busy_timeout_ms: int, *, writer: bool) -> Engine:
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        creator=_connector(path),
        pool_size=pool_size,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(connection: sqlite3.Connection, _record: Any) -> None:
        connection.isolation_level = None  # transactions are begun here, not by the driver
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        if writer:  # it waits for other processes' writes in begin(), yielding meanwhile
            connection.execute("PRAGMA busy_timeout = 0")

    return engine


def _connector(path: str) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    return connect
