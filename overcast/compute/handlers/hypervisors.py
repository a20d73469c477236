"""``/os-hypervisors`` and ``/os-hosts`` (before 2.43): compute nodes and what they hold."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest, NotFound, NotImplementedYet
from overcast.common.auth.context import RequestContext
from overcast.compute import placement
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_28, V2_33, V2_43, V2_53
from overcast.compute.conductor import nodes
from overcast.compute.handlers.common import (
    PREFIX,
    Compute,
    json_body,
    next_link,
    query_int,
    removed_in,
)
from overcast.compute.handlers.services import state_of, zone_by_host
from overcast.compute.models import ComputeNode, Instance, Service
from overcast.compute.service import ComputeService
from overcast.scheduler.manager import SchedulerClient

router = Router(prefix=PREFIX)


def _amounts(node: ComputeNode) -> dict[str, tuple[int, int]]:
    """Per resource class: (total, used), the host's reserved part counted as used."""
    return {i.resource_class: (i.total, i.used + i.reserved) for i in node.inventories}


def _view(
    ctx: RequestContext,
    service: ComputeService,
    node: ComputeNode,
    row: Service | None,
    *,
    detail: bool,
    running: int = 0,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": node.uuid if ctx.version >= V2_53 else node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": state_of(service, row) if row else "down",
        "status": "disabled" if row is None or row.disabled else "enabled",
    }
    if not detail:
        return body
    amounts = _amounts(node)
    vcpus, vcpus_used = amounts.get("VCPU", (0, 0))
    ram, ram_used = amounts.get("MEMORY_MB", (0, 0))
    disk, disk_used = amounts.get("DISK_GB", (0, 0))
    body |= {
        "vcpus": vcpus,
        "vcpus_used": vcpus_used,
        "memory_mb": ram,
        "memory_mb_used": ram_used,
        "free_ram_mb": ram - ram_used,
        "local_gb": disk,
        "local_gb_used": disk_used,
        "free_disk_gb": disk - disk_used,
        "disk_available_least": disk - disk_used,
        "current_workload": 0,
        "running_vms": running,
        "hypervisor_type": node.hypervisor_type,
        "hypervisor_version": node.hypervisor_version,
        "host_ip": node.host_ip,
        "cpu_info": node.cpu_info if ctx.version >= V2_28 else json.dumps(node.cpu_info),
        "service": {
            "host": node.host,
            "id": (row.uuid if ctx.version >= V2_53 else row.id) if row else None,
            "disabled_reason": row.disabled_reason if row else None,
        },
    }
    return body


async def _running(session: AsyncSession, host: str) -> list[Instance]:
    return list(
        await session.scalars(
            select(Instance)
            .where(Instance.host == host, Instance.deleted.is_(False))
            .order_by(Instance.created_at)
        )
    )


async def _nodes(session: AsyncSession, request: Request, ctx: RequestContext) -> list[ComputeNode]:
    query = select(ComputeNode).order_by(ComputeNode.id)
    pattern = request.query_params.get("hypervisor_hostname_pattern")
    if pattern is not None:
        if ctx.version < V2_53:
            raise BadRequest("hypervisor_hostname_pattern needs microversion 2.53")
        query = query.where(ComputeNode.hypervisor_hostname.contains(pattern))
    if ctx.version >= V2_33:
        marker = request.query_params.get("marker")
        if marker is not None:
            start = await _node(session, ctx, marker)
            query = query.where(ComputeNode.id > start.id)
        limit = query_int(request, "limit")
        if limit is not None:
            query = query.limit(limit)
    return list(await session.scalars(query))


async def _node(session: AsyncSession, ctx: RequestContext, ident: str) -> ComputeNode:
    """:raises NotFound: when no hypervisor has this id (a uuid from 2.53)."""
    if ctx.version >= V2_53:
        found = await session.scalar(select(ComputeNode).where(ComputeNode.uuid == ident))
    else:
        found = await session.get(ComputeNode, int(ident)) if ident.isdigit() else None
    if found is None:
        raise NotFound(f"Hypervisor with ID {ident} could not be found.")
    return found


async def _listing(
    request: Request, ctx: RequestContext, service: ComputeService, *, detail: bool
) -> JSONResponse:
    rule = "list-detail" if detail else "list"
    ctx.enforce(f"os_compute_api:os-hypervisors:{rule}")
    with_servers = ctx.version >= V2_53 and v.to_bool(request.query_params.get("with_servers", ""))
    items = []
    async with service.db.read() as session:
        found = await _nodes(session, request, ctx)
        for node in found:
            row = await nodes.service_by_host(session, node.host)
            running = await _running(session, node.host)
            item = _view(ctx, service, node, row, detail=detail, running=len(running))
            if with_servers:
                item["servers"] = [{"name": i.display_name, "uuid": i.uuid} for i in running]
            items.append(item)
    body: dict[str, Any] = {"hypervisors": items}
    limit = query_int(request, "limit") if ctx.version >= V2_33 else None
    if limit is not None and found and len(found) == limit:
        path = "os-hypervisors/detail" if detail else "os-hypervisors"
        marker = found[-1].uuid if ctx.version >= V2_53 else str(found[-1].id)
        body["hypervisors_links"] = [next_link(request, path, marker)]
    return json_response(body)


@router.get("/os-hypervisors")
async def list_hypervisors(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    return await _listing(request, ctx, service, detail=False)


@router.get("/os-hypervisors/detail")
async def list_hypervisors_detail(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    return await _listing(request, ctx, service, detail=True)


@router.get("/os-hypervisors/statistics")
async def hypervisor_statistics(ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-hypervisors:statistics")
    keys = (
        "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "free_ram_mb", "local_gb",
        "local_gb_used", "free_disk_gb", "disk_available_least", "current_workload",
        "running_vms",
    )  # fmt: skip
    totals = dict.fromkeys(keys, 0) | {"count": 0}
    async with service.db.read() as session:
        for node in await session.scalars(select(ComputeNode)):
            running = await session.scalar(
                select(func.count()).where(Instance.host == node.host, Instance.deleted.is_(False))
            )
            view = _view(ctx, service, node, None, detail=True, running=int(running or 0))
            totals["count"] += 1
            for key in keys:
                totals[key] += view[key]
    return json_response({"hypervisor_statistics": totals})


@router.get("/os-hypervisors/{hypervisor_id}")
async def show_hypervisor(
    hypervisor_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-hypervisors:show")
    async with service.db.read() as session:
        node = await _node(session, ctx, hypervisor_id)
        row = await nodes.service_by_host(session, node.host)
        running = await _running(session, node.host)
    body = _view(ctx, service, node, row, detail=True, running=len(running))
    if ctx.version >= V2_53 and v.to_bool(request.query_params.get("with_servers", "")):
        body["servers"] = [{"name": i.display_name, "uuid": i.uuid} for i in running]
    return json_response({"hypervisor": body})


@router.get("/os-hypervisors/{hypervisor_id}/uptime")
async def hypervisor_uptime(hypervisor_id: str, ctx: Context, service: Compute) -> JSONResponse:
    """How long the node has been registered, in the words of ``uptime``."""
    ctx.enforce("os_compute_api:os-hypervisors:uptime")
    async with service.db.read() as session:
        node = await _node(session, ctx, hypervisor_id)
        row = await nodes.service_by_host(session, node.host)
    now = service.clock.now()
    body = _view(ctx, service, node, row, detail=False)
    body["uptime"] = _uptime(now, node.created_at)
    return json_response({"hypervisor": body})


def _uptime(now: datetime, since: datetime) -> str:
    seconds = int((now - since.replace(tzinfo=now.tzinfo)).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    return f" {now:%H:%M:%S} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d}"


async def _matching(session: AsyncSession, ctx: RequestContext, pattern: str) -> list[ComputeNode]:
    if ctx.version >= V2_53:
        raise NotFound("The resource could not be found.")
    found = list(
        await session.scalars(
            select(ComputeNode).where(ComputeNode.hypervisor_hostname.contains(pattern))
        )
    )
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return found


@router.get("/os-hypervisors/{pattern}/search")
async def search_hypervisors(pattern: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-hypervisors:search")
    async with service.db.read() as session:
        found = await _matching(session, ctx, pattern)
        items = [
            _view(ctx, service, n, await nodes.service_by_host(session, n.host), detail=False)
            for n in found
        ]
    return json_response({"hypervisors": items})


@router.get("/os-hypervisors/{pattern}/servers")
async def hypervisor_servers(pattern: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-hypervisors:servers")
    items = []
    async with service.db.read() as session:
        for node in await _matching(session, ctx, pattern):
            row = await nodes.service_by_host(session, node.host)
            item = _view(ctx, service, node, row, detail=False)
            running = await _running(session, node.host)
            if running:
                item["servers"] = [{"name": i.display_name, "uuid": i.uuid} for i in running]
            items.append(item)
    return json_response({"hypervisors": items})


# --- os-hosts (before 2.43) ----------------------------------------------------------------


def _hosts_exist(ctx: RequestContext) -> None:
    removed_in(ctx, V2_43)


@router.get("/os-hosts")
async def list_hosts(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    _hosts_exist(ctx)
    ctx.enforce("os_compute_api:os-hosts:list")
    async with service.db.read() as session:
        zones = await zone_by_host(session, service)
        rows = list(await session.scalars(select(Service).order_by(Service.id)))
    wanted = request.query_params.get("zone") or None  # a blank zone lists every host
    hosts = []
    for row in rows:
        zone = zones.get(row.host, "internal") if row.binary == nodes.COMPUTE_BINARY else "internal"
        if wanted is None or wanted == zone:
            name = row.binary.removeprefix("nova-")
            hosts.append({"host_name": row.host, "service": name, "zone": zone})
    return json_response({"hosts": hosts})


async def _compute_host(session: AsyncSession, host: str) -> Service:
    row = await nodes.service_by_host(session, host)
    if row is None:
        raise NotFound(f"Compute host {host} could not be found.")
    return row


@router.get("/os-hosts/{host}")
async def show_host(host: str, ctx: Context, service: Compute) -> JSONResponse:
    """The host's totals, what is used now, and what each project's servers hold."""
    _hosts_exist(ctx)
    ctx.enforce("os_compute_api:os-hosts:show")
    async with service.db.read() as session:
        await _compute_host(session, host)
        node = await placement.node_by_host(session, host)
        running = await _running(session, host)
    amounts = _amounts(node) if node else {}

    def line(project: str, cpu: int, ram: int, disk: int) -> dict[str, Any]:
        return {
            "resource": {
                "host": host,
                "project": project,
                "cpu": cpu,
                "memory_mb": ram,
                "disk_gb": disk,
            }
        }

    total = [amounts.get(rc, (0, 0))[0] for rc in ("VCPU", "MEMORY_MB", "DISK_GB")]
    now = [amounts.get(rc, (0, 0))[1] for rc in ("VCPU", "MEMORY_MB", "DISK_GB")]
    per_project: dict[str, list[int]] = {}
    for instance in running:
        sums = per_project.setdefault(instance.project_id, [0, 0, 0])
        for index, amount in enumerate((instance.vcpus, instance.memory_mb, instance.root_gb)):
            sums[index] += amount
    used_max = [sum(p[i] for p in per_project.values()) for i in range(3)]
    lines = [
        line("(total)", *total),
        line("(used_now)", *now),
        line("(used_max)", *used_max),
        *(line(project, *sums) for project, sums in sorted(per_project.items())),
    ]
    return json_response({"host": lines})


HOST_UPDATE = v.object_of(
    {
        "status": {"type": "string", "enum": ["enable", "disable"]},
        "maintenance_mode": {"type": "string", "enum": ["enable", "disable"]},
    }
)


@router.put("/os-hosts/{host}")
async def update_host(host: str, request: Request, ctx: Context, service: Compute) -> JSONResponse:
    """Enable or disable scheduling to a host; maintenance mode disables it with that reason."""
    _hosts_exist(ctx)
    ctx.enforce("os_compute_api:os-hosts:update")
    body = await json_body(request, HOST_UPDATE)
    if not body:
        raise BadRequest("'status' or 'maintenance_mode' needed for host update")
    answer: dict[str, Any] = {"host": host}
    async with service.db.write() as session:
        row = await _compute_host(session, host)
        if "maintenance_mode" in body:
            on = body["maintenance_mode"] == "enable"
            row.disabled = on
            row.disabled_reason = "maintenance mode" if on else None
            answer["maintenance_mode"] = "on_maintenance" if on else "off_maintenance"
        if "status" in body:
            row.disabled = body["status"] == "disable"
            row.disabled_reason = None
            answer["status"] = "disabled" if row.disabled else "enabled"
        row.updated_at = service.clock.now()
        report = await nodes.report_of_host(session, service, host)
    await SchedulerClient(service.bus).report(report)
    return json_response(answer)


async def _power_action(
    host: str, ctx: RequestContext, service: ComputeService, name: str
) -> NoReturn:
    """:raises NotImplementedYet: for a host that exists (no driver powers hosts here)."""
    _hosts_exist(ctx)
    ctx.enforce(f"os_compute_api:os-hosts:{name}")
    async with service.db.read() as session:
        await _compute_host(session, host)
    raise NotImplementedYet("Virt driver does not implement host power management.")


@router.get("/os-hosts/{host}/reboot")
async def reboot_host(host: str, ctx: Context, service: Compute) -> JSONResponse:
    await _power_action(host, ctx, service, "reboot")


@router.get("/os-hosts/{host}/shutdown")
async def shutdown_host(host: str, ctx: Context, service: Compute) -> JSONResponse:
    await _power_action(host, ctx, service, "shutdown")


@router.get("/os-hosts/{host}/startup")
async def startup_host(host: str, ctx: Context, service: Compute) -> JSONResponse:
    await _power_action(host, ctx, service, "start")
