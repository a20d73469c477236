"""``/v3/users/{id}/application_credentials`` and ``/v3/users/{id}/access_rules``."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.common.auth.context import AuthInfo
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.assignments import RoleGraph
from overcast.identity.handlers.common import Base, Identity, self_url
from overcast.identity.schemas import AccessRuleIn, AppCredCreateRequest, RoleRef
from overcast.identity.service import IdentityService

router = Router(prefix="/v3/users/{user_id}")
APP_CREDS = "/application_credentials"
RULES = "/access_rules"


def _user_target(user_id: str) -> dict[str, Any]:
    return {"user_id": user_id, "target": {"user": {"id": user_id}}}


@router.post(APP_CREDS, status=201)
async def create_application_credential(
    user_id: str, body: AppCredCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    auth = ctx.require_auth()
    ctx.enforce("identity:create_application_credential", _user_target(user_id))
    if auth.user_id != user_id:
        raise Forbidden("Cannot create an application credential for another user.")
    if auth.application_credential_id:
        await _require_unrestricted(identity, auth.application_credential_id)
    spec = body.application_credential
    if auth.project_id is None:
        raise Forbidden("An application credential is created with a project-scoped token.")
    if spec.expires_at is not None and spec.expires_at <= identity.clock.now():
        raise BadRequest("The expiration time of an application credential must be in the future.")
    secret = spec.secret or secrets.token_urlsafe(64)
    secret_hash = await identity.hasher.hash(secret)
    graph = await identity.role_graph()
    async with identity.writing() as session:
        roles = await _delegated_roles(session, graph, auth, spec.roles)
        row = models.ApplicationCredential(
            id=new_id(),
            name=spec.name,
            secret_hash=secret_hash,
            description=spec.description,
            user_id=user_id,
            project_id=auth.project_id,
            system=None,
            expires_at=spec.expires_at,
            unrestricted=bool(spec.unrestricted),
            role_ids={"ids": [r.id for r in roles]},
            created_at=identity.clock.now(),
        )
        session.add(row)
        await lookups.flush_or_conflict(
            session,
            "Conflict occurred attempting to store application_credential - "
            f"Duplicate entry found with name {spec.name}.",
        )
        rules = await _attach_rules(session, row.id, user_id, spec.access_rules or [])
    created = {**views.application_credential(base, row, roles, rules), "secret": secret}
    return json_response({"application_credential": created}, status=201)


async def _require_unrestricted(identity: IdentityService, app_cred_id: str) -> None:
    async with identity.db.read() as session:
        cred = await session.get(models.ApplicationCredential, app_cred_id)
    if cred is None or not cred.unrestricted:
        raise Forbidden("A restricted application credential cannot be used to create another one.")


async def _delegated_roles(
    session: AsyncSession, graph: RoleGraph, auth: AuthInfo, wanted: list[RoleRef] | None
) -> list[models.Role]:
    """The roles to delegate: the token's; or those requested plus the roles they imply,
    every one of which must be in the token."""
    held = set(auth.role_ids)
    if not wanted:
        ids = held
    else:
        by_name = {role.name: role.id for role in graph.roles.values() if role.id in held}
        asked = [ref.id or by_name.get(ref.name or "", ref.name or "") for ref in wanted]
        ids = graph.expand(asked) | (set(asked) - set(graph.roles))
        if not ids <= held:
            raise BadRequest(
                "Invalid application credential: cannot create an application credential "
                "with a role the token does not carry."
            )
    rows = await session.scalars(select(models.Role).where(models.Role.id.in_(ids)))
    return sorted(rows, key=lambda r: r.name)


async def _attach_rules(
    session: AsyncSession, app_cred_id: str, user_id: str, wanted: list[AccessRuleIn]
) -> list[models.AccessRule]:
    attached: list[models.AccessRule] = []
    for spec in wanted:
        rule = await _find_or_make_rule(session, user_id, spec)
        session.add(
            models.AppCredAccessRule(application_credential_id=app_cred_id, access_rule_id=rule.id)
        )
        attached.append(rule)
    await session.flush()
    return attached


async def _find_or_make_rule(
    session: AsyncSession, user_id: str, spec: AccessRuleIn
) -> models.AccessRule:
    if spec.id is not None:
        rule = await session.get(models.AccessRule, spec.id)
        if rule is None or rule.user_id != user_id:
            raise NotFound(f"Could not find access rule: {spec.id}.")
        return rule
    if spec.path is None or spec.method is None or spec.service is None:
        raise BadRequest("An access rule needs a path, a method and a service (or an id).")
    existing = await session.scalar(
        select(models.AccessRule).where(
            models.AccessRule.user_id == user_id,
            models.AccessRule.service == spec.service,
            models.AccessRule.path == spec.path,
            models.AccessRule.method == spec.method,
        )
    )
    if existing is not None:
        return existing
    rule = models.AccessRule(
        id=new_id(), user_id=user_id, service=spec.service, path=spec.path, method=spec.method
    )
    session.add(rule)
    await session.flush()
    return rule


async def _render(
    session: AsyncSession, base: str, row: models.ApplicationCredential
) -> dict[str, Any]:
    ids = row.role_ids.get("ids", [])
    roles = sorted(
        await session.scalars(select(models.Role).where(models.Role.id.in_(ids))),
        key=lambda r: r.name,
    )
    rules = await session.scalars(
        select(models.AccessRule)
        .join(models.AppCredAccessRule)
        .where(models.AppCredAccessRule.application_credential_id == row.id)
    )
    return views.application_credential(base, row, roles, rules)


@router.read(APP_CREDS)
async def list_application_credentials(
    request: Request, user_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_application_credentials", _user_target(user_id))
    clauses = [models.ApplicationCredential.user_id == user_id]
    if "name" in request.query_params:
        clauses.append(models.ApplicationCredential.name == request.query_params["name"])
    async with identity.db.read() as session:
        rows = await session.scalars(
            select(models.ApplicationCredential)
            .where(*clauses)
            .order_by(models.ApplicationCredential.name)
        )
        items = [await _render(session, base, r) for r in rows]
    return json_response(views.collection("application_credentials", items, self_url(request)))


async def _app_cred(
    session: AsyncSession, user_id: str, app_cred_id: str
) -> models.ApplicationCredential:
    row = await session.get(models.ApplicationCredential, app_cred_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"Could not find Application Credential: {app_cred_id}.")
    return row


@router.read(APP_CREDS + "/{app_cred_id}")
async def get_application_credential(
    user_id: str, app_cred_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_application_credential", _user_target(user_id))
    async with identity.db.read() as session:
        row = await _app_cred(session, user_id, app_cred_id)
        return json_response({"application_credential": await _render(session, base, row)})


@router.delete(APP_CREDS + "/{app_cred_id}", status=204)
async def delete_application_credential(
    user_id: str, app_cred_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:delete_application_credential", _user_target(user_id))
    auth = ctx.require_auth()
    if auth.application_credential_id:
        await _require_unrestricted(identity, auth.application_credential_id)
    async with identity.writing() as session:
        await session.delete(await _app_cred(session, user_id, app_cred_id))
    return empty_response()


@router.read(RULES)
async def list_access_rules(
    request: Request, user_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_access_rules", _user_target(user_id))
    clauses = [models.AccessRule.user_id == user_id]
    for field in ("service", "path", "method"):
        if field in request.query_params:
            clauses.append(getattr(models.AccessRule, field) == request.query_params[field])
    async with identity.db.read() as session:
        rows = await session.scalars(
            select(models.AccessRule).where(*clauses).order_by(models.AccessRule.id)
        )
        items = [views.access_rule(base, r) for r in rows]
    return json_response(views.collection("access_rules", items, self_url(request)))


async def _rule(session: AsyncSession, user_id: str, rule_id: str) -> models.AccessRule:
    row = await session.get(models.AccessRule, rule_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"Could not find access rule: {rule_id}.")
    return row


@router.read(RULES + "/{rule_id}")
async def get_access_rule(
    user_id: str, rule_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_access_rule", _user_target(user_id))
    async with identity.db.read() as session:
        row = await _rule(session, user_id, rule_id)
    return json_response({"access_rule": views.access_rule(base, row)})


@router.delete(RULES + "/{rule_id}", status=204)
async def delete_access_rule(
    user_id: str, rule_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:delete_access_rule", _user_target(user_id))
    async with identity.writing() as session:
        row = await _rule(session, user_id, rule_id)
        users = await session.scalar(
            select(func.count()).where(models.AppCredAccessRule.access_rule_id == rule_id)
        )
        if users:
            raise Forbidden(
                f"Cannot delete access rule {rule_id}: an application credential uses it."
            )
        await session.delete(row)
    return empty_response()
