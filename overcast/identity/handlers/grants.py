"""Role grants: ``/v3/{projects,domains}/{id}/{users,groups}/{id}/roles[/{role}]``,
``/v3/system/{users,groups}/{id}/roles[/{role}]`` and their OS-INHERIT twins.

All of them are the same four operations (grant, check, list, revoke) on an
``Assignment`` row; the route table at the bottom builds one handler per shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import JSONResponse, Router, empty_response, json_response
from overcast.common.api.app import context_of
from overcast.common.api.errors import Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.identity import assignments, models, views
from overcast.identity.handlers.common import base_of, identity_of, self_url
from overcast.identity.models import GLOBAL_ROLE
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import revocation

router = Router()


@dataclass(frozen=True)
class Shape:
    """One family of grant URLs."""

    target: str  # "project", "domain" or "system"
    actor: str  # "user" or "group"
    inherited: bool = False

    @property
    def kind(self) -> str:
        return f"{self.actor.capitalize()}{self.target.capitalize()}"

    def rule(self, action: str) -> str:
        if self.target == "system":
            noun = "grants" if action == "list" else "grant"
            return f"identity:{action}_system_{noun}_for_{self.actor}"
        return f"identity:{action}_grant" if action != "list" else "identity:list_grants"


@dataclass
class Parties:
    actor: models.User | models.Group
    target: models.Project | None
    role: models.Role | None


async def _parties(
    session: AsyncSession,
    ctx: RequestContext,
    shape: Shape,
    action: str,
    actor_id: str,
    target_id: str,
    role_id: str | None,
) -> Parties:
    actor: models.User | models.Group | None
    if shape.actor == "user":
        actor = await session.get(models.User, actor_id)
    else:
        actor = await session.get(models.Group, actor_id)
    target = await session.get(models.Project, target_id) if shape.target != "system" else None
    role = await session.get(models.Role, role_id) if role_id else None
    ctx.enforce(shape.rule(action), _policy_target(shape, actor, target, role))
    if actor is None:
        raise NotFound(f"Could not find {shape.actor}: {actor_id}.")
    if shape.target != "system" and (
        target is None or (shape.target == "domain") != target.is_domain
    ):
        raise NotFound(f"Could not find {shape.target}: {target_id}.")
    if role_id and role is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return Parties(actor, target, role)


def _policy_target(
    shape: Shape, actor: Any, target: models.Project | None, role: models.Role | None
) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    if actor is not None:
        inner[shape.actor] = {"id": actor.id, "domain_id": actor.domain_id}
    if target is not None:
        if shape.target == "domain":
            inner["domain"] = {"id": target.id}
        else:
            inner["project"] = {"id": target.id, "domain_id": target.domain_id}
    if role is not None:
        role_domain = None if role.domain_id == GLOBAL_ROLE else role.domain_id
        inner["role"] = {"id": role.id, "name": role.name, "domain_id": role_domain}
    return {"target": inner}


def _assignment_key(shape: Shape, actor_id: str, target_id: str, role_id: str) -> tuple[Any, ...]:
    return (shape.kind, actor_id, target_id, role_id, shape.inherited)


def _no_assignment(role_id: str, actor_id: str, target_id: str) -> NotFound:
    return NotFound(
        f"Could not find role assignment with role: {role_id}, user or group: {actor_id}, "
        f"project, domain, or system: {target_id}."
    )


async def grant(
    identity: IdentityService,
    ctx: RequestContext,
    shape: Shape,
    actor_id: str,
    target_id: str,
    role_id: str,
) -> None:
    async with identity.writing() as session:
        parties = await _parties(session, ctx, shape, "create", actor_id, target_id, role_id)
        role = parties.role
        assert role is not None
        if role.domain_id != GLOBAL_ROLE and parties.target is not None:
            owner = parties.target.id if parties.target.is_domain else parties.target.domain_id
            if owner != role.domain_id:
                raise Forbidden(
                    f"{shape.target.capitalize()} {target_id} must be in the same domain as the "
                    f"role {role_id} being assigned."
                )
        key = _assignment_key(shape, actor_id, target_id, role_id)
        if await session.get(models.Assignment, key) is None:
            session.add(
                models.Assignment(
                    kind=shape.kind,
                    actor_id=actor_id,
                    target_id=target_id,
                    role_id=role_id,
                    inherited=shape.inherited,
                )
            )


async def check(
    identity: IdentityService,
    ctx: RequestContext,
    shape: Shape,
    actor_id: str,
    target_id: str,
    role_id: str,
) -> None:
    async with identity.db.read() as session:
        await _parties(session, ctx, shape, "check", actor_id, target_id, role_id)
        key = _assignment_key(shape, actor_id, target_id, role_id)
        if await session.get(models.Assignment, key) is None:
            raise _no_assignment(role_id, actor_id, target_id)


async def revoke(
    identity: IdentityService,
    ctx: RequestContext,
    shape: Shape,
    actor_id: str,
    target_id: str,
    role_id: str,
) -> None:
    async with identity.writing() as session:
        await _parties(session, ctx, shape, "revoke", actor_id, target_id, role_id)
        row = await session.get(
            models.Assignment, _assignment_key(shape, actor_id, target_id, role_id)
        )
        if row is None:
            raise _no_assignment(role_id, actor_id, target_id)
        await session.delete(row)
        users = [actor_id]
        if shape.actor == "group":
            users = list(
                await session.scalars(
                    select(models.Membership.user_id).where(models.Membership.group_id == actor_id)
                )
            )
        now = identity.clock.now()
        scope: dict[str, str] = {}
        if shape.target == "project" and not shape.inherited:
            scope = {"project_id": target_id}
        elif shape.target == "domain":
            scope = {"domain_id": target_id}
        for user_id in users:
            session.add(revocation(now, user_id=user_id, **scope))


async def list_roles(
    identity: IdentityService,
    ctx: RequestContext,
    shape: Shape,
    actor_id: str,
    target_id: str,
    base: str,
) -> list[dict[str, Any]]:
    async with identity.db.read() as session:
        await _parties(session, ctx, shape, "list", actor_id, target_id, None)
        rows = await session.scalars(
            select(models.Role)
            .join(models.Assignment, models.Assignment.role_id == models.Role.id)
            .where(
                models.Assignment.kind == shape.kind,
                models.Assignment.actor_id == actor_id,
                models.Assignment.target_id == target_id,
                models.Assignment.inherited == shape.inherited,
            )
            .order_by(models.Role.name)
        )
        return [views.role(base, r) for r in rows]


# -- routes -------------------------------------------------------------------------

Op = Callable[..., Awaitable[Any]]


def _one(shape: Shape, op: Op, status: int) -> Callable[..., Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        params = request.path_params
        await op(
            identity_of(request),
            context_of(request),
            shape,
            params["actor_id"],
            params.get("target_id", assignments.SYSTEM_TARGET),
            params["role_id"],
        )
        return empty_response(status)

    return handler


def _many(shape: Shape) -> Callable[..., Awaitable[JSONResponse]]:
    async def handler(request: Request) -> JSONResponse:
        params = request.path_params
        roles = await list_roles(
            identity_of(request),
            context_of(request),
            shape,
            params["actor_id"],
            params.get("target_id", assignments.SYSTEM_TARGET),
            base_of(request),
        )
        return json_response(views.collection("roles", roles, self_url(request)))

    return handler


def _register(
    prefix: str, shape: Shape, *, one_suffix: str = "", list_path: str | None = None
) -> None:
    one = f"{prefix}/roles/{{role_id}}{one_suffix}"
    router.add("PUT", one, _one(shape, grant, 204), status=204)
    router.add("GET", one, _one(shape, check, 204), status=204)
    router.add("DELETE", one, _one(shape, revoke, 204), status=204)
    if list_path is not None:
        router.add("GET", list_path, _many(shape))


for _actor, _plural in (("user", "users"), ("group", "groups")):
    for _target, _where in (("project", "projects"), ("domain", "domains")):
        _prefix = f"/v3/{_where}/{{target_id}}/{_plural}/{{actor_id}}"
        _register(_prefix, Shape(_target, _actor), list_path=f"{_prefix}/roles")
        _inherit = f"/v3/OS-INHERIT/{_where}/{{target_id}}/{_plural}/{{actor_id}}"
        _register(
            _inherit,
            Shape(_target, _actor, inherited=True),
            one_suffix="/inherited_to_projects",
            list_path=f"{_inherit}/roles/inherited_to_projects" if _target == "domain" else None,
        )
    _system = f"/v3/system/{_plural}/{{actor_id}}"
    _register(_system, Shape("system", _actor), list_path=f"{_system}/roles")
