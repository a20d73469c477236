from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.exc import OperationalError

from overcast.common.coherence import DatabaseCounter, FileCounter
from overcast.common.db.engine import Database, NestedSession

GENERATION = Table(
    "generation", MetaData(), Column("name", String(64), primary_key=True), Column("value", Integer)
)


async def test_sqlite_uses_wal_and_commits_writes(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with db.write() as session:
        await session.execute(text("CREATE TABLE t (v INTEGER)"))
        await session.execute(text("INSERT INTO t VALUES (1)"))
    async with db.read() as session:
        assert await session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("abort")
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1
    await db.dispose()


async def test_a_write_waits_for_another_process_without_stopping_the_loop(tmp_path: Path) -> None:
    """Another process's write lock (here: a plain sqlite3 connection's) delays a write,
    while the event loop goes on with other work, and a busy_timeout bounds the wait."""
    path = tmp_path / "x.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.write() as session:
        await session.execute(text("CREATE TABLE t (v INTEGER)"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")

    async def write() -> None:
        async with db.write() as session:
            await session.execute(text("INSERT INTO t VALUES (2)"))

    writing = asyncio.ensure_future(write())
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.005)
        ticks += 1
    assert ticks == 20 and not writing.done()
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 2
    await db.dispose()

    impatient = Database(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=50)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        async with impatient.write() as session:
            await session.execute(text("INSERT INTO t VALUES (3)"))
    other.execute("ROLLBACK")
    other.close()
    await impatient.dispose()


async def test_nested_session_of_the_same_pool_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with db.read():
        with pytest.raises(NestedSession):
            async with db.read():
                pass
        async with db.write():
            pass
    await db.dispose()


async def test_file_counter_is_shared_between_instances(tmp_path: Path) -> None:
    first, second = FileCounter(tmp_path / "gen"), FileCounter(tmp_path / "gen")
    assert await first.current() == await second.current() == 0
    await first.bump()
    await first.bump()
    assert await second.current() == 2
    first.close()
    second.close()


async def test_database_counter(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with db.write_engine.begin() as conn:
        await conn.run_sync(GENERATION.metadata.create_all)
    counter = DatabaseCounter(db, GENERATION, "identity")
    assert await counter.current() == 0
    await counter.bump()
    assert await DatabaseCounter(db, GENERATION, "identity").current() == 1
    await db.dispose()
