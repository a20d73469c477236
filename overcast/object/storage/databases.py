"""Container and account databases: one SQLite file per container and per account.

A container's database lists its objects (name, timestamp, size, type, ETag,
deleted); an account's lists its containers (with their counts). Both keep
their own stats and metadata. Rows arrive from other servers, possibly late or
twice, so every change is a *merge*: a row replaces what is there only when its
timestamp is newer, which makes replicas converge whatever the order.

These calls are synchronous (a storage node runs them in threads).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast.object.timestamps import Timestamp

ZERO = Timestamp(0)
MAX_CHAR = "\U0010ffff"

SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS item (
    name TEXT PRIMARY KEY,
    timestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,       -- objects: bytes; containers: bytes used
    count INTEGER NOT NULL DEFAULT 0,      -- containers: objects held
    content_type TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    policy INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}'       -- containers: put/delete timestamps
) WITHOUT ROWID;
"""


def _count(row: str, sign: str) -> str:
    """SQL that adds (``+``) or takes away (``-``) the ``new`` or ``old`` row in its totals."""
    live = f"(1 - {row}.deleted)"
    make = (
        f"INSERT INTO totals (policy) SELECT {row}.policy "
        f"WHERE NOT EXISTS (SELECT 1 FROM totals WHERE policy = {row}.policy);"
        if sign == "+"
        else ""
    )
    return (
        f"{make} UPDATE totals SET rows = rows {sign} {live}, "
        f"count = count {sign} {live} * {row}.count, size = size {sign} {live} * {row}.size "
        f"WHERE policy = {row}.policy;"
    )


TOTALS = f"""
CREATE TABLE IF NOT EXISTS totals (
    policy INTEGER PRIMARY KEY,
    rows INTEGER NOT NULL DEFAULT 0,       -- live rows: objects, or an account's containers
    count INTEGER NOT NULL DEFAULT 0,      -- the live rows' counts: an account's objects
    size INTEGER NOT NULL DEFAULT 0        -- the live rows' bytes
);
CREATE TRIGGER IF NOT EXISTS item_added AFTER INSERT ON item BEGIN {_count("new", "+")} END;
CREATE TRIGGER IF NOT EXISTS item_removed AFTER DELETE ON item BEGIN {_count("old", "-")} END;
CREATE TRIGGER IF NOT EXISTS item_changed AFTER UPDATE ON item BEGIN
    {_count("old", "-")} {_count("new", "+")}
END;
"""
"""Each policy's live totals, kept by triggers as rows change (not with ``INSERT OR IGNORE``,
which the outer upsert's conflict clause would override): a HEAD reads them, never
counting rows (Swift's databases keep their stats the same way)."""
SCHEMA_VERSION = 1
"""``PRAGMA user_version``: 1 has ``totals``, which older databases get when first opened."""


ROW_COLUMNS = "name, timestamp, deleted, size, count, content_type, etag, policy, extra"
"""An ``item`` row's columns, in the order of :class:`Row`'s fields."""
REPLICATED_INFO = ("account", "container", "policy")
"""What a new replica takes from the one it is made from (besides its times and metadata)."""


class DatabaseGone(Exception):
    """The database does not exist (or its container or account was deleted)."""


@dataclass(frozen=True)
class Row:
    name: str
    timestamp: Timestamp
    deleted: bool = False
    size: int = 0
    count: int = 0
    content_type: str = ""
    etag: str = ""
    policy: int = 0
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class Subdir:
    """A ``delimiter`` listing's folded names: everything under ``name``."""

    name: str


class Database:
    """What containers and accounts share: info, metadata, stats and merged rows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn, inode = CONNECTIONS.take(self.path, create=create)
        try:
            yield conn
        except BaseException:
            conn.close()  # it may be mid-statement: never lend it again
            raise
        CONNECTIONS.give_back(self.path, conn, inode)

    @contextmanager
    def _write(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        with self._connect(create=create) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _info(conn: sqlite3.Connection) -> dict[str, str]:
        return dict(conn.execute("SELECT key, value FROM info").fetchall())

    @staticmethod
    def _set(conn: sqlite3.Connection, **values: object) -> None:
        conn.executemany(
            "INSERT INTO info (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, str(v)) for k, v in values.items()],
        )

    def exists(self) -> bool:
        return self.path.exists()

    def initialize(self, timestamp: Timestamp, **info: object) -> bool:
        """Create (or revive) the database at ``timestamp``; False if it already was live."""
        with self._write(create=True) as conn:
            current = self._info(conn)
            if not current:
                self._set(
                    conn,
                    id=uuid.uuid4(),
                    created_at=timestamp.internal,
                    put_timestamp=timestamp.internal,
                    delete_timestamp=ZERO.internal,
                    metadata="{}",
                    **info,
                )
                return True
            was_live = _live(current)
            if timestamp > Timestamp.parse(current["put_timestamp"]):
                self._set(conn, put_timestamp=timestamp.internal)
            return not was_live

    def info(self) -> dict[str, Any]:
        """Its stats and timestamps (``object_count``, ``bytes_used``, ``put_timestamp``...).

        :raises DatabaseGone: when there is no database.
        """
        with self._connect() as conn:
            info: dict[str, Any] = self._info(conn)
            totals = conn.execute("SELECT policy, rows, count, size FROM totals").fetchall()
        info.update(self._stats(totals))
        info["metadata"] = json.loads(info.get("metadata", "{}"))
        info["deleted"] = not _live(info)
        return info

    def _stats(self, totals: list[tuple[int, int, int, int]]) -> dict[str, Any]:
        """What HEAD shows of each policy's (policy, rows, count, size) totals."""
        return {
            "object_count": sum(rows for _, rows, _, _ in totals),
            "bytes_used": sum(size for _, _, _, size in totals),
        }

    def is_deleted(self) -> bool:
        try:
            return bool(self.info()["deleted"])
        except DatabaseGone:
            return True

    def mark_deleted(self, timestamp: Timestamp) -> None:
        with self._write() as conn:
            current = Timestamp.parse(self._info(conn)["delete_timestamp"])
            if timestamp > current:
                self._set(conn, delete_timestamp=timestamp.internal)

    def update_metadata(self, updates: dict[str, tuple[str, Timestamp]]) -> None:
        """Merge metadata: each key keeps its newest value (an empty value removes it)."""
        with self._write() as conn:
            metadata = json.loads(self._info(conn).get("metadata", "{}"))
            for key, (value, timestamp) in updates.items():
                old = metadata.get(key)
                if old is None or timestamp > Timestamp.parse(old[1]):
                    metadata[key] = [value, timestamp.internal]
            self._set(conn, metadata=json.dumps(metadata, sort_keys=True))

    def merge(self, rows: list[Row], *, if_live: bool = False) -> bool:
        """Apply rows that are newer than what the database holds for their names.

        With ``if_live``, only while the database is not deleted: False when it is.
        """
        with self._write() as conn:
            if if_live and not _live(self._info(conn)):
                return False
            for row in rows:
                old = conn.execute(
                    "SELECT timestamp FROM item WHERE name = ?", (row.name,)
                ).fetchone()
                if old is not None and Timestamp.parse(old[0]) >= row.timestamp:
                    continue
                conn.execute(
                    f"INSERT INTO item ({ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET timestamp = excluded.timestamp, "
                    "deleted = excluded.deleted, size = excluded.size, count = excluded.count, "
                    "content_type = excluded.content_type, etag = excluded.etag, "
                    "policy = excluded.policy, extra = excluded.extra",
                    (
                        row.name,
                        row.timestamp.internal,
                        int(row.deleted),
                        row.size,
                        row.count,
                        row.content_type,
                        row.etag,
                        row.policy,
                        json.dumps(row.extra or {}),
                    ),
                )
        return True

    def rows_since(self, timestamp: Timestamp, limit: int = 1000) -> list[Row]:
        """Rows changed after ``timestamp`` (deleted ones too), oldest first: for replication."""
        return self._rows("timestamp > ? ORDER BY timestamp LIMIT ?", timestamp.internal, limit)

    def _rows(self, condition: str, *params: object) -> list[Row]:
        with self._connect() as conn:
            found = conn.execute(f"SELECT {ROW_COLUMNS} FROM item WHERE {condition}", params)
            return [_row(values) for values in found.fetchall()]

    # -- replication ------------------------------------------------------------------

    def digest(self) -> dict[str, Any]:
        """What two replicas compare: the row count and a hash of every row's name and time."""
        digest = hashlib.md5(usedforsecurity=False)
        count = 0
        with self._connect() as conn:
            for name, timestamp in conn.execute("SELECT name, timestamp FROM item ORDER BY name"):
                digest.update(f"{name}\t{timestamp}\n".encode())
                count += 1
        return {"count": count, "digest": digest.hexdigest()}

    def rows_after(self, name: str, limit: int = 1000) -> list[Row]:
        """Rows (deleted ones too) whose names sort after ``name``: a replica's batch."""
        return self._rows("name > ? ORDER BY name LIMIT ?", name, limit)

    def state(self) -> dict[str, Any]:
        """The database's own record (times, names, policy, metadata with its times)."""
        with self._connect() as conn:
            return self._info(conn)

    def absorb(self, state: dict[str, Any], rows: list[Row]) -> None:
        """Take in another replica's record and rows: the newest of everything wins."""
        kept = {k: v for k, v in state.items() if k in REPLICATED_INFO}
        self.initialize(Timestamp.parse(state["put_timestamp"]), **kept)
        self.mark_deleted(Timestamp.parse(state["delete_timestamp"]))
        metadata = json.loads(state.get("metadata", "{}"))
        self.update_metadata({k: (v, Timestamp.parse(t)) for k, (v, t) in metadata.items()})
        if rows:
            self.merge(rows)

    def listing(
        self,
        *,
        limit: int,
        marker: str = "",
        end_marker: str = "",
        prefix: str = "",
        delimiter: str = "",
        reverse: bool = False,
    ) -> list[Row | Subdir]:
        """Live rows in name order (or reverse) with Swift's listing parameters.

        With a ``delimiter``, names that go on past ``prefix`` to a delimiter fold
        into one :class:`Subdir` (``photos/`` for ``photos/a.jpg`` and ``photos/b.jpg``).
        """
        found: list[Row | Subdir] = []
        low, high = marker, end_marker
        if reverse:
            low, high = end_marker, marker
        with self._connect() as conn:
            while len(found) < limit:
                rows = self._page(conn, low, high, prefix, reverse, limit - len(found))
                if not rows:
                    break
                for row in rows:
                    if delimiter:
                        rest = row.name[len(prefix) :]
                        cut = rest.find(delimiter)
                        if cut >= 0:
                            folded = prefix + rest[: cut + len(delimiter)]
                            if folded != marker:  # the last page ended on this one
                                found.append(Subdir(folded))
                            if reverse:
                                high = folded
                            else:
                                low = folded + MAX_CHAR
                            break
                    found.append(row)
                    if reverse:
                        high = row.name
                    else:
                        low = row.name
                    if len(found) >= limit:
                        break
        return found

    def _page(
        self, conn: sqlite3.Connection, low: str, high: str, prefix: str, reverse: bool, limit: int
    ) -> list[Row]:
        clauses, params = ["deleted = 0"], []
        if low:
            clauses.append("name > ?")
            params.append(low)
        if high:
            clauses.append("name < ?")
            params.append(high)
        if prefix:
            clauses.append("name >= ? AND name < ?")
            params += [prefix, prefix + MAX_CHAR]
        order = "DESC" if reverse else "ASC"
        sql = (
            f"SELECT {ROW_COLUMNS} FROM item WHERE {' AND '.join(clauses)} "
            f"ORDER BY name {order} LIMIT ?"
        )
        return [_row(v) for v in conn.execute(sql, [*params, limit]).fetchall()]

    def is_empty(self) -> bool:
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM item WHERE deleted = 0 LIMIT 1").fetchone() is None


class ContainerDatabase(Database):
    """A container: its objects."""

    def put_object(
        self, name: str, timestamp: Timestamp, size: int, content_type: str, etag: str
    ) -> None:
        self.merge([Row(name, timestamp, False, size, 0, content_type, etag)])

    def delete_object(self, name: str, timestamp: Timestamp) -> None:
        self.merge([Row(name, timestamp, deleted=True)])

    def sync_points(self, sync_to: str) -> tuple[Timestamp, Timestamp]:
        """How far container sync to ``sync_to`` got: (this replica's rows, every row).

        Both start over when the container syncs somewhere new.
        """
        with self._connect() as conn:
            info = self._info(conn)
        if info.get("sync_to") != sync_to:
            return ZERO, ZERO
        return Timestamp.parse(info["sync_point_mine"]), Timestamp.parse(info["sync_point_all"])

    def set_sync_points(self, sync_to: str, mine: Timestamp, everyone: Timestamp) -> None:
        with self._write() as conn:
            self._set(
                conn,
                sync_to=sync_to,
                sync_point_mine=mine.internal,
                sync_point_all=everyone.internal,
            )


class AccountDatabase(Database):
    """An account: its containers, each with its object count and bytes."""

    def _stats(self, totals: list[tuple[int, int, int, int]]) -> dict[str, Any]:
        per_policy = {
            policy: {"container_count": rows, "object_count": count, "bytes_used": size}
            for policy, rows, count, size in totals
            if rows
        }
        return {
            "container_count": sum(rows for _, rows, _, _ in totals),
            "object_count": sum(count for _, _, count, _ in totals),
            "bytes_used": sum(size for _, _, _, size in totals),
            "policies": per_policy,
        }

    def put_container(
        self,
        name: str,
        *,
        put_timestamp: Timestamp,
        delete_timestamp: Timestamp,
        object_count: int,
        bytes_used: int,
        reported_at: Timestamp,
        policy: int = 0,
    ) -> None:
        """A container's report, as of ``reported_at``: a later report replaces it.

        The container is deleted when its delete time is newer than its put time.
        """
        newest = max(put_timestamp, delete_timestamp, reported_at)
        deleted = delete_timestamp > put_timestamp
        extra = {
            "put_timestamp": put_timestamp.internal,
            "delete_timestamp": delete_timestamp.internal,
        }
        self.merge([Row(name, newest, deleted, bytes_used, object_count, "", "", policy, extra)])


class _Connections:
    """Open connections kept per database file, so a request does not open SQLite anew.

    A connection is lent to one thread at a time. A file that was replaced (a
    database removed, then made again) has a new inode: connections to the old
    one are dropped, never used.
    """

    def __init__(self, files: int = 512, per_file: int = 4) -> None:
        self.files = files
        self.per_file = per_file
        self._idle: OrderedDict[Path, list[tuple[sqlite3.Connection, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, path: Path, *, create: bool) -> tuple[sqlite3.Connection, int]:
        """:raises DatabaseGone: when the file does not exist and ``create`` is false."""
        try:
            inode = path.stat().st_ino
        except FileNotFoundError:
            if not create:
                raise DatabaseGone(str(path)) from None
            inode = 0
        with self._lock:
            idle = self._idle.get(path, [])
            while idle:
                conn, its_inode = idle.pop()
                if its_inode == inode:
                    return conn, inode
                conn.close()
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # an acknowledged update is on disk
            if create:
                conn.executescript(SCHEMA)
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                _upgrade(conn)
        except BaseException:
            conn.close()
            raise
        return conn, path.stat().st_ino

    def forget(self) -> None:
        """Drop every kept connection without touching it (in a forked child)."""
        self._idle = OrderedDict()
        self._lock = threading.Lock()

    def give_back(self, path: Path, conn: sqlite3.Connection, inode: int) -> None:
        closing = []
        with self._lock:
            idle = self._idle.setdefault(path, [])
            self._idle.move_to_end(path)
            if len(idle) < self.per_file:
                idle.append((conn, inode))
            else:
                closing.append(conn)
            while len(self._idle) > self.files:
                _, evicted = self._idle.popitem(last=False)
                closing += [c for c, _ in evicted]
        for old in closing:
            old.close()


def _upgrade(conn: sqlite3.Connection) -> None:
    """Give a new database, or one an older Overcast made, its ``totals``, counted once.

    Two processes may both upgrade: the second counts again, to the same totals.
    """
    conn.executescript(
        "BEGIN IMMEDIATE;" + TOTALS + "DELETE FROM totals;"
        "INSERT INTO totals (policy, rows, count, size) "
        "SELECT policy, COUNT(*), COALESCE(SUM(count), 0), COALESCE(SUM(size), 0) "
        "FROM item WHERE deleted = 0 GROUP BY policy;"
        f"PRAGMA user_version = {SCHEMA_VERSION};"
        "COMMIT;"
    )


CONNECTIONS = _Connections()
os.register_at_fork(after_in_child=CONNECTIONS.forget)  # a child never shares a parent's


def row_to_json(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "timestamp": row.timestamp.internal,
        "deleted": row.deleted,
        "size": row.size,
        "count": row.count,
        "content_type": row.content_type,
        "etag": row.etag,
        "policy": row.policy,
        "extra": row.extra or {},
    }


def row_from_json(data: dict[str, Any]) -> Row:
    """:raises KeyError, ValueError: when ``data`` is not a row."""
    return Row(
        str(data["name"]),
        Timestamp.parse(data["timestamp"]),
        bool(data["deleted"]),
        int(data["size"]),
        int(data["count"]),
        str(data["content_type"]),
        str(data["etag"]),
        int(data["policy"]),
        dict(data["extra"]),
    )


def _live(info: dict[str, Any]) -> bool:
    return Timestamp.parse(info["put_timestamp"]) > Timestamp.parse(info["delete_timestamp"])


def _row(values: tuple[Any, ...]) -> Row:
    name, timestamp, deleted, size, count, content_type, etag, policy, extra = values
    return Row(
        name,
        Timestamp.parse(timestamp),
        bool(deleted),
        size,
        count,
        content_type,
        etag,
        policy,
        json.loads(extra),
    )
