"""Reading list queries and download ranges."""

from __future__ import annotations

import pytest

from overcast.common.api.errors import BadRequest
from overcast.image.data import RangeNotSatisfiable, parse_range
from overcast.image.listing import parse_query


def query(*items: tuple[str, str]):  # type: ignore[no-untyped-def]
    return parse_query(list(items), default_limit=25, max_limit=1000)


def test_defaults_sort_newest_first_with_id_as_tiebreaker() -> None:
    parsed = query()
    assert parsed.limit == 25 and parsed.member_status == "accepted"
    assert parsed.sort == [("created_at", "desc"), ("id", "desc")]


def test_both_sort_syntaxes() -> None:
    assert query(("sort", "name:asc,size")).sort == [
        ("name", "asc"),
        ("size", "desc"),
        ("id", "desc"),
    ]
    classic = query(("sort_key", "name"), ("sort_key", "size"), ("sort_dir", "asc"))
    assert classic.sort == [("name", "asc"), ("size", "asc"), ("id", "asc")]


def test_limit_is_capped() -> None:
    assert query(("limit", "5000")).limit == 1000


@pytest.mark.parametrize(
    "item",
    [
        ("limit", "-1"),
        ("limit", "ten"),
        ("sort_key", "owner"),
        ("sort_dir", "up"),
        ("visibility", "everyone"),
        ("member_status", "maybe"),
        ("changes-since", "2020-01-01"),
        ("size_min", "big"),
        ("created_at", "gt:yesterday"),
        ("os_hidden", "maybe"),
        ("protected", "1"),
    ],
)
def test_bad_parameters_are_refused(item: tuple[str, str]) -> None:
    with pytest.raises(BadRequest):
        query(item)


def test_mixed_sort_syntaxes_are_refused() -> None:
    with pytest.raises(BadRequest, match="cannot be combined"):
        query(("sort", "name"), ("sort_key", "size"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 10)),
        ("bytes=90-", (90, 10)),
        ("bytes=-5", (95, 5)),
        ("bytes=95-200", (95, 5)),
        (None, None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=a-b", None),
    ],
)
def test_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-10", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)
