"""``/v3/OS-EP-FILTER``: endpoint groups, and endpoints or groups tied to projects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import NotFound
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.handlers.common import (
    Base,
    Identity,
    each,
    field_filters,
    paged_list,
    self_url,
)
from overcast.identity.schemas import EndpointGroupCreateRequest, EndpointGroupUpdateRequest

router = Router(prefix="/v3/OS-EP-FILTER")
GROUPS = "/endpoint_groups"


def _filters(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.model_dump().items() if v is not None}


async def _group(session: AsyncSession, group_id: str) -> models.EndpointGroup:
    return await lookups.get(session, models.EndpointGroup, group_id, "endpoint group")


async def _matching_endpoints(
    session: AsyncSession, group: models.EndpointGroup
) -> list[models.Endpoint]:
    clauses = [getattr(models.Endpoint, k) == v for k, v in group.filters.items()]
    return list(
        await session.scalars(select(models.Endpoint).where(*clauses).order_by(models.Endpoint.id))
    )


@router.post(GROUPS, status=201)
async def create_endpoint_group(
    body: EndpointGroupCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:create_endpoint_group")
    spec = body.endpoint_group
    async with identity.writing() as session:
        row = models.EndpointGroup(
            id=new_id(),
            name=spec.name,
            description=spec.description,
            filters=_filters(spec.filters),
        )
        session.add(row)
    return json_response({"endpoint_group": views.endpoint_group(base, row)}, status=201)


@router.read(GROUPS)
async def list_endpoint_groups(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_endpoint_groups")
    clauses = field_filters(request, models.EndpointGroup, "name")
    render = each(lambda r: views.endpoint_group(base, r))
    return await paged_list(
        request, identity, models.EndpointGroup, clauses, "endpoint_groups", render
    )


@router.read(GROUPS + "/{group_id}")
async def get_endpoint_group(
    group_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_endpoint_group")
    async with identity.db.read() as session:
        row = await _group(session, group_id)
    return json_response({"endpoint_group": views.endpoint_group(base, row)})


@router.patch(GROUPS + "/{group_id}")
async def update_endpoint_group(
    group_id: str, body: EndpointGroupUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:update_endpoint_group")
    spec = body.endpoint_group
    changes = spec.model_dump(exclude_unset=True)
    async with identity.writing() as session:
        row = await _group(session, group_id)
        if changes.get("name") is not None:
            row.name = changes["name"]
        if "description" in changes:
            row.description = changes["description"]
        if spec.filters is not None:
            row.filters = _filters(spec.filters)
    return json_response({"endpoint_group": views.endpoint_group(base, row)})


@router.delete(GROUPS + "/{group_id}", status=204)
async def delete_endpoint_group(group_id: str, ctx: Context, identity: Identity) -> Response:
    ctx.enforce("identity:delete_endpoint_group")
    async with identity.writing() as session:
        await session.delete(await _group(session, group_id))
    return empty_response()


@router.read(GROUPS + "/{group_id}/endpoints")
async def list_endpoints_in_group(
    request: Request, group_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_endpoints_associated_with_endpoint_group")
    async with identity.db.read() as session:
        rows = await _matching_endpoints(session, await _group(session, group_id))
    items = [views.endpoint(base, r) for r in rows]
    return json_response(views.collection("endpoints", items, self_url(request)))


@router.read(GROUPS + "/{group_id}/projects")
async def list_projects_of_group(
    request: Request, group_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_projects_associated_with_endpoint_group")
    async with identity.db.read() as session:
        await _group(session, group_id)
        rows = await session.scalars(
            select(models.Project)
            .join(
                models.ProjectEndpointGroup,
                models.ProjectEndpointGroup.project_id == models.Project.id,
            )
            .where(models.ProjectEndpointGroup.endpoint_group_id == group_id)
        )
        items = [views.project(base, p, []) for p in rows]
    return json_response(views.collection("projects", items, self_url(request)))


async def _group_and_project(session: AsyncSession, group_id: str, project_id: str) -> None:
    await _group(session, group_id)
    await lookups.project(session, project_id)


@router.put(GROUPS + "/{group_id}/projects/{project_id}", status=204)
async def add_group_to_project(
    group_id: str, project_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:add_endpoint_group_to_project")
    async with identity.writing() as session:
        await _group_and_project(session, group_id, project_id)
        if await session.get(models.ProjectEndpointGroup, (group_id, project_id)) is None:
            session.add(
                models.ProjectEndpointGroup(endpoint_group_id=group_id, project_id=project_id)
            )
    return empty_response()


@router.read(GROUPS + "/{group_id}/projects/{project_id}")
async def get_group_in_project(
    group_id: str, project_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:get_endpoint_group_in_project")
    async with identity.db.read() as session:
        await _group_and_project(session, group_id, project_id)
        if await session.get(models.ProjectEndpointGroup, (group_id, project_id)) is None:
            raise NotFound(
                f"Endpoint group {group_id} is not associated with project {project_id}."
            )
        project = await lookups.project(session, project_id)
    return json_response({"project": views.project(base, project, [])})


@router.delete(GROUPS + "/{group_id}/projects/{project_id}", status=204)
async def remove_group_from_project(
    group_id: str, project_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:remove_endpoint_group_from_project")
    async with identity.writing() as session:
        row = await session.get(models.ProjectEndpointGroup, (group_id, project_id))
        if row is None:
            raise NotFound(
                f"Endpoint group {group_id} is not associated with project {project_id}."
            )
        await session.delete(row)
    return empty_response()


@router.read("/projects/{project_id}/endpoint_groups")
async def list_groups_for_project(
    request: Request, project_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_endpoint_groups_for_project")
    async with identity.db.read() as session:
        await lookups.project(session, project_id)
        rows = await session.scalars(
            select(models.EndpointGroup)
            .join(models.ProjectEndpointGroup)
            .where(models.ProjectEndpointGroup.project_id == project_id)
        )
        items = [views.endpoint_group(base, g) for g in rows]
    return json_response(views.collection("endpoint_groups", items, self_url(request)))


@router.put("/projects/{project_id}/endpoints/{endpoint_id}", status=204)
async def add_endpoint_to_project(
    project_id: str, endpoint_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:add_endpoint_to_project")
    async with identity.writing() as session:
        await lookups.project(session, project_id)
        await lookups.get(session, models.Endpoint, endpoint_id, "endpoint")
        if await session.get(models.ProjectEndpoint, (endpoint_id, project_id)) is None:
            session.add(models.ProjectEndpoint(endpoint_id=endpoint_id, project_id=project_id))
    return empty_response()


@router.head("/projects/{project_id}/endpoints/{endpoint_id}", status=204)
@router.get("/projects/{project_id}/endpoints/{endpoint_id}", status=204)
async def check_endpoint_in_project(
    project_id: str, endpoint_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:check_endpoint_in_project")
    async with identity.db.read() as session:
        if await session.get(models.ProjectEndpoint, (endpoint_id, project_id)) is None:
            raise NotFound(f"Endpoint {endpoint_id} is not associated with project {project_id}.")
    return empty_response()


@router.delete("/projects/{project_id}/endpoints/{endpoint_id}", status=204)
async def remove_endpoint_from_project(
    project_id: str, endpoint_id: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:remove_endpoint_from_project")
    async with identity.writing() as session:
        row = await session.get(models.ProjectEndpoint, (endpoint_id, project_id))
        if row is None:
            raise NotFound(f"Endpoint {endpoint_id} is not associated with project {project_id}.")
        await session.delete(row)
    return empty_response()


@router.read("/projects/{project_id}/endpoints")
async def list_endpoints_for_project(
    request: Request, project_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_endpoints_for_project")
    async with identity.db.read() as session:
        await lookups.project(session, project_id)
        rows = await session.scalars(
            select(models.Endpoint)
            .join(models.ProjectEndpoint, models.ProjectEndpoint.endpoint_id == models.Endpoint.id)
            .where(models.ProjectEndpoint.project_id == project_id)
        )
        items = [views.endpoint(base, e) for e in rows]
    return json_response(views.collection("endpoints", items, self_url(request)))


@router.read("/endpoints/{endpoint_id}/projects")
async def list_projects_for_endpoint(
    request: Request, endpoint_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:list_projects_for_endpoint")
    async with identity.db.read() as session:
        await lookups.get(session, models.Endpoint, endpoint_id, "endpoint")
        rows = await session.scalars(
            select(models.Project)
            .join(models.ProjectEndpoint, models.ProjectEndpoint.project_id == models.Project.id)
            .where(models.ProjectEndpoint.endpoint_id == endpoint_id)
        )
        items = [views.project(base, p, []) for p in rows]
    return json_response(views.collection("projects", items, self_url(request)))
