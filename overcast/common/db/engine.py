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
    """Sessions of one database; ``read()`` and ``write()`` open transactions.

    On SQLite they are inline sessions (:mod:`overcast.common.db.inline_sqlite`); on
    PostgreSQL, asyncio sessions on asyncpg. Both offer ``AsyncSession``'s methods.
    """

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
        self._busy_timeout_ms = busy_timeout_ms
        self._inline: inline_sqlite.InlineDatabase | None = None
        self._engine: AsyncEngine | None = None
        if self.dialect == "sqlite":
            path = self.url.database
            if not path or path == ":memory:":
                raise ValueError("an SQLite database must be a file")
            self._inline = inline_sqlite.InlineDatabase(
                path, pool_size=pool_size, busy_timeout_ms=busy_timeout_ms
            )
        else:
            self._engine = self._server_engine(pool_size)
            self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        self._held: ContextVar[frozenset[str]] = ContextVar(
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
        """An asyncio engine for migrations (on SQLite, one of its own, made on first use)."""
        if self._engine is None:
            self._engine = self._sqlite_engine()
        return self._engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (it is rolled back at the end).

        :raises NestedSession: when this task already holds a connection of the same pool.
        """
        with self._holding("read"):
            if self._inline is not None:
                async with self._inline.session(write=False) as session:
                    yield session
            else:
                async with self._sessions() as session:
                    yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A read-write transaction, committed when the block ends without an exception.

        :raises NestedSession: when this task already holds a connection of the same pool.
        """
        with self._holding("write" if self._inline is not None else "read"):
            if self._inline is not None:
                async with self._inline.session(write=True) as session:
                    yield session
            else:
                async with self._sessions() as session, session.begin():
                    yield session
        if self.after_write is not None:
            await self.after_write()

    @contextmanager
    def _holding(self, pool: str) -> Iterator[None]:
        held = self._held.get()
        if pool in held:
            raise NestedSession("a session of this pool is already open in this task")
        token = self._held.set(held | {pool})
        try:
            yield
        finally:
            self._held.reset(token)

    async def dispose(self) -> None:
        if self._inline is not None:
            self._inline.dispose()
        if self._engine is not None:
            await self._engine.dispose()

    def _sqlite_engine(self) -> AsyncEngine:
        """An aiosqlite engine whose transactions take the write lock up front."""
        busy_timeout_ms = self._busy_timeout_ms
        engine = create_async_engine(self.url, pool_size=1, max_overflow=0)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver: we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

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
