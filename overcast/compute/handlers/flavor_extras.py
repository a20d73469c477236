"""A flavor's extra specs (``/flavors/{id}/os-extra_specs``) and access list (private flavors)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, NotFound
from overcast.compute import validation as v
from overcast.compute.flavors import get_flavor
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import Flavor, FlavorExtraSpec, FlavorProject

router = Router(prefix=PREFIX + "/flavors/{flavor_id}")

SPEC_KEY = r"^[\w.:-]{1,255}$"
SPECS = {
    "type": "object",
    "patternProperties": {SPEC_KEY: {"type": ["string", "number", "boolean"], "maxLength": 255}},
    "additionalProperties": False,
}
CREATE_SPECS = v.object_of(
    {"extra_specs": {**SPECS, "minProperties": 1}}, required=("extra_specs",)
)
UPDATE_SPEC = {**SPECS, "minProperties": 1, "maxProperties": 1}
ACTION = {
    "type": "object",
    "properties": {
        "addTenantAccess": v.object_of({"tenant": v.name()}, required=("tenant",)),
        "removeTenantAccess": v.object_of({"tenant": v.name()}, required=("tenant",)),
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}


@router.get("/os-extra_specs")
async def list_extra_specs(flavor_id: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-extra-specs:index")
    async with service.db.read() as session:
        flavor = await get_flavor(session, flavor_id)
    return json_response({"extra_specs": flavor.extra_specs_dict})


@router.post("/os-extra_specs")
async def create_extra_specs(
    flavor_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-extra-specs:create")
    specs = (await json_body(request, CREATE_SPECS))["extra_specs"]
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        current = {spec.key: spec for spec in flavor.extra_specs}
        for key, value in specs.items():
            if key in current:
                current[key].value = str(value)
            else:
                flavor.extra_specs.append(FlavorExtraSpec(key=key, value=str(value)))
    return json_response({"extra_specs": {k: str(val) for k, val in specs.items()}})


@router.get("/os-extra_specs/{key}")
async def show_extra_spec(flavor_id: str, key: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-extra-specs:show")
    async with service.db.read() as session:
        flavor = await get_flavor(session, flavor_id)
    specs = flavor.extra_specs_dict
    if key not in specs:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return json_response({key: specs[key]})


@router.put("/os-extra_specs/{key}")
async def update_extra_spec(
    flavor_id: str, key: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-extra-specs:update")
    body = await json_body(request, UPDATE_SPEC)
    if key not in body:
        raise BadRequest("Request body and URI mismatch")
    value = str(body[key])
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        for spec in flavor.extra_specs:
            if spec.key == key:
                spec.value = value
                break
        else:
            flavor.extra_specs.append(FlavorExtraSpec(key=key, value=value))
    return json_response({key: value})


@router.delete("/os-extra_specs/{key}", status=200)
async def delete_extra_spec(flavor_id: str, key: str, ctx: Context, service: Compute) -> Response:
    ctx.enforce("os_compute_api:os-flavor-extra-specs:delete")
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        spec = next((s for s in flavor.extra_specs if s.key == key), None)
        if spec is None:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
        flavor.extra_specs.remove(spec)
    return empty_response(200)


async def _access_list(service: Compute, flavor: Flavor) -> list[dict[str, str]]:
    async with service.db.read() as session:
        projects = await session.scalars(
            select(FlavorProject.project_id)
            .where(FlavorProject.flavor_id == flavor.id)
            .order_by(FlavorProject.project_id)
        )
        return [{"flavor_id": flavor.flavorid, "tenant_id": p} for p in projects]


@router.get("/os-flavor-access")
async def list_flavor_access(flavor_id: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-flavor-access")
    async with service.db.read() as session:
        flavor = await get_flavor(session, flavor_id)
    if flavor.is_public:
        raise NotFound("Access list not available for public flavors.")
    return json_response({"flavor_access": await _access_list(service, flavor)})


@router.post("/action")
async def flavor_action(
    flavor_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """``addTenantAccess`` / ``removeTenantAccess`` of a private flavor."""
    body = await json_body(request, ACTION)
    adding = "addTenantAccess" in body
    project = (body.get("addTenantAccess") or body["removeTenantAccess"])["tenant"]
    rule = "add_tenant_access" if adding else "remove_tenant_access"
    ctx.enforce(f"os_compute_api:os-flavor-access:{rule}")
    async with service.changing_reference() as session:
        flavor = await get_flavor(session, flavor_id)
        grant = await session.get(FlavorProject, (flavor.id, project))
        if adding:
            if flavor.is_public:
                raise Conflict("Can not add access to a public flavor.")
            if grant is not None:
                raise Conflict(
                    f"Flavor access already exists for flavor {flavor_id} and project "
                    f"{project} combination."
                )
            session.add(FlavorProject(flavor_id=flavor.id, project_id=project))
        else:
            if grant is None:
                raise NotFound(f"Flavor access not found for {flavor_id} / {project} combination.")
            await session.delete(grant)
    return json_response({"flavor_access": await _access_list(service, flavor)})
