"""``/v3/OS-TRUST/trusts``: a trustor delegates some of their roles on a project to a trustee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.ids import new_id
from overcast.identity import assignments, lookups, models, views
from overcast.identity.handlers.common import Base, Identity, self_url
from overcast.identity.models import GLOBAL_ROLE
from overcast.identity.schemas import RoleRef, TrustCreateRequest
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import revocation

router = Router(prefix="/v3/OS-TRUST/trusts")


def target(row: models.Trust | None) -> dict[str, Any]:
    if row is None:
        return {"target": {"trust": {}}}
    return {
        "target": {
            "trust": {
                "trustor_user_id": row.trustor_user_id,
                "trustee_user_id": row.trustee_user_id,
            }
        }
    }


@router.post("", status=201)
async def create_trust(
    body: TrustCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.trust
    auth = ctx.require_auth()
    ctx.enforce(
        "identity:create_trust",
        {"target": {"trust": {"trustor_user_id": spec.trustor_user_id}}},
    )
    if auth.trust_id:
        raise Forbidden("A trust cannot be created with a token issued through another trust.")
    now = identity.clock.now()
    if spec.expires_at is not None and spec.expires_at <= now:
        raise BadRequest("The expiration time of a trust must be in the future.")
    if spec.roles and not spec.project_id:
        raise BadRequest("A trust that delegates roles needs a project_id.")
    async with identity.writing() as session:
        await lookups.user(session, spec.trustee_user_id)
        roles = await _delegated(
            identity, session, spec.trustor_user_id, spec.project_id, spec.roles
        )
        row = models.Trust(
            id=new_id(),
            trustor_user_id=spec.trustor_user_id,
            trustee_user_id=spec.trustee_user_id,
            project_id=spec.project_id,
            impersonation=spec.impersonation,
            expires_at=spec.expires_at,
            remaining_uses=spec.remaining_uses,
            redelegated_trust_id=None,
            redelegation_count=spec.redelegation_count or 0,
            role_ids={"ids": [r.id for r in roles]},
            extra=spec.extras(),
        )
        session.add(row)
    return json_response({"trust": views.trust(base, row, roles)}, status=201)


async def _delegated(
    identity: IdentityService,
    session: AsyncSession,
    trustor_id: str,
    project_id: str | None,
    wanted: list[RoleRef],
) -> list[models.Role]:
    """The roles named in the request, each of which the trustor must hold on the project."""
    if not project_id:
        return []
    project = await lookups.project(session, project_id)
    graph = await assignments.RoleGraph.load(session)
    held = graph.expand(await assignments.direct_role_ids(session, trustor_id, project=project))
    roles = []
    for ref in wanted:
        role = await _find_role(session, ref)
        if role.id not in held:
            raise Forbidden(f"The trustor does not hold role {role.id} on project {project_id}.")
        roles.append(role)
    return roles


async def _find_role(session: AsyncSession, ref: RoleRef) -> models.Role:
    if ref.id:
        return await lookups.role(session, ref.id)
    if not ref.name:
        raise BadRequest("A role of a trust needs an id or a name.")
    row = await session.scalar(
        select(models.Role).where(
            models.Role.name == ref.name, models.Role.domain_id == (ref.domain_id or GLOBAL_ROLE)
        )
    )
    if row is None:
        raise NotFound(f"Could not find role: {ref.name}.")
    return row


async def _fetch(
    session: AsyncSession, ctx: RequestContext, rule: str, trust_id: str
) -> models.Trust:
    """The trust, then the policy check: unlike most resources, a missing trust is a 404
    whoever asks (as in Keystone)."""
    row = await session.get(models.Trust, trust_id)
    if row is None or row.deleted_at is not None:
        ctx.require_auth()
        raise NotFound(f"Could not find trust: {trust_id}.")
    ctx.enforce(rule, target(row))
    return row


async def _roles_of(session: AsyncSession, row: models.Trust) -> list[models.Role]:
    ids = row.role_ids.get("ids", [])
    return list(await session.scalars(select(models.Role).where(models.Role.id.in_(ids))))


@router.read("")
async def list_trusts(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    trustor, trustee = query.get("trustor_user_id"), query.get("trustee_user_id")
    if trustor:
        ctx.enforce(
            "identity:list_trusts_for_trustor", {"target": {"trust": {"trustor_user_id": trustor}}}
        )
    if trustee:
        ctx.enforce(
            "identity:list_trusts_for_trustee", {"target": {"trust": {"trustee_user_id": trustee}}}
        )
    if not trustor and not trustee:
        ctx.enforce("identity:list_trusts")
    clauses: list[ColumnElement[bool]] = [models.Trust.deleted_at.is_(None)]
    if trustor:
        clauses.append(models.Trust.trustor_user_id == trustor)
    if trustee:
        clauses.append(models.Trust.trustee_user_id == trustee)
    async with identity.db.read() as session:
        rows = await session.scalars(select(models.Trust).where(*clauses).order_by(models.Trust.id))
        items = [views.trust(base, r) for r in rows]
    return json_response(views.collection("trusts", items, self_url(request)))


@router.read("/{trust_id}")
async def get_trust(trust_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    async with identity.db.read() as session:
        row = await _fetch(session, ctx, "identity:get_trust", trust_id)
        roles = await _roles_of(session, row)
    return json_response({"trust": views.trust(base, row, roles)})


@router.delete("/{trust_id}", status=204)
async def delete_trust(trust_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        row = await _fetch(session, ctx, "identity:delete_trust", trust_id)
        now = identity.clock.now()
        row.deleted_at = now
        session.add(revocation(now, trust_id=trust_id))
    return empty_response()


@router.read("/{trust_id}/roles")
async def list_trust_roles(
    request: Request, trust_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        row = await _fetch(session, ctx, "identity:list_roles_for_trust", trust_id)
        roles = await _roles_of(session, row)
    return json_response(
        views.collection("roles", [views.role(base, r) for r in roles], self_url(request))
    )


@router.read("/{trust_id}/roles/{role_id}")
async def get_trust_role(
    trust_id: str, role_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        row = await _fetch(session, ctx, "identity:get_role_for_trust", trust_id)
        if role_id not in row.role_ids.get("ids", []):
            raise NotFound(f"Could not find role: {role_id}.")
        role = await lookups.role(session, role_id)
    return json_response({"role": views.role(base, role)})
