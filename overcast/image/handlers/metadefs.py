"""``/v2/metadefs/namespaces`` and ``/v2/metadefs/resource_types``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.image.access import Caller
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_body
from overcast.image.metadefs import repository as repo
from overcast.image.metadefs import views
from overcast.image.metadefs.schemas import check
from overcast.image.models import (
    MetadefObject,
    MetadefProperty,
    MetadefTag,
    Namespace,
    ResourceType,
    ResourceTypeAssociation,
)

router = Router(prefix="/v2/metadefs")
SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name")


@router.get("/namespaces")
async def list_namespaces(request: Request, ctx: Context, service: Images) -> JSONResponse:
    caller = Caller.of(ctx)
    ctx.enforce("get_metadef_namespaces", {"project_id": caller.project_id})
    query = request.query_params
    limit = _limit(query.get("limit"), service.conf.limit_param_default, service.conf.api_limit_max)
    sort_key, sort_dir = query.get("sort_key", "created_at"), query.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort: {sort_key} {sort_dir}")
    visibility = query.get("visibility")
    if visibility not in (None, "public", "private"):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    wanted_types = [t for t in query.get("resource_types", "").split(",") if t]
    async with service.db.read() as session:
        column = getattr(Namespace, sort_key)
        order = column.desc() if sort_dir == "desc" else column.asc()
        found = [
            ns
            for ns in await session.scalars(select(Namespace).order_by(order, Namespace.id))
            if repo.can_see(caller, ns) and visibility in (None, ns.visibility)
        ]
        listed = []
        for namespace in found:
            associations = await repo.associations(session, namespace)
            names = {kind.name for _, kind in associations}
            if wanted_types and not names.intersection(wanted_types):
                continue
            view = views.namespace_view(namespace)
            if associations:
                view["resource_type_associations"] = [
                    views.association_view(a, k) for a, k in associations
                ]
            listed.append(view)
    page, more = _after_marker(listed, query.get("marker"), limit)
    body: dict[str, Any] = {
        "namespaces": page,
        "first": "/v2/metadefs/namespaces",
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if more:
        params = [(k, v) for k, v in query.multi_items() if k != "marker"]
        body["next"] = "/v2/metadefs/namespaces?" + urlencode(
            [*params, ("marker", page[-1]["namespace"])]
        )
    return json_response(body)


def _limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit():
        raise BadRequest("limit param must be a positive integer")
    return min(int(raw), maximum)


def _after_marker(
    listed: list[dict[str, Any]], marker: str | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    start = 0
    if marker:
        names = [view["namespace"] for view in listed]
        if marker not in names:
            raise BadRequest(f"Invalid marker. Namespace {marker} could not be found.")
        start = names.index(marker) + 1
    rest = listed[start:]
    return rest[:limit], len(rest) > limit


@router.post("/namespaces", status=201, body=bodies.NAMESPACE)
async def create_namespace(request: Request, ctx: Context, service: Images) -> JSONResponse:
    """Create a namespace, with any resource types, properties, objects and tags it lists."""
    caller = Caller.of(ctx)
    ctx.enforce("add_metadef_namespace", {"project_id": caller.project_id})
    body = check("namespace", await json_body(request))
    now = service.clock.now()
    async with service.db.write() as session:
        await repo.name_free(session, body["namespace"])
        namespace = Namespace(
            namespace=body["namespace"],
            display_name=body.get("display_name"),
            description=body.get("description"),
            visibility=body.get("visibility", "private"),
            protected=body.get("protected", False),
            owner=body.get("owner", caller.project_id),
            created_at=now,
            updated_at=now,
        )
        session.add(namespace)
        await session.flush()
        for spec in body.get("resource_type_associations", []):
            await repo.associate(session, namespace, spec, now)
        for name, definition in body.get("properties", {}).items():
            await repo.add_item(
                session,
                MetadefProperty,
                namespace,
                now,
                name=name,
                schema={k: v for k, v in definition.items() if k != "name"},
            )
        for spec in body.get("objects", []):
            await repo.add_item(session, MetadefObject, namespace, now, **_object_values(spec))
        for spec in body.get("tags", []):
            await repo.add_item(session, MetadefTag, namespace, now, name=spec["name"])
        view = await _full_view(session, namespace)
    return json_response(view, status=201, headers={"Location": quote(view["self"])})


def _object_values(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": spec["name"],
        "description": spec.get("description"),
        "required": {"names": spec.get("required", [])},
        "properties": spec.get("properties", {}),
    }


async def _full_view(session: Any, namespace: Namespace) -> dict[str, Any]:
    view = views.namespace_view(namespace)
    associations = await repo.associations(session, namespace)
    if associations:
        view["resource_type_associations"] = [views.association_view(a, k) for a, k in associations]
    properties = await repo.items(session, MetadefProperty, namespace)
    if properties:
        view["properties"] = {prop.name: views.property_body(prop) for prop in properties}
    objects = await repo.items(session, MetadefObject, namespace)
    if objects:
        view["objects"] = [views.object_view(namespace, item) for item in objects]
    tags = await repo.items(session, MetadefTag, namespace)
    if tags:
        view["tags"] = [{"name": tag.name} for tag in tags]
    return view


@router.get("/namespaces/{namespace}")
async def show_namespace(namespace: str, ctx: Context, service: Images) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_namespace")
        return json_response(await _full_view(session, found))


@router.put("/namespaces/{namespace}", body=bodies.NAMESPACE)
async def update_namespace(
    namespace: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    """Replace a namespace's attributes (those left out take their defaults)."""
    caller = Caller.of(ctx)
    body = check("namespace", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "modify_metadef_namespace")
        await repo.name_free(session, body["namespace"], found)
        found.namespace = body["namespace"]
        found.display_name = body.get("display_name")
        found.description = body.get("description")
        found.visibility = body.get("visibility", "private")
        found.protected = body.get("protected", False)
        found.owner = body.get("owner", caller.project_id)
        found.updated_at = service.clock.now()
    return json_response(views.namespace_view(found))


@router.delete("/namespaces/{namespace}", status=204)
async def delete_namespace(namespace: str, ctx: Context, service: Images) -> Response:
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "delete_metadef_namespace")
        if found.protected:
            raise_protected(found)
        await repo.delete_namespace(session, found)
    return empty_response()


def raise_protected(namespace: Namespace) -> None:
    raise Forbidden(f"Namespace {namespace.namespace} is protected and cannot be deleted.")


async def _delete_all(
    service: Images, ctx: Context, namespace: str, kind: type[Any], rule: str, what: str
) -> Response:
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, rule)
        repo.unprotected(found, what)
        for item in await repo.items(session, kind, found):
            await session.delete(item)
    return empty_response()


@router.delete("/namespaces/{namespace}/objects", status=204)
async def delete_namespace_objects(namespace: str, ctx: Context, service: Images) -> Response:
    return await _delete_all(
        service, ctx, namespace, MetadefObject, "delete_metadef_object", "Objects"
    )


@router.delete("/namespaces/{namespace}/properties", status=204)
async def delete_namespace_properties(namespace: str, ctx: Context, service: Images) -> Response:
    return await _delete_all(
        service, ctx, namespace, MetadefProperty, "delete_metadef_property", "Properties"
    )


@router.delete("/namespaces/{namespace}/tags", status=204)
async def delete_namespace_tags(namespace: str, ctx: Context, service: Images) -> Response:
    return await _delete_all(service, ctx, namespace, MetadefTag, "delete_metadef_tags", "Tags")


# -- resource types -------------------------------------------------------------------


@router.get("/resource_types")
async def list_resource_types(ctx: Context, service: Images) -> JSONResponse:
    caller = Caller.of(ctx)
    ctx.enforce("list_metadef_resource_types", {"project_id": caller.project_id})
    async with service.db.read() as session:
        kinds = await session.scalars(select(ResourceType).order_by(ResourceType.id))
        return json_response({"resource_types": [views.resource_type_view(k) for k in kinds]})


@router.get("/namespaces/{namespace}/resource_types")
async def list_resource_type_associations(
    namespace: str, ctx: Context, service: Images
) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(
            session, ctx, namespace, "get_metadef_resource_type_associations"
        )
        associations = await repo.associations(session, found)
    return json_response(
        {"resource_type_associations": [views.association_view(a, k) for a, k in associations]}
    )


@router.post("/namespaces/{namespace}/resource_types", status=201, body=bodies.ASSOCIATION)
async def create_resource_type_association(
    namespace: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("resource_type_association", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(
            session, ctx, namespace, "add_metadef_resource_type_association"
        )
        association, kind = await repo.associate(session, found, body, service.clock.now())
    return json_response(views.association_view(association, kind), status=201)


@router.delete("/namespaces/{namespace}/resource_types/{resource_type}", status=204)
async def delete_resource_type_association(
    namespace: str, resource_type: str, ctx: Context, service: Images
) -> Response:
    async with service.db.write() as session:
        found = await repo.find_namespace(
            session, ctx, namespace, "remove_metadef_resource_type_association"
        )
        kind = await session.scalar(select(ResourceType).where(ResourceType.name == resource_type))
        association = (
            await session.get(ResourceTypeAssociation, (found.id, kind.id)) if kind else None
        )
        if association is None:
            raise NotFound(
                f"The metadata definition resource-type association of "
                f"resource-type={resource_type} to namespace={namespace}, was not found."
            )
        repo.unprotected(found, "Resource type associations")
        await session.delete(association)
    return empty_response()
