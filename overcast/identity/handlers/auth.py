"""``/v3/auth``: issue, validate, check and revoke tokens; what a token may be scoped to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import Forbidden, NotFound, Unauthorized
from overcast.identity import assignments, lookups, models, views
from overcast.identity.authenticate import Authenticator
from overcast.identity.handlers.common import Base, Identity, Tokens, self_url, truthy
from overcast.identity.schemas import AuthRequest
from overcast.identity.tokens.provider import ValidToken, revocation
from overcast.identity.tokens.scope import TokenInvalid

router = Router(prefix="/v3/auth")


@router.post("/tokens", status=201)
async def issue_token(
    request: Request, body: AuthRequest, identity: Identity, tokens: Tokens
) -> Response:
    valid = await Authenticator(identity, tokens).authenticate(body)
    identity.cache.remember_token(valid.token, valid, identity.cache.generation)
    return _token_response(request, valid, status=201)


async def _subject(request: Request, ctx: Context, tokens: Tokens, rule: str) -> ValidToken:
    ctx.require_auth()
    subject = request.headers.get("X-Subject-Token")
    if not subject:
        raise NotFound("Could not find token: the X-Subject-Token header is missing.")
    query = request.query_params if request.scope["query_string"] else {}
    allow_expired = truthy(query.get("allow_expired", "false"))
    try:
        valid = await tokens.validate(subject, allow_expired=allow_expired)
    except TokenInvalid as exc:
        # As Keystone: the subject token is read before policy, so a bad one is a 404.
        raise NotFound(f"Failed to validate token: {exc}") from None
    ctx.enforce(rule, {"target": {"token": {"user_id": valid.info.user_id}}})
    return valid


@router.get("/tokens")
async def validate_token(request: Request, ctx: Context, tokens: Tokens) -> Response:
    valid = await _subject(request, ctx, tokens, "identity:validate_token")
    return _token_response(request, valid)


@router.head("/tokens")
async def check_token(request: Request, ctx: Context, tokens: Tokens) -> Response:
    valid = await _subject(request, ctx, tokens, "identity:check_token")
    return Response(status_code=200, headers={"X-Subject-Token": valid.token})


@router.delete("/tokens", status=204)
async def revoke_token(
    request: Request, ctx: Context, identity: Identity, tokens: Tokens
) -> Response:
    valid = await _subject(request, ctx, tokens, "identity:revoke_token")
    async with identity.writing() as session:
        session.add(revocation(identity.clock.now(), audit_id=valid.payload.audit_id))
    return empty_response()


def _token_response(request: Request, valid: ValidToken, status: int = 200) -> Response:
    headers = {"X-Subject-Token": valid.token}
    if request.scope["query_string"] and "nocatalog" in request.query_params:
        body = {"token": {k: v for k, v in valid.body["token"].items() if k != "catalog"}}
        return json_response(body, status=status, headers=headers)
    return Response(valid.json, status, headers=headers, media_type="application/json")


@router.read("/catalog")
async def get_auth_catalog(request: Request, ctx: Context, tokens: Tokens) -> JSONResponse:
    auth = ctx.require_auth()
    ctx.enforce("identity:get_auth_catalog")
    if auth.scope == "unscoped":
        raise Forbidden("A scoped token is required to produce a service catalog.")
    try:
        valid = await tokens.validate(ctx.token or "")
    except TokenInvalid as exc:
        raise Unauthorized() from exc
    return json_response(
        {"catalog": valid.body["token"].get("catalog", []), "links": {"self": self_url(request)}}
    )


@router.read("/projects")
async def get_auth_projects(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    auth = ctx.require_auth()
    ctx.enforce("identity:get_auth_projects")
    async with identity.db.read() as session:
        project_ids = await assignments.project_ids_with_roles(session, auth.user_id)
        rows = await _enabled_projects(session, project_ids)
        tags = await lookups.tags_of(session, [p.id for p in rows])
    items = [views.project(base, p, tags[p.id]) for p in rows]
    return json_response(views.collection("projects", items, self_url(request)))


@router.read("/domains")
async def get_auth_domains(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    auth = ctx.require_auth()
    ctx.enforce("identity:get_auth_domains")
    async with identity.db.read() as session:
        domain_ids = await assignments.domain_ids_with_roles(session, auth.user_id)
        rows = await _enabled_projects(session, domain_ids)
        tags = await lookups.tags_of(session, [d.id for d in rows])
    items = [views.domain(base, d, tags[d.id]) for d in rows if d.is_domain]
    return json_response(views.collection("domains", items, self_url(request)))


@router.read("/system")
async def get_auth_system(request: Request, ctx: Context, identity: Identity) -> JSONResponse:
    auth = ctx.require_auth()
    ctx.enforce("identity:get_auth_system")
    async with identity.db.read() as session:
        roles = await assignments.direct_role_ids(session, auth.user_id, system=True)
    system = [{"all": True}] if roles else []
    return json_response({"system": system, "links": {"self": self_url(request)}})


async def _enabled_projects(session: Any, ids: set[str]) -> list[models.Project]:
    if not ids:
        return []
    rows = await session.scalars(
        select(models.Project)
        .where(models.Project.id.in_(ids), models.Project.enabled.is_(True))
        .order_by(models.Project.name)
    )
    return list(rows)
