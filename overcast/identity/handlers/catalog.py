"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``: the catalog's contents."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, Forbidden, NotFound
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    each,
    field_filters,
    paged_list,
)
from overcast.identity.schemas import (
    EndpointCreateRequest,
    EndpointUpdateRequest,
    RegionCreate,
    RegionCreateRequest,
    RegionUpdateRequest,
    ServiceCreateRequest,
    ServiceUpdateRequest,
)

router = Router()


# -- regions --------------------------------------------------------------------------


async def _check_parent(session: AsyncSession, region_id: str, parent_id: str | None) -> None:
    if parent_id is None:
        return
    if await session.get(models.Region, parent_id) is None:
        raise NotFound(f"Could not find region: {parent_id}.")
    seen = {region_id}
    while parent_id is not None:
        if parent_id in seen:
            raise BadRequest(
                f"The specified parent region {parent_id} would create a circular region hierarchy."
            )
        seen.add(parent_id)
        parent = await session.get(models.Region, parent_id)
        parent_id = parent.parent_region_id if parent else None


async def _create_region(
    identity: Identity, ctx: Context, spec: RegionCreate, region_id: str, base: str
) -> JSONResponse:
    ctx.enforce("identity:create_region")
    async with identity.writing() as session:
        if await session.get(models.Region, region_id) is not None:
            raise Conflict(
                f"Conflict occurred attempting to store region - Duplicate ID, {region_id}."
            )
        await _check_parent(session, region_id, spec.parent_region_id)
        row = models.Region(
            id=region_id,
            parent_region_id=spec.parent_region_id,
            description=spec.description or "",
            extra=spec.extras(),
        )
        session.add(row)
    return json_response({"region": views.region(base, row)}, status=201)


@router.post("/v3/regions", status=201)
async def create_region(
    body: RegionCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    return await _create_region(identity, ctx, body.region, body.region.id or new_id(), base)


@router.put("/v3/regions/{region_id}", status=201)
async def create_region_with_id(
    region_id: str, body: RegionCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    if body.region.id is not None and body.region.id != region_id:
        raise BadRequest("The region id in the body does not match the URL.")
    return await _create_region(identity, ctx, body.region, region_id, base)


@router.read("/v3/regions")
async def list_regions(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_regions")
    clauses = field_filters(request, models.Region, "parent_region_id")
    return await paged_list(
        request, identity, models.Region, clauses, "regions", each(lambda r: views.region(base, r))
    )


@router.read("/v3/regions/{region_id}")
async def get_region(region_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    ctx.enforce("identity:get_region")
    async with identity.db.read() as session:
        row = await lookups.get(session, models.Region, region_id, "region")
    return json_response({"region": views.region(base, row)})


@router.patch("/v3/regions/{region_id}")
async def update_region(
    region_id: str, body: RegionUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_region")
    spec = body.region
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await lookups.get(session, models.Region, region_id, "region")
        if "parent_region_id" in changes:
            await _check_parent(session, region_id, changes["parent_region_id"])
            row.parent_region_id = changes["parent_region_id"]
        if "description" in changes:
            row.description = changes["description"] or ""
        if spec.extras():
            row.extra = {**row.extra, **spec.extras()}
    return json_response({"region": views.region(base, row)})


@router.delete("/v3/regions/{region_id}", status=204)
async def delete_region(region_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_region")
    async with identity.writing() as session:
        row = await lookups.get(session, models.Region, region_id, "region")
        children = await session.scalar(
            select(func.count()).where(models.Region.parent_region_id == region_id)
        )
        if children:
            raise Forbidden(f"Cannot delete region {region_id}: it has child regions.")
        endpoints = await session.scalar(
            select(func.count()).where(models.Endpoint.region_id == region_id)
        )
        if endpoints:
            raise Forbidden(f"Cannot delete region {region_id}: endpoints are still in it.")
        await session.delete(row)
    return empty_response()


# -- services --------------------------------------------------------------------------


@router.post("/v3/services", status=201)
async def create_service(
    body: ServiceCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_service")
    spec = body.service
    extra = spec.extras()
    for field in ("name", "description"):
        value = getattr(spec, field)
        if value is not None:
            extra[field] = value
    async with identity.writing() as session:
        row = models.Service(id=new_id(), type=spec.type, enabled=spec.enabled, extra=extra)
        session.add(row)
    return json_response({"service": views.service(base, row)}, status=201)


@router.read("/v3/services")
async def list_services(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_services")
    clauses = field_filters(request, models.Service, "type")
    if "name" in request.query_params:
        clauses.append(models.Service.extra["name"].as_string() == request.query_params["name"])
    return await paged_list(
        request,
        identity,
        models.Service,
        clauses,
        "services",
        each(lambda r: views.service(base, r)),
    )


@router.read("/v3/services/{service_id}")
async def get_service(
    service_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_service")
    async with identity.db.read() as session:
        row = await lookups.get(session, models.Service, service_id, "service")
    return json_response({"service": views.service(base, row)})


@router.patch("/v3/services/{service_id}")
async def update_service(
    service_id: str, body: ServiceUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_service")
    spec = body.service
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await lookups.get(session, models.Service, service_id, "service")
        if changes.get("type") is not None:
            row.type = changes["type"]
        if changes.get("enabled") is not None:
            row.enabled = changes["enabled"]
        extra = {**row.extra, **spec.extras()}
        for field in ("name", "description"):
            if field in changes:
                extra[field] = changes[field]
        row.extra = extra
    return json_response({"service": views.service(base, row)})


@router.delete("/v3/services/{service_id}", status=204)
async def delete_service(service_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_service")
    async with identity.writing() as session:
        row = await lookups.get(session, models.Service, service_id, "service")
        await session.delete(row)
    return empty_response()


# -- endpoints -------------------------------------------------------------------------


async def _region_for_endpoint(
    session: AsyncSession, region_id: str | None, region: str | None
) -> str | None:
    """The endpoint's region; the legacy ``region`` attribute creates a missing region."""
    if region_id is not None:
        if await session.get(models.Region, region_id) is None:
            raise BadRequest(f"Could not find region: {region_id}.")
        return region_id
    if region is not None:
        if await session.get(models.Region, region) is None:
            session.add(models.Region(id=region, parent_region_id=None, description="", extra={}))
            await session.flush()
        return region
    return None


@router.post("/v3/endpoints", status=201)
async def create_endpoint(
    body: EndpointCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_endpoint")
    spec = body.endpoint
    async with identity.writing() as session:
        if await session.get(models.Service, spec.service_id) is None:
            raise BadRequest(f"Could not find service: {spec.service_id}.")
        region_id = await _region_for_endpoint(session, spec.region_id, spec.region)
        row = models.Endpoint(
            id=new_id(),
            service_id=spec.service_id,
            region_id=region_id,
            interface=spec.interface,
            url=spec.url,
            enabled=spec.enabled,
            extra=spec.extras(),
        )
        session.add(row)
    return json_response({"endpoint": views.endpoint(base, row)}, status=201)


@router.read("/v3/endpoints")
async def list_endpoints(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_endpoints")
    clauses = field_filters(request, models.Endpoint, "service_id", "interface", "region_id")
    return await paged_list(
        request,
        identity,
        models.Endpoint,
        clauses,
        "endpoints",
        each(lambda r: views.endpoint(base, r)),
    )


@router.read("/v3/endpoints/{endpoint_id}")
async def get_endpoint(
    endpoint_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_endpoint")
    async with identity.db.read() as session:
        row = await lookups.get(session, models.Endpoint, endpoint_id, "endpoint")
    return json_response({"endpoint": views.endpoint(base, row)})


@router.patch("/v3/endpoints/{endpoint_id}")
async def update_endpoint(
    endpoint_id: str, body: EndpointUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_endpoint")
    spec = body.endpoint
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await lookups.get(session, models.Endpoint, endpoint_id, "endpoint")
        if changes.get("service_id") is not None:
            if await session.get(models.Service, changes["service_id"]) is None:
                raise BadRequest(f"Could not find service: {changes['service_id']}.")
            row.service_id = changes["service_id"]
        if "region_id" in changes or "region" in changes:
            row.region_id = await _region_for_endpoint(
                session, changes.get("region_id"), changes.get("region")
            )
        for field in ("interface", "url", "enabled"):
            if changes.get(field) is not None:
                setattr(row, field, changes[field])
        if spec.extras():
            row.extra = {**row.extra, **spec.extras()}
    return json_response({"endpoint": views.endpoint(base, row)})


@router.delete("/v3/endpoints/{endpoint_id}", status=204)
async def delete_endpoint(endpoint_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_endpoint")
    async with identity.writing() as session:
        row = await lookups.get(session, models.Endpoint, endpoint_id, "endpoint")
        await session.delete(row)
    return empty_response()
