"""``limit`` / ``marker`` pagination and the ``next`` links OpenStack lists carry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from overcast.common.api.errors import BadRequest

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """What the client asked for: at most ``limit`` items after ``marker``."""

    limit: int | None = None
    marker: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, max_limit: int | None = None) -> Page:
        """Read ``limit`` and ``marker`` from query parameters.

        :raises BadRequest: when ``limit`` is not a non-negative integer.
        """
        raw = query.get("limit")
        limit: int | None = None
        if raw is not None and raw != "":
            try:
                limit = int(raw)
            except ValueError:
                raise BadRequest(f"limit must be an integer, not {raw!r}.") from None
            if limit < 0:
                raise BadRequest("limit must be zero or more.")
        if max_limit is not None:
            limit = max_limit if limit is None else min(limit, max_limit)
        return cls(limit=limit, marker=query.get("marker") or None)


def paginate(items: Sequence[T], page: Page, key: Callable[[T], str]) -> tuple[list[T], bool]:
    """The items after ``page.marker`` (in the given order), at most ``page.limit`` of them.

    Returns the page and whether more items follow.

    :raises BadRequest: when the marker names no item.
    """
    start = 0
    if page.marker is not None:
        for index, item in enumerate(items):
            if key(item) == page.marker:
                start = index + 1
                break
        else:
            raise BadRequest(f"Marker {page.marker} could not be found.")
    rest = list(items[start:])
    if page.limit is None or len(rest) <= page.limit:
        return rest, False
    return rest[: page.limit], True


def next_link(base_url: str, query: Mapping[str, str], marker: str, limit: int | None) -> str:
    """The URL of the following page: the same query with a new ``marker``."""
    params = {k: v for k, v in query.items() if k not in ("marker", "limit")}
    if limit is not None:
        params["limit"] = str(limit)
    params["marker"] = marker
    return f"{base_url}?{urlencode(params)}"
