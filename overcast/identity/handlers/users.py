"""``/v3/users``: users, their passwords, their groups and projects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, NotFound, Unauthorized
from overcast.common.auth.context import RequestContext
from overcast.common.ids import new_id
from overcast.identity import assignments, cascade, compliance, lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    bool_filter,
    field_filters,
    filter_target,
    name_filters,
    paged_list,
    self_url,
)
from overcast.identity.handlers.projects import default_domain
from overcast.identity.schemas import PasswordChangeRequest, UserCreateRequest, UserUpdateRequest
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import revocation
from overcast.identity.tokens.scope import password_expires_at

router = Router(prefix="/v3/users")


def duplicate_user(name: str, domain_id: str) -> str:
    return (
        "Conflict occurred attempting to store user - Duplicate entry found with name "
        f"{name} at domain ID {domain_id}."
    )


def target(row: models.User | None) -> dict[str, Any]:
    if row is None:
        return {"target": {"user": {}}}
    return {"target": {"user": {"id": row.id, "domain_id": row.domain_id}}}


async def render(session: AsyncSession, base: str, row: models.User) -> dict[str, Any]:
    return views.user(base, row, await password_expires_at(session, row))


async def fetch(session: AsyncSession, ctx: RequestContext, rule: str, user_id: str) -> models.User:
    """The user, after checking ``rule`` against it (403 before 404, as Keystone)."""
    row = await session.get(models.User, user_id)
    ctx.enforce(rule, {"user_id": user_id, **target(row)})
    if row is None:
        raise NotFound(f"Could not find user: {user_id}.")
    return row


@router.post("", status=201)
async def create_user(
    body: UserCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    auth = ctx.require_auth()
    spec = body.user
    domain_id = spec.domain_id or default_domain(auth)
    ctx.enforce("identity:create_user", {"target": {"user": {"domain_id": domain_id}}})
    password = None
    if spec.password is not None:
        password = await compliance.prepare(
            identity, spec.password, user_id=None, self_service=False
        )
    async with identity.writing() as session:
        await lookups.domain(session, domain_id)
        await _check_default_project(session, spec.default_project_id)
        row = models.User(
            id=new_id(),
            domain_id=domain_id,
            name=spec.name,
            enabled=spec.enabled,
            default_project_id=spec.default_project_id,
            description=spec.description,
            extra=spec.extras(),
            options=spec.options,
            created_at=identity.clock.now(),
            failed_auth_count=0,
        )
        session.add(row)
        await lookups.flush_or_conflict(session, duplicate_user(spec.name, domain_id))
        if password is not None:
            await compliance.store(identity, session, row, password, revoke=False)
            await session.flush()
        user = await render(session, base, row)
    return json_response({"user": user}, status=201)


async def _check_default_project(session: AsyncSession, project_id: str | None) -> None:
    if project_id is None:
        return
    project = await session.get(models.Project, project_id)
    if project is not None and project.is_domain:
        raise BadRequest("The default project of a user cannot be a domain.")


@router.read("")
async def list_users(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    ctx.enforce("identity:list_users", {"target": filter_target(domain_id=query.get("domain_id"))})
    clauses = name_filters(request, models.User.name)
    clauses += field_filters(request, models.User, "domain_id")
    enabled = bool_filter(request, "enabled", models.User.enabled)
    if enabled is not None:
        clauses.append(enabled)

    async def render_all(session: AsyncSession, rows: list[models.User]) -> list[dict[str, Any]]:
        return [await render(session, base, r) for r in rows]

    return await paged_list(request, identity, models.User, clauses, "users", render_all)


@router.read("/{user_id}")
async def get_user(user_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    async with identity.db.read() as session:
        row = await fetch(session, ctx, "identity:get_user", user_id)
        return json_response({"user": await render(session, base, row)})


@router.patch("/{user_id}")
async def update_user(
    user_id: str, body: UserUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.user
    extras = spec.extras()
    if "domain_id" in extras:
        raise BadRequest("Update of `domain_id` is not allowed.")
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    password = None
    if changes.get("password") is not None:
        async with identity.db.read() as session:
            await fetch(session, ctx, "identity:update_user", user_id)
        password = await compliance.prepare(
            identity, changes["password"], user_id=user_id, self_service=False
        )
    async with identity.writing() as session:
        row = await fetch(session, ctx, "identity:update_user", user_id)
        if "default_project_id" in changes:
            await _check_default_project(session, changes["default_project_id"])
            row.default_project_id = changes["default_project_id"]
        for field in ("name", "enabled"):
            if changes.get(field) is not None:
                setattr(row, field, changes[field])
        if "description" in changes:
            row.description = changes["description"]
        if changes.get("options") is not None:
            row.options = _merge_options(row.options, changes["options"])
        if extras:
            row.extra = {**row.extra, **extras}
        if changes.get("enabled") is False:
            session.add(revocation(identity.clock.now(), user_id=row.id))
        await lookups.flush_or_conflict(session, duplicate_user(row.name, row.domain_id))
        if password is not None:
            await compliance.store(identity, session, row, password)
            await session.flush()
        user = await render(session, base, row)
    return json_response({"user": user})


def _merge_options(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Keystone's options merge: a ``null`` value removes the option."""
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


@router.delete("/{user_id}", status=204)
async def delete_user(user_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        await fetch(session, ctx, "identity:delete_user", user_id)
        await cascade.delete_users(session, [user_id], identity.clock.now())
    return empty_response()


@router.post("/{user_id}/password", status=204)
async def change_password(
    user_id: str, body: PasswordChangeRequest, identity: Identity
) -> Response:
    """A user changes their own password; the original password is the proof, no token needed."""
    spec = body.user
    await _verify_original(identity, user_id, spec.original_password)
    password = await compliance.prepare(identity, spec.password, user_id=user_id, self_service=True)
    async with identity.writing() as session:
        row = await lookups.user(session, user_id)
        if row.options.get("lock_password"):
            raise BadRequest(f"The password of user {user_id} is locked and cannot be changed.")
        await compliance.store(identity, session, row, password)
    return empty_response()


async def _verify_original(identity: IdentityService, user_id: str, password: str) -> None:
    async with identity.db.read() as session:
        row = await session.get(models.User, user_id)
        current = None
        if row is not None:
            current = await session.scalar(
                select(models.Password)
                .where(models.Password.user_id == user_id)
                .order_by(models.Password.id.desc())
                .limit(1)
            )
    if row is None or not row.enabled:
        await identity.hasher.verify(password, None)
        raise Unauthorized()
    if not await identity.hasher.verify(password, current.hash if current else None):
        raise Unauthorized()


@router.read("/{user_id}/groups")
async def list_user_groups(
    request: Request, user_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        await fetch(session, ctx, "identity:list_groups_for_user", user_id)
        rows = await session.scalars(
            select(models.Group)
            .join(models.Membership, models.Membership.group_id == models.Group.id)
            .where(models.Membership.user_id == user_id)
            .order_by(models.Group.name)
        )
        items = [{**views.group(base, g), "membership_expires_at": None} for g in rows]
    return json_response(views.collection("groups", items, self_url(request)))


@router.read("/{user_id}/projects")
async def list_user_projects(
    request: Request, user_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        await fetch(session, ctx, "identity:list_user_projects", user_id)
        ids = await assignments.project_ids_with_roles(session, user_id)
        rows = list(
            await session.scalars(
                select(models.Project)
                .where(models.Project.id.in_(ids))
                .order_by(models.Project.name)
            )
        )
        query = request.query_params
        if "enabled" in query:
            wanted = query["enabled"].lower() not in ("0", "false", "f", "no")
            rows = [r for r in rows if r.enabled == wanted]
        if "name" in query:
            rows = [r for r in rows if r.name == query["name"]]
        tags = await lookups.tags_of(session, [r.id for r in rows])
    items = [views.project(base, r, tags[r.id]) for r in rows]
    return json_response(views.collection("projects", items, self_url(request)))
