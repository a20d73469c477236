"""``GET /v2/images``: Glance's filters, visibility rules, sorting and keyset pagination.

Query parameters that are not one of Glance's named filters filter on image
properties (``?os_distro=debian``). Several filters take ``in:a,b`` lists; the
time stamps take ``gt:``/``gte:``/``lt:``/``lte:``/``eq:``/``neq:`` comparisons.
Sorting defaults to newest first; ``id`` always breaks ties, so that the
``marker`` of a page is a position that does not move.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.sql import Select

from overcast.common.api.errors import BadRequest
from overcast.common.clock import parse_isotime
from overcast.image.access import Caller
from overcast.image.models import Image, ImageMember, ImageProperty, ImageTag

SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
)
VISIBILITY_FILTERS = ("community", "public", "private", "shared", "all")
MEMBER_STATUS_FILTERS = ("pending", "accepted", "rejected", "all")
IN_FILTERS = ("id", "name", "status", "container_format", "disk_format", "owner", "visibility")
TIME_FILTERS = ("created_at", "updated_at")
TIME_OPERATORS = {
    "gt": lambda col, t: col > t,
    "gte": lambda col, t: col >= t,
    "lt": lambda col, t: col < t,
    "lte": lambda col, t: col <= t,
    "eq": lambda col, t: col == t,
    "neq": lambda col, t: col != t,
}
NAMED = (
    *IN_FILTERS,
    *TIME_FILTERS,
    "size",
    "size_min",
    "size_max",
    "protected",
    "os_hidden",
    "tag",
    "member_status",
    "limit",
    "marker",
    "sort",
    "sort_key",
    "sort_dir",
)


@dataclass
class Query:
    """A parsed image list request."""

    limit: int
    marker: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    visibility: str | None = None
    member_status: str = "accepted"
    conditions: list[ColumnElement[bool]] = field(default_factory=list)


def parse_query(items: Sequence[tuple[str, str]], *, default_limit: int, max_limit: int) -> Query:
    """Read the query string (repeated keys kept, for ``tag`` and ``sort_key``).

    :raises BadRequest: naming the first parameter that is not valid.
    """
    params: dict[str, list[str]] = {}
    for key, value in items:
        params.setdefault(key, []).append(value)
    one = {key: values[-1] for key, values in params.items()}
    query = Query(limit=min(_limit(one.get("limit"), default_limit), max_limit))
    query.marker = one.get("marker") or None
    query.sort = _sort(params)
    if "changes-since" in one:
        raise BadRequest('The "changes-since" filter is no longer available on v2.')
    visibility = one.get("visibility")
    if visibility is not None and visibility not in VISIBILITY_FILTERS:
        raise BadRequest(f"Invalid visibility value: {visibility}")
    query.visibility = visibility
    member_status = one.get("member_status", "accepted")
    if member_status not in MEMBER_STATUS_FILTERS:
        raise BadRequest(f"Invalid status: {member_status}")
    query.member_status = member_status
    query.conditions = _conditions(one, params)
    return query


def _limit(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    return limit


def _sort(params: dict[str, list[str]]) -> list[tuple[str, str]]:
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in params:
        if "sort_key" in params or "sort_dir" in params:
            raise BadRequest("Old and new sorting syntax cannot be combined")
        for part in params["sort"][-1].strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(_sort_key(key.strip()))
            dirs.append(_sort_dir(direction.strip() or "desc"))
    else:
        keys = [_sort_key(key.strip()) for key in params.get("sort_key", [])]
        dirs = [_sort_dir(d.strip()) for d in params.get("sort_dir", [])]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise BadRequest("Number of sort dirs does not match the number of sort keys")
    if not keys:
        keys = ["created_at"]
    if not dirs:
        dirs = ["desc"]
    if len(dirs) == 1:
        dirs = dirs * len(keys)
    sort = list(zip(keys, dirs, strict=True))
    if "id" not in keys:
        sort.append(("id", dirs[-1]))
    return sort


def _sort_key(key: str) -> str:
    if key not in SORT_KEYS:
        raise BadRequest(
            f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}."
        )
    return key


def _sort_dir(direction: str) -> str:
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return direction


def _conditions(one: dict[str, str], params: dict[str, list[str]]) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for name in IN_FILTERS:
        if name in one and name != "visibility":
            column = getattr(Image, name)
            values = _in_values(one[name])
            found.append(column.in_(values) if len(values) > 1 else column == values[0])
    for name in TIME_FILTERS:
        if name in one:
            found.append(_time_condition(getattr(Image, name), name, one[name]))
    for name, compare in (
        ("size", Image.size.__eq__),
        ("size_min", Image.size.__ge__),
        ("size_max", Image.size.__le__),
    ):
        if name in one:
            found.append(compare(_integer(name, one[name])))
    found.append(Image.os_hidden.is_(_boolean("os_hidden", one.get("os_hidden", "false"))))
    if "protected" in one:
        found.append(Image.protected.is_(_boolean("protected", one["protected"])))
    for tag in params.get("tag", []):
        found.append(exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag.strip()))
    for name, value in one.items():
        if name not in NAMED:
            found.append(
                exists().where(
                    ImageProperty.image_id == Image.id,
                    ImageProperty.name == name,
                    ImageProperty.value == value,
                )
            )
    return found


def _in_values(raw: str) -> list[str]:
    if not raw.startswith("in:"):
        return [raw]
    try:
        values = next(csv.reader([raw[3:]], skipinitialspace=True))
    except (csv.Error, StopIteration):
        raise BadRequest(f"Invalid list of values: {raw}") from None
    return values or [""]


def _time_condition(column: Any, name: str, raw: str) -> ColumnElement[bool]:
    operator, sep, text = raw.partition(":")
    if not sep or operator not in TIME_OPERATORS:
        operator, text = "eq", raw
    try:
        moment: datetime = parse_isotime(text)
    except ValueError:
        raise BadRequest(
            f"Unable to filter on a {name} of {raw!r}: not an ISO 8601 time."
        ) from None
    result: ColumnElement[bool] = TIME_OPERATORS[operator](column, moment)
    return result


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Unable to filter on a {name} of {raw!r}: not an integer.") from None


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise BadRequest(
            f"Invalid value '{raw}' for '{name}' filter. Valid values are 'true' or 'false'."
        )
    return lowered == "true"


def visibility_clause(caller: Caller, query: Query) -> ColumnElement[bool]:
    """The images ``caller`` may list, narrowed by the ``visibility`` filter."""
    wanted = query.visibility
    if caller.is_admin:
        if wanted in (None, "all"):
            return true()
        return Image.visibility == wanted
    own = Image.owner == caller.project_id
    shared = and_(Image.visibility == "shared", _member_of(caller, query.member_status))
    clauses = {
        "public": Image.visibility == "public",
        "community": Image.visibility == "community",
        "private": and_(Image.visibility == "private", own),
        "shared": and_(
            Image.visibility == "shared",
            or_(own, shared) if query.member_status == "all" else shared,
        ),
    }
    if wanted in clauses:
        return clauses[wanted]
    default = or_(own, Image.visibility == "public", shared)
    return or_(default, Image.visibility == "community") if wanted == "all" else default


def _member_of(caller: Caller, status: str) -> ColumnElement[bool]:
    if caller.project_id is None:
        return false()
    condition = and_(ImageMember.image_id == Image.id, ImageMember.member == caller.project_id)
    if status != "all":
        condition = and_(condition, ImageMember.status == status)
    return exists().where(condition)


def _sort_column(key: str) -> Any:
    column = getattr(Image, key)
    if key == "size":
        return func.coalesce(column, -1)
    if key in ("name", "container_format", "disk_format"):
        return func.coalesce(column, "")
    return column


def statement(caller: Caller, query: Query, marker: Image | None) -> Select[Any]:
    """The SELECT of one page (one more row than ``limit``, to tell if more follow)."""
    conditions = [Image.deleted.is_(False), visibility_clause(caller, query), *query.conditions]
    if marker is not None:
        conditions.append(_after(query.sort, marker))
    order = [
        _sort_column(key).desc() if direction == "desc" else _sort_column(key).asc()
        for key, direction in query.sort
    ]
    return select(Image).where(*conditions).order_by(*order).limit(query.limit)


def _after(sort: list[tuple[str, str]], marker: Image) -> ColumnElement[bool]:
    """Rows that sort after ``marker``: (k1 > m1) or (k1 = m1 and k2 > m2) or ..."""
    alternatives = []
    for index, (key, direction) in enumerate(sort):
        equal = [_sort_column(k) == _marker_value(k, marker) for k, _ in sort[:index]]
        column, value = _sort_column(key), _marker_value(key, marker)
        beyond = column < value if direction == "desc" else column > value
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def _marker_value(key: str, marker: Image) -> Any:
    value = getattr(marker, key)
    if value is None:
        return -1 if key == "size" else ""
    return value
