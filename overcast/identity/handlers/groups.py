"""``/v3/groups``: groups and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.ids import new_id
from overcast.identity import cascade, lookups, models, views
from overcast.identity.handlers import users as user_handlers
from overcast.identity.handlers.common import (
    Base,
    Identity,
    each,
    field_filters,
    filter_target,
    name_filters,
    paged_list,
    self_url,
)
from overcast.identity.handlers.projects import default_domain
from overcast.identity.schemas import GroupCreateRequest, GroupUpdateRequest
from overcast.identity.tokens.provider import revocation

router = Router(prefix="/v3/groups")


def duplicate_group(name: str, domain_id: str) -> str:
    return (
        "Conflict occurred attempting to store group - Duplicate entry found with name "
        f"{name} at domain ID {domain_id}."
    )


def target(group: models.Group | None, user: models.User | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"group": {}}
    if group is not None:
        inner["group"] = {"id": group.id, "domain_id": group.domain_id}
    if user is not None:
        inner["user"] = {"id": user.id, "domain_id": user.domain_id}
    return {"target": inner}


async def fetch(
    session: AsyncSession, ctx: RequestContext, rule: str, group_id: str
) -> models.Group:
    row = await session.get(models.Group, group_id)
    ctx.enforce(rule, target(row))
    if row is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return row


@router.post("", status=201)
async def create_group(
    body: GroupCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.group
    domain_id = spec.domain_id or default_domain(ctx.require_auth())
    ctx.enforce("identity:create_group", {"target": {"group": {"domain_id": domain_id}}})
    async with identity.writing() as session:
        await lookups.domain(session, domain_id)
        row = models.Group(
            id=new_id(),
            domain_id=domain_id,
            name=spec.name,
            description=spec.description if spec.description is not None else "",
            extra=spec.extras(),
        )
        session.add(row)
        await lookups.flush_or_conflict(session, duplicate_group(spec.name, domain_id))
    return json_response({"group": views.group(base, row)}, status=201)


@router.read("")
async def list_groups(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    ctx.enforce(
        "identity:list_groups",
        {"target": {"group": filter_target(domain_id=query.get("domain_id"))}},
    )
    clauses = name_filters(request, models.Group.name)
    clauses += field_filters(request, models.Group, "domain_id")
    render = each(lambda r: views.group(base, r))
    return await paged_list(request, identity, models.Group, clauses, "groups", render)


@router.read("/{group_id}")
async def get_group(group_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    async with identity.db.read() as session:
        row = await fetch(session, ctx, "identity:get_group", group_id)
    return json_response({"group": views.group(base, row)})


@router.patch("/{group_id}")
async def update_group(
    group_id: str, body: GroupUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.group
    extras = spec.extras()
    if "domain_id" in extras:
        raise BadRequest("Update of `domain_id` is not allowed.")
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await fetch(session, ctx, "identity:update_group", group_id)
        if changes.get("name") is not None:
            row.name = changes["name"]
        if "description" in changes:
            row.description = changes["description"] or ""
        if extras:
            row.extra = {**row.extra, **extras}
        await lookups.flush_or_conflict(session, duplicate_group(row.name, row.domain_id))
    return json_response({"group": views.group(base, row)})


@router.delete("/{group_id}", status=204)
async def delete_group(group_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        await fetch(session, ctx, "identity:delete_group", group_id)
        members = await session.scalars(
            select(models.Membership.user_id).where(models.Membership.group_id == group_id)
        )
        now = identity.clock.now()
        for user_id in members:
            session.add(revocation(now, user_id=user_id))
        await cascade.delete_groups(session, [group_id])
    return empty_response()


@router.read("/{group_id}/users")
async def list_group_users(
    request: Request, group_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        await fetch(session, ctx, "identity:list_users_in_group", group_id)
        rows = await session.scalars(
            select(models.User)
            .join(models.Membership, models.Membership.user_id == models.User.id)
            .where(models.Membership.group_id == group_id)
            .order_by(models.User.name)
        )
        items = [await user_handlers.render(session, base, u) for u in rows]
    return json_response(views.collection("users", items, self_url(request)))


async def _member_pair(
    session: AsyncSession, ctx: RequestContext, rule: str, group_id: str, user_id: str
) -> None:
    group = await session.get(models.Group, group_id)
    user = await session.get(models.User, user_id)
    ctx.enforce(rule, target(group, user))
    if group is None:
        raise NotFound(f"Could not find group: {group_id}.")
    if user is None:
        raise NotFound(f"Could not find user: {user_id}.")


@router.put("/{group_id}/users/{user_id}", status=204)
async def add_user_to_group(
    group_id: str, user_id: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.writing() as session:
        await _member_pair(session, ctx, "identity:add_user_to_group", group_id, user_id)
        if await session.get(models.Membership, (user_id, group_id)) is None:
            session.add(models.Membership(user_id=user_id, group_id=group_id))
    return empty_response()


@router.head("/{group_id}/users/{user_id}", status=204)
@router.get("/{group_id}/users/{user_id}", status=204)
async def check_user_in_group(
    group_id: str, user_id: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.db.read() as session:
        await _member_pair(session, ctx, "identity:check_user_in_group", group_id, user_id)
        if await session.get(models.Membership, (user_id, group_id)) is None:
            raise NotFound(f"User {user_id} is not a member of group {group_id}.")
    return empty_response()


@router.delete("/{group_id}/users/{user_id}", status=204)
async def remove_user_from_group(
    group_id: str, user_id: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.writing() as session:
        await _member_pair(session, ctx, "identity:remove_user_from_group", group_id, user_id)
        row = await session.get(models.Membership, (user_id, group_id))
        if row is None:
            raise NotFound(f"User {user_id} is not a member of group {group_id}.")
        await session.delete(row)
        session.add(revocation(identity.clock.now(), user_id=user_id))
    return empty_response()
