"""``/flavors``: list, show, create, update (description), delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_55, V2_61, V2_75
from overcast.compute.flavors import find_flavor, get_flavor, usable_flavor
from overcast.compute.handlers.common import PREFIX, Compute, json_body, links, next_link, query_int
from overcast.compute.models import Flavor, FlavorProject

router = Router(prefix=f"{PREFIX}/flavors")

FLAVOR_ID_PATTERN = r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"
CREATE = v.wrapped(
    "flavor",
    v.object_of(
        {
            "name": v.name(),
            "id": {
                "type": ["string", "integer", "null"],
                "minLength": 1,
                "maxLength": 255,
                "pattern": FLAVOR_ID_PATTERN,
            },
            "ram": v.integer(1),
            "vcpus": v.integer(1),
            "disk": v.integer(0),
            "OS-FLV-EXT-DATA:ephemeral": v.integer(0),
            "swap": v.integer(0),
            "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$"},
            "os-flavor-access:is_public": v.BOOLEAN,
            "description": {"type": ["string", "null"], "maxLength": 65535},
        },
        required=("name", "ram", "vcpus", "disk"),
    ),
)
UPDATE = v.wrapped(
    "flavor",
    v.object_of(
        {"description": {"type": ["string", "null"], "maxLength": 65535}},
        required=("description",),
    ),
)
SORT_KEYS = {
    "created_at",
    "description",
    "disabled",
    "ephemeral_gb",
    "flavorid",
    "id",
    "is_public",
    "memory_mb",
    "name",
    "root_gb",
    "rxtx_factor",
    "swap",
    "updated_at",
    "vcpus",
}


def flavor_summary(request: Request, ctx: RequestContext, flavor: Flavor) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": flavor.flavorid,
        "name": flavor.name,
        "links": links(request, "flavors", flavor.flavorid),
    }
    if ctx.version >= V2_55:
        view["description"] = flavor.description
    return view


def flavor_view(request: Request, ctx: RequestContext, flavor: Flavor) -> dict[str, Any]:
    view = flavor_summary(request, ctx, flavor)
    view.update(
        {
            "ram": flavor.memory_mb,
            "disk": flavor.root_gb,
            "vcpus": flavor.vcpus,
            "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
            "OS-FLV-DISABLED:disabled": flavor.disabled,
            "swap": flavor.swap if flavor.swap or ctx.version >= V2_75 else "",
            "rxtx_factor": flavor.rxtx_factor,
            "os-flavor-access:is_public": flavor.is_public,
        }
    )
    if ctx.version >= V2_61 and ctx.can("os_compute_api:os-flavor-extra-specs:index"):
        view["extra_specs"] = flavor.extra_specs_dict
    return view


def _is_public_filter(request: Request, ctx: RequestContext) -> bool | None:
    """Admins choose (``true`` by default, ``none`` for all); others see public ones."""
    raw = request.query_params.get("is_public")
    if not ctx.can("context_is_admin") or raw is None:
        return True
    lowered = raw.lower()
    if lowered == "none":
        return None
    if lowered in ("true", "t", "1", "yes", "y", "on"):
        return True
    if lowered in ("false", "f", "0", "no", "n", "off"):
        return False
    raise BadRequest(f"Invalid is_public filter [{raw}]")


def _list_statement(request: Request, ctx: RequestContext) -> Select[Any]:
    statement = select(Flavor)
    is_public = _is_public_filter(request, ctx)
    if is_public is not None:
        if is_public and not ctx.can("context_is_admin"):
            granted = select(FlavorProject.flavor_id).where(
                FlavorProject.project_id == (ctx.project_id or "")
            )
            statement = statement.where(or_(Flavor.is_public, Flavor.id.in_(granted)))
            statement = statement.where(Flavor.disabled.is_(False))
        else:
            statement = statement.where(Flavor.is_public.is_(is_public))
    for param, column in (("minRam", Flavor.memory_mb), ("minDisk", Flavor.root_gb)):
        raw = request.query_params.get(param)
        if raw is not None:
            try:
                statement = statement.where(column >= int(raw))
            except ValueError:
                raise BadRequest(f"Invalid {param} filter [{raw}]") from None
    return statement


def _sorted(request: Request, statement: Select[Any]) -> Select[Any]:
    key = request.query_params.get("sort_key", "flavorid")
    direction = request.query_params.get("sort_dir", "asc")
    if key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort_key {key}")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort_dir {direction}")
    column = getattr(Flavor, key)
    order = column.asc() if direction == "asc" else column.desc()
    return statement.order_by(order, Flavor.id.asc())


async def _page(request: Request, ctx: Context, service: Compute) -> tuple[list[Flavor], bool]:
    limit = min(query_int(request, "limit") or service.conf.max_limit, service.conf.max_limit)
    statement = _sorted(request, _list_statement(request, ctx))
    async with service.db.read() as session:
        flavors = list(await session.scalars(statement))
    marker = request.query_params.get("marker")
    if marker is not None:
        ids = [f.flavorid for f in flavors]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        flavors = flavors[ids.index(marker) + 1 :]
    return flavors[:limit], len(flavors) >= limit


def _listing(
    request: Request, key: str, items: list[dict[str, Any]], full: bool, collection: str
) -> dict[str, Any]:
    body: dict[str, Any] = {key: items}
    if full and items:
        body[f"{key}_links"] = [next_link(request, collection, items[-1]["id"])]
    return body


@router.get("")
async def list_flavors(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.require_auth()
    flavors, full = await _page(request, ctx, service)
    items = [flavor_summary(request, ctx, f) for f in flavors]
    return json_response(_listing(request, "flavors", items, full, "flavors"))


@router.get("/detail")
async def list_flavors_detail(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.require_auth()
    flavors, full = await _page(request, ctx, service)
    items = [flavor_view(request, ctx, f) for f in flavors]
    return json_response(_listing(request, "flavors", items, full, "flavors/detail"))


@router.get("/{flavor_id}")
async def show_flavor(
    flavor_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.require_auth()
    async with service.db.read() as session:
        flavor = await usable_flavor(session, ctx, flavor_id)
    return json_response({"flavor": flavor_view(request, ctx, flavor)})


@router.post("")
async def create_flavor(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-manage:create")
    body = (await json_body(request, CREATE))["flavor"]
    v.introduced(ctx.version, body, {"description": V2_55})
    given = body.get("id")
    flavorid = str(given) if given is not None and given != "" else str(uuid.uuid4())
    flavor = Flavor(
        flavorid=flavorid,
        name=body["name"],
        memory_mb=v.to_int("ram", body["ram"], 1),
        vcpus=v.to_int("vcpus", body["vcpus"], 1),
        root_gb=v.to_int("disk", body["disk"], 0),
        ephemeral_gb=v.to_int("ephemeral", body.get("OS-FLV-EXT-DATA:ephemeral", 0), 0),
        swap=v.to_int("swap", body.get("swap", 0), 0),
        rxtx_factor=_rxtx(body.get("rxtx_factor", 1.0)),
        is_public=v.to_bool(body.get("os-flavor-access:is_public", True)),
        description=body.get("description"),
        created_at=service.clock.now(),
        extra_specs=[],
    )
    try:
        async with service.changing_reference() as session:
            if await find_flavor(session, flavorid) is not None:
                raise Conflict(f"Flavor with ID {flavorid} already exists.")
            if await session.scalar(select(Flavor.id).where(Flavor.name == flavor.name)):
                raise Conflict(f"Flavor with name {flavor.name} already exists.")
            session.add(flavor)
    except IntegrityError:
        raise Conflict(f"Flavor with ID {flavorid} already exists.") from None
    return json_response({"flavor": flavor_view(request, ctx, flavor)})


def _rxtx(raw: Any) -> float:
    value = float(raw)
    if value <= 0:
        raise BadRequest(f"Invalid input for field/attribute rxtx_factor. Value: {raw}.")
    return value


@router.put("/{flavor_id}")
async def update_flavor(
    flavor_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """Change a flavor's description (2.55 and later)."""
    if ctx.version < V2_55:
        raise NotFound()
    ctx.enforce("os_compute_api:os-flavor-manage:update")
    body = (await json_body(request, UPDATE))["flavor"]
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        flavor.description = body["description"]
        flavor.updated_at = service.clock.now()
    return json_response({"flavor": flavor_view(request, ctx, flavor)})


@router.delete("/{flavor_id}", status=202)
async def delete_flavor(flavor_id: str, ctx: Context, service: Compute) -> Response:
    ctx.enforce("os_compute_api:os-flavor-manage:delete")
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        await session.delete(flavor)
    return empty_response(202)
