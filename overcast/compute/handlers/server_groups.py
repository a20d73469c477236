"""``/os-server-groups``: affinity and anti-affinity groups (``policies`` before 2.64)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute import groups, quotas
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_13, V2_15, V2_64
from overcast.compute.handlers.common import PREFIX, Compute, json_body, query_int
from overcast.compute.models import ServerGroup

router = Router(prefix=f"{PREFIX}/os-server-groups")
OLD_POLICIES = ("affinity", "anti-affinity")


def _create_schema(version: tuple[int, int]) -> dict[str, Any]:
    allowed = list(groups.POLICIES if version >= V2_15 else OLD_POLICIES)
    if version >= V2_64:
        inner = v.object_of(
            {
                "name": v.name(),
                "policy": {"type": "string", "enum": allowed},
                "rules": v.object_of({"max_server_per_host": v.integer(1)}),
            },
            required=("name", "policy"),
        )
    else:
        inner = v.object_of(
            {
                "name": v.name(),
                "policies": {
                    "type": "array",
                    "items": {"type": "string", "enum": allowed},
                    "minItems": 1,
                    "maxItems": 1,
                    "uniqueItems": True,
                },
            },
            required=("name", "policies"),
        )
    return v.wrapped("server_group", inner)


def _view(ctx: RequestContext, group: ServerGroup) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.uuid,
        "name": group.name,
        "members": [m.instance_uuid for m in group.members],
    }
    if ctx.version >= V2_64:
        body["policy"] = group.policy
        body["rules"] = group.rules
    else:
        body["policies"] = [group.policy]
        body["metadata"] = {}
    if ctx.version >= V2_13:
        body["project_id"] = group.project_id
        body["user_id"] = group.user_id
    return body


@router.post("")
async def create_group(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-server-groups:create", {"project_id": ctx.project_id or ""})
    body = (await json_body(request, _create_schema(ctx.version)))["server_group"]
    policy = body["policy"] if ctx.version >= V2_64 else body["policies"][0]
    rules = {k: v.to_int(k, val, 1) for k, val in body.get("rules", {}).items()}
    groups.check_policy(policy, rules)
    auth = ctx.require_auth()
    project_id = auth.project_id or ""
    async with service.db.write() as session:
        limits = await quotas.project_limits(session, service.conf.quota, project_id)
        used = await session.scalar(
            select(func.count()).where(ServerGroup.project_id == project_id)
        )
        if quotas.exceeded(limits["server_groups"], int(used or 0)):
            raise Forbidden("Quota exceeded, too many server groups.")
        group = ServerGroup(
            uuid=str(uuid.uuid4()),
            name=body["name"],
            project_id=project_id,
            user_id=auth.user_id,
            policy=policy,
            rules=rules,
            created_at=service.clock.now(),
            members=[],
        )
        session.add(group)
    return json_response({"server_group": _view(ctx, group)})


@router.get("")
async def list_groups(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-server-groups:index", {"project_id": ctx.project_id or ""})
    query = select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.uuid)
    every = v.to_bool(request.query_params.get("all_projects", False))
    if not (every and ctx.can("os_compute_api:os-server-groups:index:all_projects")):
        query = query.where(ServerGroup.project_id == (ctx.project_id or ""))
    offset = query_int(request, "offset")
    limit = query_int(request, "limit")
    if offset:
        query = query.offset(offset)
    query = query.limit(min(limit if limit is not None else 10**6, service.conf.max_limit))
    async with service.db.read() as session:
        rows = list(await session.scalars(query))
    return json_response({"server_groups": [_view(ctx, g) for g in rows]})


async def _visible(session: Any, ctx: RequestContext, group_id: str, rule: str) -> ServerGroup:
    """The group, if the caller's project sees it (404 otherwise) and ``rule`` allows (403)."""
    group: ServerGroup | None = await session.get(ServerGroup, group_id)
    if group is None or not ctx.can(
        "os_compute_api:os-server-groups:show", {"project_id": group.project_id}
    ):
        raise NotFound(f"Server group {group_id} could not be found.")
    ctx.enforce(rule, {"project_id": group.project_id})
    return group


@router.get("/{group_id}")
async def show_group(group_id: str, ctx: Context, service: Compute) -> JSONResponse:
    async with service.db.read() as session:
        group = await _visible(session, ctx, group_id, "os_compute_api:os-server-groups:show")
    return json_response({"server_group": _view(ctx, group)})


@router.delete("/{group_id}", status=204)
async def delete_group(group_id: str, ctx: Context, service: Compute) -> Response:
    async with service.db.write() as session:
        group = await _visible(session, ctx, group_id, "os_compute_api:os-server-groups:delete")
        await session.delete(group)
    return empty_response(204)
