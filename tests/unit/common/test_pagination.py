from __future__ import annotations

import pytest

from overcast.common.api.errors import BadRequest
from overcast.common.api.pagination import Page, next_link, paginate


def test_page_from_query() -> None:
    assert Page.from_query({}) == Page()
    assert Page.from_query({"limit": "5", "marker": "m"}) == Page(5, "m")
    assert Page.from_query({"limit": "500"}, max_limit=100).limit == 100
    assert Page.from_query({}, max_limit=100).limit == 100


@pytest.mark.parametrize("limit", ["x", "-1", "1.5"])
def test_bad_limits(limit: str) -> None:
    with pytest.raises(BadRequest):
        Page.from_query({"limit": limit})


def test_paginate_follows_markers() -> None:
    items = ["a", "b", "c", "d", "e"]
    assert paginate(items, Page(2), str) == (["a", "b"], True)
    assert paginate(items, Page(2, "b"), str) == (["c", "d"], True)
    assert paginate(items, Page(2, "d"), str) == (["e"], False)
    assert paginate(items, Page(None, "c"), str) == (["d", "e"], False)
    with pytest.raises(BadRequest):
        paginate(items, Page(2, "zz"), str)


def test_next_link_keeps_filters() -> None:
    link = next_link("http://h/v3/projects", {"name": "x", "marker": "old", "limit": "9"}, "m2", 2)
    assert link == "http://h/v3/projects?name=x&limit=2&marker=m2"
