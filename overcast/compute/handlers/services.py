"""``/os-services`` and ``/os-availability-zone``: what runs where, and whether it is up.

A compute service is up while its agent heartbeats (``service_down_time``);
disabling one (or forcing it down) takes its host out of scheduling at once,
because the scheduler is told.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_11, V2_53
from overcast.compute.conductor import nodes
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import ComputeNode, Instance, Service
from overcast.compute.servers.views import naive_time
from overcast.compute.service import ComputeService
from overcast.scheduler.manager import SchedulerClient

router = Router(prefix=PREFIX)
INTERNAL = "internal"
"""The zone Nova puts services that are not compute hosts in."""


async def zone_by_host(session: AsyncSession, service: ComputeService) -> dict[str, str]:
    """Each compute host's availability zone."""
    hosts = await session.scalars(
        select(Service.host).where(Service.binary == nodes.COMPUTE_BINARY)
    )
    default = service.conf.default_availability_zone
    return {h: nodes.zone_of(await nodes.host_aggregates(session, h), default) for h in set(hosts)}


def state_of(service: ComputeService, row: Service) -> str:
    up = nodes.is_up(row, service.clock.now(), service.conf.service_down_time)
    return "up" if up else "down"


def _view(
    ctx: RequestContext, service: ComputeService, row: Service, zones: dict[str, str]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.uuid if ctx.version >= V2_53 else row.id,
        "binary": row.binary,
        "host": row.host,
        "zone": zones.get(row.host, INTERNAL) if row.binary == nodes.COMPUTE_BINARY else INTERNAL,
        "status": "disabled" if row.disabled else "enabled",
        "state": state_of(service, row),
        "updated_at": naive_time(row.updated_at),
        "disabled_reason": row.disabled_reason,
    }
    if ctx.version >= V2_11:
        body["forced_down"] = row.forced_down
    return body


@router.get("/os-services")
async def list_services(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-services:list")
    query = select(Service).order_by(Service.id)
    for name in ("host", "binary"):
        if request.query_params.get(name):
            query = query.where(getattr(Service, name) == request.query_params[name])
    async with service.db.read() as session:
        rows = list(await session.scalars(query))
        zones = await zone_by_host(session, service)
    return json_response({"services": [_view(ctx, service, r, zones) for r in rows]})


async def _tell_scheduler(session: AsyncSession, service: ComputeService, row: Service) -> Any:
    if row.binary != nodes.COMPUTE_BINARY:
        return None
    return await nodes.report_of_host(session, service, row.host)


OLD_BODY = v.object_of(
    {
        "host": {"type": "string"},
        "binary": {"type": "string"},
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
        "forced_down": v.BOOLEAN,
    },
    required=("host", "binary"),
)


@router.put("/os-services/{action}")
async def update_service(
    action: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """``enable``, ``disable``, ``disable-log-reason``, ``force-down`` (before 2.53), or by uuid."""
    ctx.enforce("os_compute_api:os-services:update")
    if ctx.version >= V2_53:
        return await _update_by_uuid(action, request, ctx, service)
    actions = ("enable", "disable", "disable-log-reason", "force-down")
    if action not in actions or (action == "force-down" and ctx.version < V2_11):
        raise NotFound(f"Unknown action {action}")
    body = await json_body(request, OLD_BODY)
    if action == "disable-log-reason" and "disabled_reason" not in body:
        raise BadRequest("Missing disabled reason field")
    if action == "force-down" and "forced_down" not in body:
        raise BadRequest("Missing forced_down field")
    async with service.db.write() as session:
        row = await nodes.service_by_host(session, body["host"], body["binary"])
        if row is None:
            raise NotFound(f"Service {body['binary']} on host {body['host']} could not be found.")
        answer: dict[str, Any] = {"host": row.host, "binary": row.binary}
        if action == "force-down":
            row.forced_down = v.to_bool(body["forced_down"])
            answer["forced_down"] = row.forced_down
        else:
            row.disabled = action != "enable"
            row.disabled_reason = body.get("disabled_reason") if row.disabled else None
            answer["status"] = "disabled" if row.disabled else "enabled"
            if action == "disable-log-reason":
                answer["disabled_reason"] = row.disabled_reason
        row.updated_at = service.clock.now()
        report = await _tell_scheduler(session, service, row)
    await SchedulerClient(service.bus).report(report)
    return json_response({"service": answer})


NEW_BODY = v.object_of(
    {
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
        "forced_down": v.BOOLEAN,
    }
)


async def _update_by_uuid(
    service_id: str, request: Request, ctx: RequestContext, service: ComputeService
) -> JSONResponse:
    body = await json_body(request, NEW_BODY)
    if not body:
        raise BadRequest("At least one of status or forced_down must be specified.")
    if "disabled_reason" in body and body.get("status") != "disabled":
        raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
    async with service.db.write() as session:
        row = await session.scalar(select(Service).where(Service.uuid == service_id))
        if row is None:
            raise NotFound(f"Service {service_id} could not be found.")
        if "status" in body:
            row.disabled = body["status"] == "disabled"
            row.disabled_reason = body.get("disabled_reason") if row.disabled else None
        if "forced_down" in body:
            row.forced_down = v.to_bool(body["forced_down"])
        row.updated_at = service.clock.now()
        report = await _tell_scheduler(session, service, row)
        zones = await zone_by_host(session, service)
        shown = _view(ctx, service, row, zones)
    await SchedulerClient(service.bus).report(report)
    return json_response({"service": shown})


@router.delete("/os-services/{service_id}", status=204)
async def delete_service(service_id: str, ctx: Context, service: Compute) -> Response:
    """Remove a service; a compute host must have no servers, and takes its node along."""
    ctx.enforce("os_compute_api:os-services:delete")
    column = Service.uuid if ctx.version >= V2_53 else Service.id
    if column is Service.id and not service_id.isdigit():
        raise BadRequest(f"Invalid uuid {service_id}")
    key: Any = service_id if column is Service.uuid else int(service_id)
    async with service.db.write() as session:
        row = await session.scalar(select(Service).where(column == key))
        if row is None:
            raise NotFound(f"Service {service_id} could not be found.")
        if row.binary == nodes.COMPUTE_BINARY:
            busy = await session.scalar(
                select(Instance.uuid)
                .where(Instance.host == row.host, Instance.deleted.is_(False))
                .limit(1)
            )
            if busy is not None:
                raise Conflict(
                    f"Unable to delete compute service that is hosting instances: {row.host}"
                )
            for node in await session.scalars(
                select(ComputeNode).where(ComputeNode.host == row.host)
            ):
                await session.delete(node)
        await session.delete(row)
        host, binary = row.host, row.binary
    if binary == nodes.COMPUTE_BINARY:
        await SchedulerClient(service.bus).gone(host)
    return empty_response(204)


# --- availability zones -------------------------------------------------------------------


@router.get("/os-availability-zone")
async def list_zones(ctx: Context, service: Compute) -> JSONResponse:
    """Zones with at least one enabled compute service, and whether one is up."""
    ctx.enforce("os_compute_api:os-availability-zone:list")
    async with service.db.read() as session:
        zones = await zone_by_host(session, service)
        rows = list(
            await session.scalars(select(Service).where(Service.binary == nodes.COMPUTE_BINARY))
        )
    available: dict[str, bool] = {}
    for row in rows:
        if not row.disabled:
            zone = zones[row.host]
            available[zone] = available.get(zone, False) or state_of(service, row) == "up"
    info = [
        {"zoneName": z, "zoneState": {"available": up}, "hosts": None}
        for z, up in sorted(available.items())
    ]
    return json_response({"availabilityZoneInfo": info})


@router.get("/os-availability-zone/detail")
async def detail_zones(ctx: Context, service: Compute) -> JSONResponse:
    """Every zone (``internal`` too) with its hosts and their services."""
    ctx.enforce("os_compute_api:os-availability-zone:detail")
    async with service.db.read() as session:
        zones = await zone_by_host(session, service)
        rows = list(await session.scalars(select(Service).order_by(Service.id)))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        compute = row.binary == nodes.COMPUTE_BINARY
        zone = zones.get(row.host, INTERNAL) if compute else INTERNAL
        found.setdefault(zone, {}).setdefault(row.host, {})[row.binary] = {
            "available": state_of(service, row) == "up",
            "active": not row.disabled,
            "updated_at": naive_time(row.updated_at),
        }
    info = [
        {
            "zoneName": zone,
            "zoneState": {
                "available": any(s["available"] for h in hosts.values() for s in h.values())
            },
            "hosts": hosts,
        }
        for zone, hosts in sorted(found.items())
    ]
    return json_response({"availabilityZoneInfo": info})
