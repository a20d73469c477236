"""What a metadefs namespace holds: ``objects``, ``properties`` and ``tags``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_body
from overcast.image.metadefs import repository as repo
from overcast.image.metadefs import views
from overcast.image.metadefs.schemas import check
from overcast.image.models import MetadefObject, MetadefProperty, MetadefTag

router = Router(prefix="/v2/metadefs/namespaces/{namespace}")


# -- objects --------------------------------------------------------------------------


@router.get("/objects")
async def list_namespace_objects(namespace: str, ctx: Context, service: Images) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_objects")
        objects = await repo.items(session, MetadefObject, found)
    return json_response(
        {
            "objects": [views.object_view(found, item) for item in objects],
            "schema": "/v2/schemas/metadefs/objects",
        }
    )


def _object_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": body.get("description"),
        "required": {"names": body.get("required", [])},
        "properties": body.get("properties", {}),
    }


@router.post("/objects", status=201, body=bodies.OBJECT)
async def create_namespace_object(
    namespace: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("object", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "add_metadef_object")
        item = await repo.add_item(
            session,
            MetadefObject,
            found,
            service.clock.now(),
            name=body["name"],
            **_object_fields(body),
        )
    return json_response(views.object_view(found, item), status=201)


@router.get("/objects/{name}")
async def show_namespace_object(
    namespace: str, name: str, ctx: Context, service: Images
) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_object")
        item = await repo.find_item(session, MetadefObject, found, name)
    return json_response(views.object_view(found, item))


@router.put("/objects/{name}", body=bodies.OBJECT)
async def update_namespace_object(
    namespace: str, name: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("object", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "modify_metadef_object")
        item = await repo.find_item(session, MetadefObject, found, name)
        await repo.rename_item(session, MetadefObject, found, item, body["name"])
        for field, value in _object_fields(body).items():
            setattr(item, field, value)
        item.updated_at = service.clock.now()
    return json_response(views.object_view(found, item))


@router.delete("/objects/{name}", status=204)
async def delete_namespace_object(
    namespace: str, name: str, ctx: Context, service: Images
) -> Response:
    return await _delete_one(service, ctx, namespace, MetadefObject, name, "delete_metadef_object")


async def _delete_one(
    service: Images, ctx: Context, namespace: str, kind: type[Any], name: str, rule: str
) -> Response:
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, rule)
        item = await repo.find_item(session, kind, found, name)
        repo.unprotected(found, repo.KINDS[kind].capitalize())
        await session.delete(item)
    return empty_response()


# -- properties -----------------------------------------------------------------------


@router.get("/properties")
async def list_namespace_properties(namespace: str, ctx: Context, service: Images) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_properties")
        properties = await repo.items(session, MetadefProperty, found)
    return json_response({"properties": {p.name: views.property_body(p) for p in properties}})


def _definition(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "name"}


@router.post("/properties", status=201, body=bodies.PROPERTY)
async def create_namespace_property(
    namespace: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("property", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "add_metadef_property")
        prop = await repo.add_item(
            session,
            MetadefProperty,
            found,
            service.clock.now(),
            name=body["name"],
            schema=_definition(body),
        )
    return json_response(views.property_view(prop), status=201)


@router.get("/properties/{name}")
async def show_namespace_property(
    namespace: str, name: str, ctx: Context, service: Images
) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_property")
        prop = await repo.find_item(session, MetadefProperty, found, name)
    return json_response(views.property_view(prop))


@router.put("/properties/{name}", body=bodies.PROPERTY)
async def update_namespace_property(
    namespace: str, name: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("property", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "modify_metadef_property")
        prop = await repo.find_item(session, MetadefProperty, found, name)
        await repo.rename_item(session, MetadefProperty, found, prop, body["name"])
        prop.schema = _definition(body)
        prop.updated_at = service.clock.now()
    return json_response(views.property_view(prop))


@router.delete("/properties/{name}", status=204)
async def delete_namespace_property(
    namespace: str, name: str, ctx: Context, service: Images
) -> Response:
    return await _delete_one(
        service, ctx, namespace, MetadefProperty, name, "delete_metadef_property"
    )


# -- tags -----------------------------------------------------------------------------


@router.get("/tags")
async def list_namespace_tags(namespace: str, ctx: Context, service: Images) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_tags")
        tags = await repo.items(session, MetadefTag, found)
    return json_response({"tags": [views.tag_view(tag) for tag in tags]})


@router.post("/tags", status=201, body=bodies.TAGS)
async def create_namespace_tags(
    namespace: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    """Set the namespace's tags (or add to them, with ``X-Openstack-Append: true``)."""
    body = await json_body(request)
    specs = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(specs, list):
        raise BadRequest('The body must be {"tags": [{"name": ...}, ...]}.')
    names = [check("tag", spec)["name"] for spec in specs]
    if len(set(names)) != len(names):
        raise BadRequest("Duplicate tag names in the request.")
    append = request.headers.get("x-openstack-append", "").lower() == "true"
    now = service.clock.now()
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "add_metadef_tags")
        if not append:
            for tag in await repo.items(session, MetadefTag, found):
                await session.delete(tag)
            await session.flush()
        created = [
            await repo.add_item(session, MetadefTag, found, now, name=name) for name in names
        ]
    return json_response({"tags": [{"name": tag.name} for tag in created]}, status=201)


@router.post("/tags/{name}", status=201)
async def create_namespace_tag(
    namespace: str, name: str, ctx: Context, service: Images
) -> JSONResponse:
    if len(name) > 255:
        raise BadRequest("A tag name must be at most 255 characters.")
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "add_metadef_tag")
        tag = await repo.add_item(session, MetadefTag, found, service.clock.now(), name=name)
    return json_response(views.tag_view(tag), status=201)


@router.get("/tags/{name}")
async def show_namespace_tag(
    namespace: str, name: str, ctx: Context, service: Images
) -> JSONResponse:
    async with service.db.read() as session:
        found = await repo.find_namespace(session, ctx, namespace, "get_metadef_tag")
        tag = await repo.find_item(session, MetadefTag, found, name)
    return json_response(views.tag_view(tag))


@router.put("/tags/{name}", body=bodies.TAG)
async def update_namespace_tag(
    namespace: str, name: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    body = check("tag", await json_body(request))
    async with service.db.write() as session:
        found = await repo.find_namespace(session, ctx, namespace, "modify_metadef_tag")
        tag = await repo.find_item(session, MetadefTag, found, name)
        await repo.rename_item(session, MetadefTag, found, tag, body["name"])
        tag.updated_at = service.clock.now()
    return json_response(views.tag_view(tag))


@router.delete("/tags/{name}", status=204)
async def delete_namespace_tag(
    namespace: str, name: str, ctx: Context, service: Images
) -> Response:
    return await _delete_one(service, ctx, namespace, MetadefTag, name, "delete_metadef_tag")
