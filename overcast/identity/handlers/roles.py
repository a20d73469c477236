"""``/v3/roles``: global and domain-specific roles, and role inference (implied roles)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.assignments import RoleGraph
from overcast.identity.handlers.common import (
    Base,
    Identity,
    each,
    name_filters,
    paged_list,
    self_url,
)
from overcast.identity.models import GLOBAL_ROLE
from overcast.identity.schemas import RoleCreateRequest, RoleUpdateRequest
from overcast.identity.tokens.provider import revocation

router = Router()
PROHIBITED_IMPLIED = ("admin",)


def duplicate_role(name: str) -> str:
    return f"Conflict occurred attempting to store role - Duplicate entry found with name {name}."


def _rule(action: str, row: models.Role | None) -> str:
    """Domain-specific roles have rules of their own (``identity:get_domain_role`` ...)."""
    if row is not None and row.domain_id != GLOBAL_ROLE:
        return f"identity:{action}_domain_role"
    return f"identity:{action}_role"


def target(row: models.Role | None) -> dict[str, Any]:
    if row is None:
        return {"target": {"role": {}}}
    domain_id = None if row.domain_id == GLOBAL_ROLE else row.domain_id
    return {"target": {"role": {"id": row.id, "name": row.name, "domain_id": domain_id}}}


async def fetch(
    session: AsyncSession, ctx: RequestContext, action: str, role_id: str
) -> models.Role:
    row = await session.get(models.Role, role_id)
    ctx.enforce(_rule(action, row), target(row))
    if row is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return row


@router.post("/v3/roles", status=201)
async def create_role(
    body: RoleCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.role
    rule = "identity:create_domain_role" if spec.domain_id else "identity:create_role"
    ctx.enforce(rule, {"target": {"role": {"domain_id": spec.domain_id}}})
    async with identity.writing() as session:
        if spec.domain_id:
            await lookups.domain(session, spec.domain_id)
        row = models.Role(
            id=new_id(),
            name=spec.name,
            domain_id=spec.domain_id or GLOBAL_ROLE,
            description=spec.description,
            extra=spec.extras(),
            options=spec.options,
        )
        session.add(row)
        await lookups.flush_or_conflict(session, duplicate_role(spec.name))
    return json_response({"role": views.role(base, row)}, status=201)


@router.read("/v3/roles")
async def list_roles(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    domain_id = request.query_params.get("domain_id")
    rule = "identity:list_domain_roles" if domain_id else "identity:list_roles"
    ctx.enforce(rule, {"target": {"role": {"domain_id": domain_id}}})
    clauses = [models.Role.domain_id == (domain_id or GLOBAL_ROLE)]
    clauses += name_filters(request, models.Role.name)
    render = each(lambda r: views.role(base, r))
    return await paged_list(request, identity, models.Role, clauses, "roles", render)


@router.read("/v3/roles/{role_id}")
async def get_role(role_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    async with identity.db.read() as session:
        row = await fetch(session, ctx, "get", role_id)
    return json_response({"role": views.role(base, row)})


@router.patch("/v3/roles/{role_id}")
async def update_role(
    role_id: str, body: RoleUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.role
    extras = spec.extras()
    if "domain_id" in extras:
        raise BadRequest("Update of `domain_id` is not allowed.")
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await fetch(session, ctx, "update", role_id)
        options = changes.get("options")
        if row.options.get("immutable") and not (options and options.get("immutable") is False):
            raise Forbidden(f"Role {role_id} is immutable and cannot be changed.")
        if changes.get("name") is not None:
            row.name = changes["name"]
        if "description" in changes:
            row.description = changes["description"]
        if options is not None:
            row.options = {k: v for k, v in {**row.options, **options}.items() if v is not None}
        if extras:
            row.extra = {**row.extra, **extras}
        await lookups.flush_or_conflict(session, duplicate_role(row.name))
    return json_response({"role": views.role(base, row)})


@router.delete("/v3/roles/{role_id}", status=204)
async def delete_role(role_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        row = await fetch(session, ctx, "delete", role_id)
        if row.options.get("immutable"):
            raise Forbidden(f"Role {role_id} is immutable and cannot be deleted.")
        await session.delete(row)
        session.add(revocation(identity.clock.now(), role_id=role_id))
    return empty_response()


# -- role inference -------------------------------------------------------------


async def _pair(
    session: AsyncSession, ctx: RequestContext, rule: str, prior_id: str, implied_id: str
) -> tuple[models.Role, models.Role]:
    ctx.enforce(rule)
    prior = await lookups.role(session, prior_id)
    implied = await lookups.role(session, implied_id)
    return prior, implied


def _inference(base: str, prior: models.Role, implied: Any) -> dict[str, Any]:
    return {"prior_role": views.role_ref(base, prior), "implies": implied}


@router.put("/v3/roles/{prior_id}/implies/{implied_id}", status=201)
async def create_implied_role(
    prior_id: str, implied_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.writing() as session:
        prior, implied = await _pair(
            session, ctx, "identity:create_implied_role", prior_id, implied_id
        )
        if implied.name in PROHIBITED_IMPLIED:
            raise Forbidden(f"{implied.name} is prohibited as an implied role.")
        if implied.domain_id != GLOBAL_ROLE and prior.domain_id == GLOBAL_ROLE:
            raise Forbidden(
                f"Role {implied_id} is domain-specific and cannot be implied by the global "
                f"role {prior_id}."
            )
        graph = await RoleGraph.load(session)
        if prior_id in graph.expand([implied_id]):
            raise BadRequest(f"Role {implied_id} implying role {prior_id} would create a loop.")
        if await session.get(models.ImpliedRole, (prior_id, implied_id)) is None:
            session.add(models.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
    return json_response(
        {
            "role_inference": _inference(base, prior, views.role_ref(base, implied)),
            "links": {"self": f"{base}/v3/roles/{prior_id}/implies/{implied_id}"},
        },
        status=201,
    )


@router.get("/v3/roles/{prior_id}/implies/{implied_id}")
async def get_implied_role(
    prior_id: str, implied_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        prior, implied = await _pair(
            session, ctx, "identity:get_implied_role", prior_id, implied_id
        )
        await _existing_inference(session, prior_id, implied_id)
    return json_response(
        {
            "role_inference": _inference(base, prior, views.role_ref(base, implied)),
            "links": {"self": f"{base}/v3/roles/{prior_id}/implies/{implied_id}"},
        }
    )


@router.head("/v3/roles/{prior_id}/implies/{implied_id}", status=204)
async def check_implied_role(
    prior_id: str, implied_id: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.db.read() as session:
        await _pair(session, ctx, "identity:check_implied_role", prior_id, implied_id)
        await _existing_inference(session, prior_id, implied_id)
    return empty_response()


@router.delete("/v3/roles/{prior_id}/implies/{implied_id}", status=204)
async def delete_implied_role(
    prior_id: str, implied_id: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.writing() as session:
        await _pair(session, ctx, "identity:delete_implied_role", prior_id, implied_id)
        row = await _existing_inference(session, prior_id, implied_id)
        await session.delete(row)
    return empty_response()


async def _existing_inference(
    session: AsyncSession, prior_id: str, implied_id: str
) -> models.ImpliedRole:
    row = await session.get(models.ImpliedRole, (prior_id, implied_id))
    if row is None:
        raise NotFound(f"{prior_id} does not imply {implied_id}.")
    return row


@router.read("/v3/roles/{prior_id}/implies")
async def list_implied_roles(
    prior_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_implied_roles")
    async with identity.db.read() as session:
        prior = await lookups.role(session, prior_id)
        implied = await session.scalars(
            select(models.Role)
            .join(models.ImpliedRole, models.ImpliedRole.implied_role_id == models.Role.id)
            .where(models.ImpliedRole.prior_role_id == prior_id)
        )
        refs = [views.role_ref(base, r) for r in implied]
    return json_response(
        {
            "role_inference": _inference(base, prior, refs),
            "links": {"self": f"{base}/v3/roles/{prior_id}/implies"},
        }
    )


@router.read("/v3/role_inferences")
async def list_role_inference_rules(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_role_inference_rules")
    async with identity.db.read() as session:
        graph = await RoleGraph.load(session)
    inferences = [
        _inference(
            base,
            graph.roles[prior],
            [views.role_ref(base, graph.roles[i]) for i in sorted(implied)],
        )
        for prior, implied in sorted(graph.implies.items())
    ]
    return json_response({"role_inferences": inferences, "links": {"self": self_url(request)}})
