"""Listing servers: Nova's filters, sorting and pagination.

A project member sees the project's live servers; admins may ask for every
project's (``all_tenants``) and for deleted ones. ``changes-since`` shows
deleted servers too, so clients can learn what went away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api.errors import BadRequest, Forbidden
from overcast.common.auth.context import RequestContext
from overcast.common.clock import parse_isotime
from overcast.compute.api_versions import V2_26, V2_38, V2_66
from overcast.compute.models import Instance, InstanceTag
from overcast.compute.states import states_for_status

SORT_KEYS = {
    "created_at": Instance.created_at,
    "display_name": Instance.display_name,
    "updated_at": Instance.updated_at,
    "launched_at": Instance.launched_at,
    "terminated_at": Instance.terminated_at,
    "uuid": Instance.uuid,
    "vm_state": Instance.vm_state,
    "task_state": Instance.task_state,
    "power_state": Instance.power_state,
    "host": Instance.host,
    "node": Instance.node,
    "availability_zone": Instance.availability_zone,
    "hostname": Instance.hostname,
    "image_ref": Instance.image_ref,
    "key_name": Instance.key_name,
    "project_id": Instance.project_id,
    "user_id": Instance.user_id,
    "locked": Instance.locked,
    "display_description": Instance.display_description,
    "launch_index": Instance.launch_index,
    "reservation_id": Instance.reservation_id,
}


@dataclass
class Page:
    servers: list[Instance]
    full: bool


def _truthy(raw: str) -> bool:
    return raw.lower() in ("1", "true", "t", "yes", "y", "on", "")


def _statement(request: Request, ctx: RequestContext) -> tuple[Select[Any], re.Pattern[str] | None]:
    params = request.query_params
    admin = ctx.can("context_is_admin")
    statement = select(Instance)
    all_tenants = "all_tenants" in params and _truthy(params["all_tenants"])
    if all_tenants and not ctx.can("os_compute_api:servers:detail:get_all_tenants"):
        raise Forbidden("Policy doesn't allow os_compute_api:servers:detail:get_all_tenants.")
    project = params.get("project_id") or params.get("tenant_id")
    if not (all_tenants and admin) or project:
        statement = statement.where(
            Instance.project_id == ((project if admin else None) or ctx.project_id or "")
        )
    changes = params.get("changes-since")
    deleted = params.get("deleted")
    if changes:
        try:
            statement = statement.where(Instance.updated_at >= parse_isotime(changes))
        except ValueError:
            raise BadRequest(
                f"Invalid input for field/attribute changes-since. Value: {changes}."
            ) from None
    elif deleted is not None and admin:
        statement = statement.where(Instance.deleted.is_(_truthy(deleted)))
    else:
        statement = statement.where(Instance.deleted.is_(False))
    before = params.get("changes-before")
    if before and ctx.version >= V2_66:
        try:
            statement = statement.where(Instance.updated_at <= parse_isotime(before))
        except ValueError:
            raise BadRequest(
                f"Invalid input for field/attribute changes-before. Value: {before}."
            ) from None
    simple = {
        "reservation_id": Instance.reservation_id,
        "image": Instance.image_ref,
        "key_name": Instance.key_name,
        "availability_zone": Instance.availability_zone,
    }
    for param, column in simple.items():
        if param in params:
            value = (
                params[param].rstrip("/").rsplit("/", 1)[-1] if param == "image" else params[param]
            )
            statement = statement.where(column == value)
    if "flavor" in params:
        statement = statement.where(Instance.flavor["flavorid"].as_string() == params["flavor"])
    if admin:
        for param, column in (("host", Instance.host), ("node", Instance.node)):
            if param in params:
                statement = statement.where(column == params[param])
    if "locked" in params:
        statement = statement.where(Instance.locked.is_(_truthy(params["locked"])))
    if ctx.version >= V2_26:
        statement = _tag_filters(request, statement)
    statuses = set(params.getlist("status"))
    if statuses:
        vm_states, task_states = states_for_status(statuses)
        if not vm_states:
            if ctx.version >= V2_38:
                raise BadRequest("Invalid status value")
            statement = statement.where(Instance.uuid.is_(None))
        else:
            statement = statement.where(Instance.vm_state.in_(vm_states))
            if None not in task_states:
                statement = statement.where(Instance.task_state.in_(task_states))
    name = params.get("name")
    try:
        pattern = re.compile(name) if name else None
    except re.error:
        raise BadRequest(f"Invalid regular expression for name filter: {name}") from None
    prefix = _anchored_prefix(name or "")
    if prefix:  # LIKE narrows by the index (ignoring case on SQLite), substr decides
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            Instance.display_name.like(f"{escaped}%", escape="\\"),
            func.substr(Instance.display_name, 1, len(prefix)) == prefix,
        )
        if name == f"^{prefix}":
            pattern = None  # the database matched it whole, so it can apply the limit too
    return statement, pattern


_SPECIAL = set(".^$*+?{}[]\\|()")


def _anchored_prefix(name: str) -> str:
    """The literal text every match of the regular expression ``name`` starts with."""
    if not name.startswith("^") or "|" in name:
        return ""
    literal: list[str] = []
    for char in name[1:]:
        if char in _SPECIAL:
            if char in "*?{":  # the character before it may be absent
                literal = literal[:-1]
            break
        literal.append(char)
    return "".join(literal)


def _tag_filters(request: Request, statement: Select[Any]) -> Select[Any]:
    params = request.query_params
    tags = [t for t in params.get("tags", "").split(",") if t]
    for tag in tags:
        statement = statement.where(
            Instance.uuid.in_(select(InstanceTag.instance_uuid).where(InstanceTag.tag == tag))
        )
    any_tags = [t for t in params.get("tags-any", "").split(",") if t]
    if any_tags:
        statement = statement.where(
            Instance.uuid.in_(
                select(InstanceTag.instance_uuid).where(InstanceTag.tag.in_(any_tags))
            )
        )
    for tag in [t for t in params.get("not-tags", "").split(",") if t]:
        statement = statement.where(
            Instance.uuid.not_in(select(InstanceTag.instance_uuid).where(InstanceTag.tag == tag))
        )
    return statement


def _order(request: Request, statement: Select[Any]) -> Select[Any]:
    keys = request.query_params.getlist("sort_key") or ["created_at"]
    dirs = request.query_params.getlist("sort_dir") or ["desc"]
    order = []
    for index, key in enumerate(keys):
        column = SORT_KEYS.get(key)
        if column is None:
            raise BadRequest(f"Invalid input for query parameters sort_key. Value: {key}.")
        direction = dirs[min(index, len(dirs) - 1)]
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid input for query parameters sort_dir. Value: {direction}.")
        order.append(column.asc() if direction == "asc" else column.desc())
    return statement.order_by(*order, Instance.uuid.desc())


async def page(
    session: AsyncSession, request: Request, ctx: RequestContext, max_limit: int
) -> Page:
    raw_limit = request.query_params.get("limit")
    try:
        limit = min(int(raw_limit), max_limit) if raw_limit is not None else max_limit
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    statement, pattern = _statement(request, ctx)
    marker = request.query_params.get("marker")
    ordered = _order(request, statement)
    if pattern is None and marker is None:
        ordered = ordered.limit(limit)  # else the name or the marker decides in Python
    found = list(await session.scalars(ordered))
    if pattern is not None:
        found = [i for i in found if pattern.search(i.display_name)]
    if marker is not None:
        ids = [i.uuid for i in found]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        found = found[ids.index(marker) + 1 :]
    return Page(found[:limit], len(found) >= limit > 0)
