"""``/servers/{id}/os-instance-actions``: what was done to a server, by whom, and its events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.clock import parse_isotime
from overcast.compute.api_versions import V2_21, V2_51, V2_58, V2_62, V2_66
from overcast.compute.handlers.common import PREFIX, Compute, newest_first, next_link, query_int
from overcast.compute.models import Instance, InstanceAction, InstanceActionEvent
from overcast.compute.servers.lookup import target
from overcast.compute.servers.views import host_id, naive_time

router = Router(prefix=f"{PREFIX}/servers/{{server_id}}/os-instance-actions")


async def _server(
    session: AsyncSession, ctx: RequestContext, server_id: str, rule: str
) -> Instance:
    """The server, deleted ones included from 2.21 (their history stays readable)."""
    ctx.require_auth()
    instance = await session.get(Instance, server_id)
    gone = instance is None or (instance.deleted and ctx.version < V2_21)
    if gone or not ctx.can("os_compute_api:servers:show", target(instance)):  # type: ignore[arg-type]
        raise NotFound(f"Instance {server_id} could not be found.")
    assert instance is not None
    ctx.enforce(rule, target(instance))
    return instance


def _action(ctx: RequestContext, action: InstanceAction) -> dict[str, Any]:
    body = {
        "action": action.action,
        "instance_uuid": action.instance_uuid,
        "message": action.message,
        "project_id": action.project_id,
        "request_id": action.request_id,
        "start_time": naive_time(action.start_time),
        "user_id": action.user_id,
    }
    if ctx.version >= V2_58:
        body["updated_at"] = naive_time(action.updated_at)
    return body


def _event(ctx: RequestContext, instance: Instance, event: InstanceActionEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": event.event,
        "start_time": naive_time(event.start_time),
        "finish_time": naive_time(event.finish_time),
        "result": event.result,
    }
    details = ctx.can("os_compute_api:os-instance-actions:events:details", target(instance))
    if details:
        body["traceback"] = event.traceback
    if ctx.version >= V2_62:
        if details:
            body["host"] = event.host or ""
        body["hostId"] = host_id(instance.project_id, event.host)
    return body


def _since(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return parse_isotime(raw)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {raw}.") from None


@router.get("")
async def list_actions(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    paged = ctx.version >= V2_58
    query = select(InstanceAction).where(InstanceAction.instance_uuid == server_id)
    since = _since(request, "changes-since") if paged else None
    before = _since(request, "changes-before") if ctx.version >= V2_66 else None
    if since is not None:
        query = query.where(InstanceAction.updated_at >= since)
    if before is not None:
        query = query.where(InstanceAction.updated_at <= before)
    limit = query_int(request, "limit") if paged else None
    marker = request.query_params.get("marker") if paged else None
    async with service.db.read() as session:
        await _server(session, ctx, server_id, "os_compute_api:os-instance-actions:list")
        rows = await newest_first(
            session,
            query,
            InstanceAction.id,
            marker=marker,
            marker_id=select(InstanceAction.id).where(
                InstanceAction.instance_uuid == server_id, InstanceAction.request_id == marker
            ),
            limit=limit,
        )
    body: dict[str, Any] = {"instanceActions": [_action(ctx, r) for r in rows]}
    if limit is not None and rows and len(rows) == limit:
        path = f"servers/{server_id}/os-instance-actions"
        body["links"] = [next_link(request, path, rows[-1].request_id)]
    return json_response(body)


@router.get("/{request_id}")
async def show_action(
    server_id: str, request_id: str, ctx: Context, service: Compute
) -> JSONResponse:
    async with service.db.read() as session:
        instance = await _server(session, ctx, server_id, "os_compute_api:os-instance-actions:show")
        action = await session.scalar(
            select(InstanceAction)
            .where(
                InstanceAction.instance_uuid == server_id, InstanceAction.request_id == request_id
            )
            .order_by(InstanceAction.id.desc())
            .limit(1)
        )
    if action is None:
        raise NotFound(f"Action for request_id {request_id} on instance {server_id} not found")
    body = _action(ctx, action)
    shows_events = ctx.version >= V2_51 or ctx.can(
        "os_compute_api:os-instance-actions:events", target(instance)
    )
    if shows_events:
        body["events"] = [_event(ctx, instance, e) for e in action.events]
    return json_response({"instanceAction": body})
