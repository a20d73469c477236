"""One service's database: SQLite (WAL) by default, PostgreSQL when configured.

SQLite allows one writer at a time across every process that opens the file. A
transaction that starts as a reader and later writes can fail at once with
"database is locked" (the lock upgrade does not wait), which is how a
multi-worker Keystone on SQLite drops requests. So writes here begin with
``BEGIN IMMEDIATE``: they take the write lock up front and wait for it (up to
``busy_timeout``), while reads run concurrently thanks to WAL. Inside one process
the writer engine has a single connection, so writers queue in asyncio instead
of in threads blocked on the file lock; that connection runs its statements
inline on the event loop (:mod:`overcast.common.db.inline_sqlite`), so a
transaction holds it only for its own work.

A task that holds a connection must not ask the same pool for another: with
enough such tasks at once the pool runs dry and every one of them waits for
ever. ``read()`` and ``write()`` refuse such nesting at once with
:class:`NestedSession` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from overcast.common.config import Settings
from overcast.common.db import inline_sqlite


class NestedSession(RuntimeError):
    """A task asked a pool for a connection while already holding one from it."""


def database_url(settings: Settings, service: str) -> str:
    """The URL of ``service``'s database: the shared configured one, or its own SQLite file."""
    if settings.database.url:
        return settings.database.url
    path = (settings.data_dir / f"{service}.db").resolve()
    return f"sqlite+aiosqlite:///{path}"


class Database:
    """Engines and sessions for one database; ``read()`` and ``write()`` open transactions."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 5,
        busy_timeout_ms: int = 60_000,
    ) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.schema = schema
        if self.dialect == "sqlite":
            self._reader = self._sqlite_engine(pool_size, busy_timeout_ms, immediate=False)
            self._writer = self._sqlite_engine(1, busy_timeout_ms, immediate=True)
        else:
            self._reader = self._writer = self._server_engine(pool_size)
        self._read_sessions = async_sessionmaker(self._reader, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._writer, expire_on_commit=False)
        self._held: ContextVar[frozenset[int]] = ContextVar(
            f"db-held-{id(self)}", default=frozenset()
        )
        self.after_write: Callable[[], Awaitable[None]] | None = None
        """Run once each ``write()`` transaction has committed (a change counter's bump)."""

    @classmethod
    def for_service(cls, settings: Settings, service: str) -> Database:
        db = settings.database
        if not db.url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            database_url(settings, service),
            schema=db.schema_name,
            pool_size=db.pool_size,
            busy_timeout_ms=db.sqlite_busy_timeout_ms,
        )

    @property
    def write_engine(self) -> AsyncEngine:
        return self._writer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (it is rolled back at the end).

        :raises NestedSession: when this task already holds a connection of the same pool.
        """
        with self._holding(self._reader):
            async with self._read_sessions() as session:
                yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A read-write transaction, committed when the block ends without an exception.

        :raises NestedSession: when this task already holds a connection of the same pool.
        """
        with self._holding(self._writer):
            async with self._write_sessions() as session, session.begin():
                yield session
        if self.after_write is not None:
            await self.after_write()

    @contextmanager
    def _holding(self, engine: AsyncEngine) -> Iterator[None]:
        held = self._held.get()
        if id(engine) in held:
            raise NestedSession("a session of this pool is already open in this task")
        token = self._held.set(held | {id(engine)})
        try:
            yield
        finally:
            self._held.reset(token)

    async def dispose(self) -> None:
        await self._reader.dispose()
        if self._writer is not self._reader:
            await self._writer.dispose()

    def _sqlite_engine(
        self, pool_size: int, busy_timeout_ms: int, *, immediate: bool
    ) -> AsyncEngine:
        database = self.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        inline: dict[str, Any] = {}
        if database and database != ":memory:":
            inline["async_creator"] = inline_sqlite.creator(database)  # see that module
        engine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=busy_timeout_ms / 1000 + 30,
            **inline,
        )
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver: we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            driver = getattr(dbapi_connection, "driver_connection", None)
            if isinstance(driver, inline_sqlite.InlineConnection):
                driver.begin = begin  # it begins its own transactions, cheaply
                if immediate:  # and waits for other processes' writes without blocking
                    cursor.execute("PRAGMA busy_timeout = 0")
                    driver.lock_wait = busy_timeout_ms / 1000
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            driver = connection.connection.driver_connection
            if not isinstance(driver, inline_sqlite.InlineConnection):
                connection.exec_driver_sql(begin)

        return engine

    def _server_engine(self, pool_size: int) -> AsyncEngine:
        connect_args: dict[str, Any] = {}
        if self.schema:
            connect_args["server_settings"] = {"search_path": self.schema}
        return create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_pre_ping=True,
            connect_args=connect_args,
        )
