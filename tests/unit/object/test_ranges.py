"""Range headers and conditional requests, as Swift answers them."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from overcast.object import conditions, ranges


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-4", [(0, 5)]),
        ("bytes=5-", [(5, 10)]),
        ("bytes=-3", [(7, 10)]),
        ("bytes=-30", [(0, 10)]),
        ("bytes=2-100", [(2, 10)]),
        ("bytes=0-1, 8-", [(0, 2), (8, 10)]),
        ("bytes=0-1,20-30", [(0, 2)]),  # the part past the end is dropped
        (None, None),
        ("bytes=5-2", None),  # not a range: ignored, the whole body
        ("bytes=x-1", None),
        ("items=0-1", None),
        ("bytes=", None),
    ],
)
def test_ranges_parse(header: str | None, expected: list[tuple[int, int]] | None) -> None:
    assert ranges.parse(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=20-30", "bytes=-0"])
def test_ranges_past_the_end_are_unsatisfiable(header: str) -> None:
    with pytest.raises(ranges.Unsatisfiable):
        ranges.parse(header, 10)


LAST_MODIFIED = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize(
    ("headers", "reading", "status"),
    [
        ({"If-Match": '"abc"'}, True, None),
        ({"If-Match": "*"}, True, None),
        ({"If-Match": '"other"'}, True, 412),
        ({"If-None-Match": '"abc"'}, True, 304),
        ({"If-None-Match": "*"}, False, 412),
        ({"If-None-Match": '"other"'}, True, None),
        ({"If-Modified-Since": "Tue, 14 Nov 2023 22:13:20 GMT"}, True, 304),
        ({"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}, True, None),
        ({"If-Unmodified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}, True, 412),
        ({"If-Modified-Since": "not a date"}, True, None),
    ],
)
def test_conditions(headers: dict[str, str], reading: bool, status: int | None) -> None:
    assert conditions.evaluate(Headers(headers), "abc", LAST_MODIFIED, reading=reading) == status
