"""Container and account databases: merged rows, stats, metadata and Swift's listings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from overcast.object.storage.databases import (
    SCHEMA,
    AccountDatabase,
    ContainerDatabase,
    DatabaseGone,
    Row,
    Subdir,
)
from overcast.object.timestamps import Timestamp


def ts(seconds: float) -> Timestamp:
    return Timestamp.parse(seconds)


def container(tmp_path: Path, *names: str) -> ContainerDatabase:
    db = ContainerDatabase(tmp_path / "c.db")
    db.initialize(ts(1), account="AUTH_a", container="c")
    for i, name in enumerate(names):
        db.put_object(name, ts(10 + i), size=len(name), content_type="text/plain", etag="e")
    return db


def names(found: list[Row | Subdir]) -> list[str]:
    return [f.name if isinstance(f, Row) else f"dir:{f.name}" for f in found]


def test_stats_follow_puts_and_deletes(tmp_path: Path) -> None:
    db = container(tmp_path, "a", "bb", "ccc")
    assert (db.info()["object_count"], db.info()["bytes_used"]) == (3, 6)
    db.delete_object("bb", ts(50))
    assert (db.info()["object_count"], db.info()["bytes_used"]) == (2, 4)
    assert db.info()["account"] == "AUTH_a"


def test_rows_merge_by_timestamp_whatever_their_order(tmp_path: Path) -> None:
    db = container(tmp_path)
    db.delete_object("x", ts(30))
    db.put_object("x", ts(20), 5, "t", "e")  # older than the delete: ignored
    assert db.info()["object_count"] == 0
    db.put_object("x", ts(40), 7, "t", "e2")
    (row,) = db.listing(limit=10)
    assert isinstance(row, Row) and (row.size, row.etag) == (7, "e2")
    again = ContainerDatabase(tmp_path / "other.db")
    again.initialize(ts(1))
    again.merge(db.rows_since(Timestamp(0)))
    assert names(again.listing(limit=10)) == ["x"]


def test_listing_honours_marker_end_marker_prefix_limit_reverse(tmp_path: Path) -> None:
    db = container(tmp_path, "a1", "a2", "b1", "b2", "c1")
    assert names(db.listing(limit=2)) == ["a1", "a2"]
    assert names(db.listing(limit=10, marker="a2")) == ["b1", "b2", "c1"]
    assert names(db.listing(limit=10, end_marker="b2")) == ["a1", "a2", "b1"]
    assert names(db.listing(limit=10, prefix="b")) == ["b1", "b2"]
    assert names(db.listing(limit=10, reverse=True)) == ["c1", "b2", "b1", "a2", "a1"]
    assert names(db.listing(limit=2, reverse=True, marker="b2")) == ["b1", "a2"]


def test_a_delimiter_folds_names_into_subdirs(tmp_path: Path) -> None:
    db = container(tmp_path, "2026/01/a.jpg", "2026/01/b.jpg", "2026/02/c.jpg", "2026/x", "z")
    assert names(db.listing(limit=10, delimiter="/")) == ["dir:2026/", "z"]
    assert names(db.listing(limit=10, prefix="2026/", delimiter="/")) == [
        "dir:2026/01/",
        "dir:2026/02/",
        "2026/x",
    ]
    assert names(db.listing(limit=10, prefix="2026/", delimiter="/", reverse=True)) == [
        "2026/x",
        "dir:2026/02/",
        "dir:2026/01/",
    ]
    assert names(db.listing(limit=1, prefix="2026/", delimiter="/", marker="2026/01/")) == [
        "dir:2026/02/"
    ]


def test_metadata_keeps_the_newest_value_per_key(tmp_path: Path) -> None:
    db = container(tmp_path)
    db.update_metadata({"X-Container-Meta-A": ("1", ts(5)), "X-Container-Meta-B": ("x", ts(5))})
    db.update_metadata({"X-Container-Meta-A": ("0", ts(3)), "X-Container-Meta-B": ("", ts(6))})
    metadata = db.info()["metadata"]
    assert metadata["X-Container-Meta-A"][0] == "1"
    assert metadata["X-Container-Meta-B"][0] == ""  # emptied: the server leaves it out


def test_deleted_and_revived(tmp_path: Path) -> None:
    db = container(tmp_path)
    assert not db.is_deleted() and db.is_empty()
    db.mark_deleted(ts(20))
    assert db.is_deleted()
    assert db.initialize(ts(30)) is True  # a PUT after the delete revives it
    assert not db.is_deleted()
    assert db.initialize(ts(40)) is False
    with pytest.raises(DatabaseGone):
        ContainerDatabase(tmp_path / "missing.db").info()


def test_an_account_counts_its_containers_from_their_reports(tmp_path: Path) -> None:
    db = AccountDatabase(tmp_path / "a.db")
    db.initialize(ts(1), account="AUTH_a")
    report = {"put_timestamp": ts(2), "delete_timestamp": Timestamp(0)}
    db.put_container("c1", **report, object_count=3, bytes_used=30, reported_at=ts(5))
    db.put_container("c2", **report, object_count=1, bytes_used=5, reported_at=ts(5))
    db.put_container("c1", **report, object_count=9, bytes_used=99, reported_at=ts(4))  # stale
    info = db.info()
    assert (info["container_count"], info["object_count"], info["bytes_used"]) == (2, 4, 35)
    db.put_container(
        "c2", put_timestamp=ts(2), delete_timestamp=ts(8), object_count=0, bytes_used=0,
        reported_at=ts(8),
    )  # fmt: skip
    assert names(db.listing(limit=10)) == ["c1"]
    assert db.info()["container_count"] == 1


def test_totals_follow_overwrites_tombstones_and_policies(tmp_path: Path) -> None:
    db = AccountDatabase(tmp_path / "a.db")
    db.initialize(ts(1), account="AUTH_a")
    report = {"put_timestamp": ts(2), "delete_timestamp": Timestamp(0)}
    db.put_container("gold", **report, object_count=2, bytes_used=20, reported_at=ts(3))
    db.put_container("silver", **report, object_count=1, bytes_used=7, reported_at=ts(3), policy=1)
    db.put_container("gold", **report, object_count=5, bytes_used=50, reported_at=ts(4))
    info = db.info()
    assert (info["container_count"], info["object_count"], info["bytes_used"]) == (2, 6, 57)
    assert info["policies"][1] == {"container_count": 1, "object_count": 1, "bytes_used": 7}
    db.merge([Row("silver", ts(9), deleted=True, policy=1)])
    assert db.info()["policies"] == {0: {"container_count": 1, "object_count": 5, "bytes_used": 50}}


def test_a_database_from_before_totals_is_counted_when_first_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA)
    old.executemany(
        "INSERT INTO info (key, value) VALUES (?, ?)",
        [("put_timestamp", ts(1).internal), ("delete_timestamp", Timestamp(0).internal)],
    )
    old.executemany(
        "INSERT INTO item (name, timestamp, deleted, size) VALUES (?, ?, ?, ?)",
        [("a", ts(2).internal, 0, 3), ("b", ts(2).internal, 0, 4), ("c", ts(2).internal, 1, 0)],
    )
    old.commit()
    old.close()
    db = ContainerDatabase(path)
    assert (db.info()["object_count"], db.info()["bytes_used"]) == (2, 7)
    db.put_object("d", ts(3), size=10, content_type="", etag="")
    assert (db.info()["object_count"], db.info()["bytes_used"]) == (3, 17)


def test_a_database_made_again_is_never_read_through_an_old_connection(tmp_path: Path) -> None:
    db = container(tmp_path, "a", "b")
    assert db.info()["object_count"] == 2  # a connection to the first file is now kept
    db.path.unlink()
    with pytest.raises(DatabaseGone):
        db.info()
    again = container(tmp_path, "x")
    assert again.info()["object_count"] == 1
