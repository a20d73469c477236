"""``/os-aggregates``: host aggregates, their metadata, and the availability zones they make.

A change to an aggregate's hosts or zone is told to the scheduler at once, so
the next request already filters on it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_41
from overcast.compute.conductor import nodes
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import Aggregate, AggregateHost, AggregateMetadata
from overcast.compute.servers.views import naive_time
from overcast.compute.service import ComputeService
from overcast.scheduler.manager import SchedulerClient

router = Router(prefix=f"{PREFIX}/os-aggregates")
ZONE = "availability_zone"
ZONE_FIELD = {"type": ["string", "null"], "minLength": 1, "maxLength": 255}
CREATE = v.wrapped(
    "aggregate", v.object_of({"name": v.name(), ZONE: ZONE_FIELD}, required=("name",))
)
UPDATE = v.wrapped(
    "aggregate", {**v.object_of({"name": v.name(), ZONE: ZONE_FIELD}), "minProperties": 1}
)
HOST = v.object_of(
    {"host": {"type": "string", "minLength": 1, "maxLength": 255}}, required=("host",)
)
METADATA = v.object_of(
    {
        "metadata": {
            "type": "object",
            "patternProperties": {
                r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "null"], "maxLength": 255}
            },
            "additionalProperties": False,
        }
    },
    required=("metadata",),
)


def _view(ctx: RequestContext, aggregate: Aggregate, *, created: bool = False) -> dict[str, Any]:
    """An aggregate; the answer to its creation has neither hosts nor metadata (as Nova's)."""
    metadata = {m.key: m.value for m in aggregate.metadata_items}
    body: dict[str, Any] = {
        "id": aggregate.id,
        "name": aggregate.name,
        ZONE: metadata.get(ZONE),
        "created_at": naive_time(aggregate.created_at),
        "updated_at": naive_time(aggregate.updated_at),
        "deleted": False,
        "deleted_at": None,
    }
    if not created:
        body["metadata"] = metadata
        body["hosts"] = [h.host for h in aggregate.hosts]
    if ctx.version >= V2_41:
        body["uuid"] = aggregate.uuid
    return body


async def _get(session: AsyncSession, aggregate_id: str) -> Aggregate:
    found = await session.get(Aggregate, int(aggregate_id)) if aggregate_id.isdigit() else None
    if found is None:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.")
    return found


async def _name_free(session: AsyncSession, name: str, but: int | None = None) -> None:
    taken = await session.scalar(select(Aggregate.id).where(Aggregate.name == name))
    if taken is not None and taken != but:
        raise Conflict(f"Aggregate {name} already exists.")


async def _zone_fits(
    session: AsyncSession, aggregate: Aggregate, host: str, zone: str | None
) -> None:
    """:raises BadRequest: when ``host`` is in another aggregate with a different zone."""
    if zone is None:
        return
    for other in await nodes.host_aggregates(session, host):
        theirs = next((m.value for m in other.metadata_items if m.key == ZONE), None)
        if other.id != aggregate.id and theirs is not None and theirs != zone:
            raise BadRequest(
                f"Cannot add host {host} to aggregate {aggregate.id}: it is already in "
                f"availability zone {theirs}."
            )


def _set_zone(aggregate: Aggregate, zone: str | None) -> None:
    aggregate.metadata_items = [m for m in aggregate.metadata_items if m.key != ZONE]
    if zone is not None:
        aggregate.metadata_items.append(AggregateMetadata(key=ZONE, value=zone))


async def _tell(service: ComputeService, session: AsyncSession, hosts: list[str]) -> list[Any]:
    return [await nodes.report_of_host(session, service, h) for h in hosts]


@router.get("")
async def list_aggregates(ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-aggregates:index")
    async with service.db.read() as session:
        rows = await session.scalars(select(Aggregate).order_by(Aggregate.id))
        return json_response({"aggregates": [_view(ctx, a) for a in rows]})


@router.post("")
async def create_aggregate(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-aggregates:create")
    body = (await json_body(request, CREATE))["aggregate"]
    now = service.clock.now()
    async with service.db.write() as session:
        await _name_free(session, body["name"])
        aggregate = Aggregate(
            uuid=str(uuid.uuid4()),
            name=body["name"],
            created_at=now,
            hosts=[],
            metadata_items=[],
        )
        _set_zone(aggregate, body.get(ZONE))
        session.add(aggregate)
        await session.flush()
        shown = _view(ctx, aggregate, created=True)
    return json_response({"aggregate": shown})


@router.get("/{aggregate_id}")
async def show_aggregate(aggregate_id: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-aggregates:show")
    async with service.db.read() as session:
        return json_response({"aggregate": _view(ctx, await _get(session, aggregate_id))})


@router.put("/{aggregate_id}")
async def update_aggregate(
    aggregate_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-aggregates:update")
    body = (await json_body(request, UPDATE))["aggregate"]
    async with service.db.write() as session:
        aggregate = await _get(session, aggregate_id)
        if "name" in body:
            await _name_free(session, body["name"], aggregate.id)
            aggregate.name = body["name"]
        if ZONE in body:
            for host in aggregate.hosts:
                await _zone_fits(session, aggregate, host.host, body[ZONE])
            _set_zone(aggregate, body[ZONE])
        aggregate.updated_at = service.clock.now()
        await session.flush()
        shown = _view(ctx, aggregate)
        reports = await _tell(service, session, shown["hosts"])
    await SchedulerClient(service.bus).report(*reports)
    return json_response({"aggregate": shown})


@router.delete("/{aggregate_id}", status=200)
async def delete_aggregate(aggregate_id: str, ctx: Context, service: Compute) -> Response:
    ctx.enforce("os_compute_api:os-aggregates:delete")
    async with service.db.write() as session:
        aggregate = await _get(session, aggregate_id)
        if aggregate.hosts:
            raise BadRequest(
                f"Cannot delete aggregate {aggregate_id}: it still has hosts; remove them first."
            )
        await session.delete(aggregate)
    return empty_response(200)


@router.post("/{aggregate_id}/action")
async def aggregate_action(
    aggregate_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """``add_host``, ``remove_host`` or ``set_metadata`` (a null value removes a key)."""
    body = await json_body(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Malformed request body")
    name, args = next(iter(body.items()))
    schemas = {"add_host": HOST, "remove_host": HOST, "set_metadata": METADATA}
    if name not in schemas:
        raise BadRequest(f"There is no such action: {name}")
    ctx.enforce(f"os_compute_api:os-aggregates:{name}")
    v.validate({"type": "object", "properties": {name: schemas[name]}}, body)
    async with service.db.write() as session:
        aggregate = await _get(session, aggregate_id)
        touched = await _apply(session, aggregate, name, args)
        aggregate.updated_at = service.clock.now()
        await session.flush()
        shown = _view(ctx, aggregate)
        reports = await _tell(service, session, touched)
    await SchedulerClient(service.bus).report(*reports)
    return json_response({"aggregate": shown})


async def _apply(session: AsyncSession, aggregate: Aggregate, name: str, args: Any) -> list[str]:
    """Do one aggregate action; returns the hosts whose scheduling facts changed."""
    members = {h.host for h in aggregate.hosts}
    zone = next((m.value for m in aggregate.metadata_items if m.key == ZONE), None)
    if name == "set_metadata":
        items = {m.key: m.value for m in aggregate.metadata_items}
        for key, value in args["metadata"].items():
            if value is None:
                items.pop(key, None)
            else:
                items[key] = value
        if items.get(ZONE) != zone:
            for host in members:
                await _zone_fits(session, aggregate, host, items.get(ZONE))
        aggregate.metadata_items = [AggregateMetadata(key=k, value=val) for k, val in items.items()]
        return sorted(members)
    host = args["host"]
    if name == "add_host":
        if await nodes.service_by_host(session, host) is None:
            raise NotFound(f"Compute host {host} could not be found.")
        if host in members:
            raise Conflict(f"Aggregate {aggregate.id} already has host {host}.")
        await _zone_fits(session, aggregate, host, zone)
        aggregate.hosts.append(AggregateHost(host=host))
    else:
        if host not in members:
            raise NotFound(f"Cannot remove host {host} in aggregate {aggregate.id}")
        aggregate.hosts = [h for h in aggregate.hosts if h.host != host]
    return [host]
