"""``/v3/projects``: projects, their hierarchy and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.common.auth.context import AuthInfo
from overcast.common.ids import new_id
from overcast.identity import assignments, cascade, lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    bool_filter,
    filter_target,
    name_filters,
    paged_list,
    self_url,
    truthy,
)
from overcast.identity.models import ROOT_DOMAIN
from overcast.identity.schemas import (
    ProjectCreate,
    ProjectCreateRequest,
    ProjectUpdateRequest,
    TagsRequest,
)
from overcast.identity.tokens.provider import revocation

router = Router(prefix="/v3/projects")
IMMUTABLE = ("domain_id", "parent_id", "is_domain")
MAX_TAGS = 80


def duplicate_project(name: str, project_id: str) -> str:
    return (
        "Conflict occurred attempting to store project - it is not permitted to have two "
        f"projects with either the same name or same id in the same domain: name is {name}, "
        f"project id {project_id}."
    )


def target(row: models.Project | None) -> dict[str, Any]:
    if row is None:
        return {"target": {"project": {}}}
    domain_id = None if row.domain_id == ROOT_DOMAIN else row.domain_id
    return {"target": {"project": {"id": row.id, "domain_id": domain_id}}}


def default_domain(auth: AuthInfo) -> str:
    """Where a project goes when the request names no domain: the caller's."""
    return auth.domain_id or auth.project_domain_id or auth.user_domain_id


@router.post("", status=201)
async def create_project(
    body: ProjectCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    auth = ctx.require_auth()
    spec = body.project
    async with identity.writing() as session:
        row = await _new_project(session, spec, auth)
        domain_id = None if row.domain_id == ROOT_DOMAIN else row.domain_id
        ctx.enforce("identity:create_project", {"target": {"project": {"domain_id": domain_id}}})
        row.created_at = identity.clock.now()
        session.add(row)
        await lookups.flush_or_conflict(session, duplicate_project(spec.name, row.id))
        await replace_tags(session, row.id, spec.tags)
    return json_response({"project": views.project(base, row, spec.tags)}, status=201)


async def _new_project(
    session: AsyncSession, spec: ProjectCreate, auth: AuthInfo
) -> models.Project:
    parent: models.Project | None = None
    if spec.parent_id is not None:
        parent = await session.get(models.Project, spec.parent_id)
        if parent is None:
            raise NotFound(f"Could not find project: {spec.parent_id}.")
    if spec.is_domain:
        if spec.parent_id is not None or spec.domain_id is not None:
            raise BadRequest("A project acting as a domain cannot have a parent or a domain.")
        domain_id, parent_id = ROOT_DOMAIN, None
    else:
        if "domain_id" in spec.model_fields_set and spec.domain_id is None and parent is None:
            raise BadRequest("A project that is not a domain needs a domain_id.")
        domain_id = spec.domain_id or (
            (parent.id if parent.is_domain else parent.domain_id)
            if parent
            else default_domain(auth)
        )
        domain = await session.get(models.Project, domain_id)
        if domain is None or not domain.is_domain:
            raise NotFound(f"Could not find domain: {domain_id}.")
        if parent is not None and domain_id not in (parent.id, parent.domain_id):
            raise BadRequest("A project must be in the same domain as its parent.")
        parent_id = parent.id if parent else domain_id
    return models.Project(
        id=new_id(),
        name=spec.name,
        domain_id=domain_id,
        parent_id=parent_id,
        is_domain=spec.is_domain,
        enabled=spec.enabled,
        description=spec.description or "",
        extra=spec.extras(),
        options=spec.options,
    )


@router.read("")
async def list_projects(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    ctx.enforce(
        "identity:list_projects", {"target": filter_target(domain_id=query.get("domain_id"))}
    )

    async def render(session: AsyncSession, rows: list[models.Project]) -> list[dict[str, Any]]:
        tags = await lookups.tags_of(session, [r.id for r in rows])
        return [views.project(base, r, tags[r.id]) for r in rows]

    return await paged_list(
        request, identity, models.Project, _filters(request), "projects", render
    )


def _filters(request: Request) -> list[ColumnElement[bool]]:
    query = request.query_params
    project = models.Project
    clauses = name_filters(request, project.name)
    is_domain = truthy(query["is_domain"]) if "is_domain" in query else False
    clauses.append(project.is_domain.is_(is_domain))
    for field in ("domain_id", "parent_id"):
        if field in query:
            clauses.append(getattr(project, field) == query[field])
    enabled = bool_filter(request, "enabled", project.enabled)
    if enabled is not None:
        clauses.append(enabled)
    clauses.extend(_tag_filters(query.get("tags"), query.get("tags-any"), exclude=False))
    clauses.extend(_tag_filters(query.get("not-tags"), query.get("not-tags-any"), exclude=True))
    return clauses


def _tag_filters(all_of: str | None, any_of: str | None, *, exclude: bool) -> list[Any]:
    clauses: list[Any] = []

    def has(names: list[str]) -> Any:
        return exists().where(
            models.ProjectTag.project_id == models.Project.id, models.ProjectTag.name.in_(names)
        )

    if all_of:
        names = [t for t in all_of.split(",") if t]
        count = (
            select(func.count())
            .select_from(models.ProjectTag)
            .where(
                models.ProjectTag.project_id == models.Project.id, models.ProjectTag.name.in_(names)
            )
            .scalar_subquery()
        )
        clauses.append(count < len(names) if exclude else count == len(names))
    if any_of:
        names = [t for t in any_of.split(",") if t]
        clauses.append(~has(names) if exclude else has(names))
    return clauses


@router.read("/{project_id}")
async def get_project(
    request: Request, project_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    async with identity.db.read() as session:
        row = await session.get(models.Project, project_id)
        ctx.enforce("identity:get_project", target(row))
        if row is None:
            raise NotFound(f"Could not find project: {project_id}.")
        tags = (await lookups.tags_of(session, [row.id]))[row.id]
        body = views.project(base, row, tags)
        if "parents_as_ids" in query or "parents_as_list" in query:
            chain = await assignments.ancestors(session, row)
            if "parents_as_ids" in query:
                body["parents"] = _nest_ids([p.id for p in chain])
            else:
                body["parents"] = [{"project": views.project(base, p, [])} for p in chain]
        if "subtree_as_ids" in query or "subtree_as_list" in query:
            below = await _subtree(session, row.id)
            if "subtree_as_ids" in query:
                body["subtree"] = _tree_ids(below, row.id)
            else:
                body["subtree"] = [
                    {"project": views.project(base, p, [])} for p in _flatten(below, row.id)
                ]
    return json_response({"project": body})


def _nest_ids(chain: Sequence[str]) -> dict[str, Any] | None:
    nested: dict[str, Any] | None = None
    for project_id in reversed(chain):
        nested = {project_id: nested}
    return nested


async def _subtree(session: AsyncSession, root_id: str) -> dict[str, list[models.Project]]:
    children: dict[str, list[models.Project]] = {}
    frontier = [root_id]
    while frontier:
        rows = list(
            await session.scalars(
                select(models.Project).where(models.Project.parent_id.in_(frontier))
            )
        )
        for row in rows:
            assert row.parent_id is not None
            children.setdefault(row.parent_id, []).append(row)
        frontier = [r.id for r in rows]
    return children


def _tree_ids(children: dict[str, list[models.Project]], root_id: str) -> dict[str, Any] | None:
    kids = children.get(root_id, [])
    if not kids:
        return None
    return {k.id: _tree_ids(children, k.id) for k in kids}


def _flatten(children: dict[str, list[models.Project]], root_id: str) -> list[models.Project]:
    flat: list[models.Project] = []
    for kid in children.get(root_id, []):
        flat.append(kid)
        flat.extend(_flatten(children, kid.id))
    return flat


@router.patch("/{project_id}")
async def update_project(
    project_id: str, body: ProjectUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.project
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    extras = spec.extras()
    for field in IMMUTABLE:
        if field in extras:
            raise BadRequest(f"Update of `{field}` is not allowed.")
    async with identity.writing() as session:
        row = await session.get(models.Project, project_id)
        ctx.enforce("identity:update_project", target(row))
        if row is None:
            raise NotFound(f"Could not find project: {project_id}.")
        tags = changes.pop("tags", None)
        for field in ("name", "enabled", "options"):
            if changes.get(field) is not None:
                setattr(row, field, changes[field])
        if "description" in changes:
            row.description = changes["description"] or ""
        if extras:
            row.extra = {**row.extra, **extras}
        if changes.get("enabled") is False:
            session.add(revocation(identity.clock.now(), project_id=project_id))
        await lookups.flush_or_conflict(session, duplicate_project(row.name, row.id))
        if tags is not None:
            await replace_tags(session, row.id, tags)
        current = (await lookups.tags_of(session, [row.id]))[row.id]
    return json_response({"project": views.project(base, row, current)})


@router.delete("/{project_id}", status=204)
async def delete_project(project_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        row = await session.get(models.Project, project_id)
        ctx.enforce("identity:delete_project", target(row))
        if row is None:
            raise NotFound(f"Could not find project: {project_id}.")
        if row.is_domain:
            if row.enabled:
                raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
            await cascade.delete_domain(session, project_id, identity.clock.now())
            return empty_response()
        has_children = await session.scalar(
            select(func.count()).where(models.Project.parent_id == project_id)
        )
        if has_children:
            raise Forbidden(
                f"Cannot delete the project {project_id} since it is not a leaf in the hierarchy."
            )
        await cascade.delete_projects(session, [project_id], identity.clock.now())
    return empty_response()


# -- tags ---------------------------------------------------------------------


async def replace_tags(session: AsyncSession, project_id: str, tags: Sequence[str]) -> None:
    await session.execute(
        delete(models.ProjectTag).where(models.ProjectTag.project_id == project_id)
    )
    for name in dict.fromkeys(tags):
        session.add(models.ProjectTag(project_id=project_id, name=name))
    await session.flush()


async def _tag_target(session: AsyncSession, ctx: Context, rule: str, project_id: str) -> None:
    row = await session.get(models.Project, project_id)
    ctx.enforce(rule, target(row))
    if row is None:
        raise NotFound(f"Could not find project: {project_id}.")


@router.read("/{project_id}/tags")
async def list_project_tags(
    request: Request, project_id: str, ctx: Context, identity: Identity
) -> JSONResponse:
    async with identity.db.read() as session:
        await _tag_target(session, ctx, "identity:list_project_tags", project_id)
        tags = (await lookups.tags_of(session, [project_id]))[project_id]
    return json_response({"tags": sorted(tags), "links": {"self": self_url(request)}})


@router.put("/{project_id}/tags")
async def update_project_tags(
    request: Request, project_id: str, body: TagsRequest, ctx: Context, identity: Identity
) -> JSONResponse:
    async with identity.writing() as session:
        await _tag_target(session, ctx, "identity:update_project_tags", project_id)
        await replace_tags(session, project_id, body.tags)
    return json_response(
        {"tags": list(dict.fromkeys(body.tags)), "links": {"self": self_url(request)}}
    )


@router.delete("/{project_id}/tags", status=204)
async def delete_project_tags(project_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        await _tag_target(session, ctx, "identity:delete_project_tags", project_id)
        await replace_tags(session, project_id, [])
    return empty_response()


@router.read("/{project_id}/tags/{tag}", status=204)
async def get_project_tag(project_id: str, tag: str, ctx: Context, identity: Identity) -> Response:
    async with identity.db.read() as session:
        await _tag_target(session, ctx, "identity:get_project_tag", project_id)
        if await session.get(models.ProjectTag, (project_id, tag)) is None:
            raise NotFound(f"Tag {tag} was not found on project {project_id}.")
    return empty_response()


@router.put("/{project_id}/tags/{tag}", status=201)
async def create_project_tag(
    request: Request, project_id: str, tag: str, ctx: Context, identity: Identity
) -> Response:
    if not tag or len(tag) > 255 or "," in tag or "/" in tag:
        raise BadRequest("A tag is 1 to 255 characters and contains no ',' or '/'.")
    async with identity.writing() as session:
        await _tag_target(session, ctx, "identity:create_project_tag", project_id)
        tags = (await lookups.tags_of(session, [project_id]))[project_id]
        if tag not in tags:
            if len(tags) >= MAX_TAGS:
                raise BadRequest(f"A project has at most {MAX_TAGS} tags.")
            session.add(models.ProjectTag(project_id=project_id, name=tag))
    return empty_response(201, headers={"Location": self_url(request)})


@router.delete("/{project_id}/tags/{tag}", status=204)
async def delete_project_tag(
    project_id: str, tag: str, ctx: Context, identity: Identity
) -> Response:
    async with identity.writing() as session:
        await _tag_target(session, ctx, "identity:delete_project_tag", project_id)
        row = await session.get(models.ProjectTag, (project_id, tag))
        if row is None:
            raise NotFound(f"Tag {tag} was not found on project {project_id}.")
        await session.delete(row)
    return empty_response()
