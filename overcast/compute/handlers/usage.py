"""``/os-simple-tenant-usage`` (hours of servers in a period) and server diagnostics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest, Conflict
from overcast.common.bus import BusError
from overcast.common.clock import parse_isotime
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_40, V2_48
from overcast.compute.handlers.common import PREFIX, Compute, next_link, query_int
from overcast.compute.models import Instance
from overcast.compute.rpcapi import AgentClient
from overcast.compute.servers.lookup import visible_server
from overcast.compute.servers.views import naive_time
from overcast.compute.service import ComputeService

router = Router(prefix=PREFIX)


def _moment(request: Request, name: str, now: datetime) -> datetime:
    raw = request.query_params.get(name)
    if raw is None:
        return now
    try:
        return parse_isotime(raw.replace(" ", "T"))
    except ValueError:
        raise BadRequest(f"Invalid {name} time: {raw!r} is not an ISO 8601 time.") from None


def _period(request: Request, service: ComputeService) -> tuple[datetime, datetime]:
    now = service.clock.now()
    start, end = _moment(request, "start", now), _moment(request, "end", now)
    if start > end:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, end


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return parse_isotime(moment.isoformat())


def _server_usage(instance: Instance, start: datetime, end: datetime) -> dict[str, Any]:
    launched = _aware(instance.launched_at)
    terminated = _aware(instance.terminated_at)
    seconds = 0.0
    if launched is not None:
        begin = max(start, launched)
        finish = min(end, terminated) if terminated else end
        seconds = max((finish - begin).total_seconds(), 0.0)
    now_or_end = terminated or end
    return {
        "instance_id": instance.uuid,
        "name": instance.display_name,
        "hours": seconds / 3600,
        "memory_mb": instance.memory_mb,
        "local_gb": instance.root_gb,
        "vcpus": instance.vcpus,
        "tenant_id": instance.project_id,
        "flavor": instance.flavor.get("name"),
        "started_at": naive_time(launched),
        "ended_at": naive_time(terminated),
        "state": "terminated" if instance.deleted else instance.vm_state,
        "uptime": int((now_or_end - launched).total_seconds()) if launched else 0,
    }


def _summary(
    project_id: str, usages: list[dict[str, Any]], start: datetime, end: datetime, detailed: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": project_id,
        "total_hours": sum(u["hours"] for u in usages),
        "total_local_gb_usage": sum(u["hours"] * u["local_gb"] for u in usages),
        "total_memory_mb_usage": sum(u["hours"] * u["memory_mb"] for u in usages),
        "total_vcpus_usage": sum(u["hours"] * u["vcpus"] for u in usages),
        "start": naive_time(start),
        "stop": naive_time(end),
    }
    if detailed:
        body["server_usages"] = usages
    return body


async def _instances(
    request: Request,
    ctx: Any,
    service: ComputeService,
    start: datetime,
    end: datetime,
    project_id: str | None,
) -> tuple[list[Instance], int | None]:
    """Servers alive at some moment of [start, end] (deleted ones too), in creation order."""
    query = (
        select(Instance)
        .where(or_(Instance.terminated_at.is_(None), Instance.terminated_at >= start))
        .where(or_(Instance.launched_at.is_(None), Instance.launched_at <= end))
        .order_by(Instance.created_at, Instance.uuid)
    )
    if project_id is not None:
        query = query.where(Instance.project_id == project_id)
    paged = ctx.version >= V2_40
    limit = query_int(request, "limit") if paged else None
    marker = request.query_params.get("marker") if paged else None
    if limit is not None:
        query = query.limit(limit)
    async with service.db.read() as session:
        if marker is not None:
            found = await session.get(Instance, marker)
            if found is None:
                raise BadRequest(f"Marker {marker} could not be found.")
            query = query.where(  # after the marker in (created_at, uuid) order
                or_(
                    Instance.created_at > found.created_at,
                    and_(Instance.created_at == found.created_at, Instance.uuid > marker),
                )
            )
        return list(await session.scalars(query)), limit


@router.get("/os-simple-tenant-usage")
async def list_usage(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-simple-tenant-usage:list")
    start, end = _period(request, service)
    detailed = v.to_bool(request.query_params.get("detailed", "0"))
    rows, limit = await _instances(request, ctx, service, start, end, None)
    per_project: dict[str, list[dict[str, Any]]] = {}
    for instance in rows:
        per_project.setdefault(instance.project_id, []).append(_server_usage(instance, start, end))
    usages = [_summary(p, u, start, end, detailed) for p, u in per_project.items()]
    body: dict[str, Any] = {"tenant_usages": usages}
    if limit is not None and rows and len(rows) == limit:
        body["tenant_usages_links"] = [next_link(request, "os-simple-tenant-usage", rows[-1].uuid)]
    return json_response(body)


@router.get("/os-simple-tenant-usage/{project_id}")
async def show_usage(
    project_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id})
    start, end = _period(request, service)
    rows, limit = await _instances(request, ctx, service, start, end, project_id)
    usages = [_server_usage(i, start, end) for i in rows]
    body: dict[str, Any] = {
        "tenant_usage": _summary(project_id, usages, start, end, True) if usages else {}
    }
    if limit is not None and rows and len(rows) == limit:
        path = f"os-simple-tenant-usage/{project_id}"
        body["tenant_usage_links"] = [next_link(request, path, rows[-1].uuid)]
    return json_response(body)


@router.get("/servers/{server_id}/diagnostics")
async def server_diagnostics(server_id: str, ctx: Context, service: Compute) -> JSONResponse:
    """The guest's diagnostics from its agent (Nova's standard form from 2.48)."""
    async with service.db.read() as session:
        instance = await visible_server(
            session, ctx, server_id, "os_compute_api:os-server-diagnostics"
        )
    if not instance.host or instance.vm_state == "building":
        raise Conflict(
            f"Cannot 'get_diagnostics' instance {server_id} while it is in vm_state "
            f"{instance.vm_state}"
        )
    try:
        data = await AgentClient(service.bus).diagnostics(instance.host, server_id)
    except BusError:
        raise Conflict(f"Instance {server_id} is not ready") from None
    if ctx.version >= V2_48:
        return json_response(data)
    legacy = {f"cpu{d['id']}_time": d["time"] for d in data["cpu_details"]}
    legacy |= {"memory": data["memory_details"]["maximum"] * 1024}
    return json_response(legacy)
