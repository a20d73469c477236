"""``/v3/domains``: domains are projects that act as domains."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import Forbidden, NotFound
from overcast.common.ids import new_id
from overcast.identity import cascade, lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    bool_filter,
    filter_target,
    name_filters,
    paged_list,
)
from overcast.identity.handlers.projects import replace_tags
from overcast.identity.models import ROOT_DOMAIN
from overcast.identity.schemas import DomainCreateRequest, DomainUpdateRequest
from overcast.identity.tokens.provider import revocation

router = Router(prefix="/v3/domains")


def duplicate_domain(name: str) -> str:
    return (
        "Conflict occurred attempting to store project - it is not permitted to have two "
        f"projects acting as domains with the same name: {name}."
    )


@router.post("", status=201)
async def create_domain(
    body: DomainCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_domain")
    spec = body.domain
    async with identity.writing() as session:
        row = models.Project(
            id=spec.explicit_domain_id or new_id(),
            name=spec.name,
            domain_id=ROOT_DOMAIN,
            parent_id=None,
            is_domain=True,
            enabled=spec.enabled,
            description=spec.description or "",
            extra=spec.extras(),
            options=spec.options,
            created_at=identity.clock.now(),
        )
        session.add(row)
        await lookups.flush_or_conflict(session, duplicate_domain(spec.name))
        await replace_tags(session, row.id, spec.tags)
    return json_response({"domain": views.domain(base, row, spec.tags)}, status=201)


@router.read("")
async def list_domains(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    domain_id = ctx.require_auth().domain_id
    ctx.enforce("identity:list_domains", {"target": {"domain": filter_target(id=domain_id)}})
    clauses = [models.Project.is_domain.is_(True), *name_filters(request, models.Project.name)]
    enabled = bool_filter(request, "enabled", models.Project.enabled)
    if enabled is not None:
        clauses.append(enabled)

    async def render(session: AsyncSession, rows: list[models.Project]) -> list[dict[str, Any]]:
        tags = await lookups.tags_of(session, [r.id for r in rows])
        return [views.domain(base, r, tags[r.id]) for r in rows]

    return await paged_list(request, identity, models.Project, clauses, "domains", render)


@router.read("/{domain_id}")
async def get_domain(domain_id: str, ctx: Context, identity: Identity, base: Base) -> JSONResponse:
    async with identity.db.read() as session:
        row = await session.get(models.Project, domain_id)
        ctx.enforce("identity:get_domain", {"target": {"domain": {"id": domain_id}}})
        if row is None or not row.is_domain:
            raise NotFound(f"Could not find domain: {domain_id}.")
        tags = (await lookups.tags_of(session, [row.id]))[row.id]
    return json_response({"domain": views.domain(base, row, tags)})


@router.patch("/{domain_id}")
async def update_domain(
    domain_id: str, body: DomainUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_domain", {"target": {"domain": {"id": domain_id}}})
    changes = body.domain.model_dump(exclude_unset=True)
    async with identity.writing() as session:
        row = await lookups.domain(session, domain_id)
        tags = changes.pop("tags", None)
        _apply(row, changes, body.domain.extras())
        if changes.get("enabled") is False:
            session.add(revocation(identity.clock.now(), domain_id=domain_id))
        await lookups.flush_or_conflict(session, duplicate_domain(row.name))
        if tags is not None:
            await replace_tags(session, row.id, tags)
        current = (await lookups.tags_of(session, [row.id]))[row.id]
    return json_response({"domain": views.domain(base, row, current)})


@router.delete("/{domain_id}", status=204)
async def delete_domain(domain_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_domain", {"target": {"domain": {"id": domain_id}}})
    async with identity.writing() as session:
        row = await lookups.domain(session, domain_id)
        if row.enabled:
            raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        await cascade.delete_domain(session, domain_id, identity.clock.now())
    return empty_response()


def _apply(row: models.Project, changes: dict[str, object], extras: dict[str, object]) -> None:
    for field in ("name", "enabled", "options"):
        if field in changes and changes[field] is not None:
            setattr(row, field, changes[field])
    if "description" in changes:
        row.description = str(changes["description"] or "")
    if extras:
        row.extra = {**row.extra, **extras}
