"""``/servers/{id}/metadata`` and ``/servers/{id}/tags`` (tags from 2.26)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict, Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute import quotas
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_26
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import Instance, InstanceMetadata, InstanceTag
from overcast.compute.servers.actions import check_locked
from overcast.compute.servers.lookup import visible_server
from overcast.compute.states import VmState

router = Router(prefix=f"{PREFIX}/servers/{{server_id}}")

METADATA_BODY = v.wrapped("metadata", v.METADATA)
META_BODY = v.wrapped("meta", {**v.METADATA, "minProperties": 1})
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
TAGS_BODY = v.wrapped("tags", {"type": "array", "items": TAG, "maxItems": 50})
MAX_TAGS = 50
CHANGEABLE = (
    VmState.ACTIVE,
    VmState.PAUSED,
    VmState.SUSPENDED,
    VmState.STOPPED,
    VmState.RESCUED,
    VmState.RESIZED,
    VmState.SHELVED,
    VmState.SHELVED_OFFLOADED,
    VmState.ERROR,
)


async def meta_item(request: Request, key: str) -> dict[str, str]:
    """The body's ``meta``: exactly one item, the one the URL names (Nova's checks)."""
    meta: dict[str, str] = (await json_body(request, META_BODY))["meta"]
    if len(meta) > 1:
        raise BadRequest("Request body contains too many items")
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    return meta


def item_of(items: dict[str, str], key: str) -> dict[str, dict[str, str]]:
    """``{"meta": {key: value}}`` of ``items``; :raises NotFound: without that key."""
    if key not in items:
        raise NotFound("Metadata item was not found")
    return {"meta": {key: items[key]}}


async def check_metadata_quota(
    session: AsyncSession, service: Any, project_id: str, count: int
) -> None:
    """:raises Forbidden: when ``count`` items are more than the project's metadata_items."""
    limits = await quotas.project_limits(session, service.conf.quota, project_id)
    if quotas.exceeded(limits["metadata_items"], 0, count):
        raise Forbidden(f"Quota exceeded for metadata_items: Maximum {limits['metadata_items']}.")


async def _changeable(
    session: AsyncSession, ctx: RequestContext, server_id: str, rule: str, what: str
) -> Instance:
    """The server, if the caller may change it now.

    :raises Conflict: when it is locked, building, or busy with a task.
    """
    instance = await visible_server(session, ctx, server_id, rule)
    check_locked(ctx, instance)
    if instance.vm_state not in CHANGEABLE:
        raise Conflict(
            f"Cannot '{what}' instance {instance.uuid} while it is in vm_state {instance.vm_state}"
        )
    return instance


async def _set_metadata(
    session: AsyncSession, service: Any, instance: Instance, items: dict[str, str]
) -> None:
    await check_metadata_quota(session, service, instance.project_id, len(items))
    instance.metadata_items = [InstanceMetadata(key=k, value=val) for k, val in items.items()]


@router.get("/metadata")
async def list_metadata(server_id: str, ctx: Context, service: Compute) -> JSONResponse:
    async with service.db.read() as session:
        instance = await visible_server(
            session, ctx, server_id, "os_compute_api:server-metadata:index"
        )
    return json_response({"metadata": instance.metadata_dict})


@router.post("/metadata")
async def merge_metadata(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """Add or change the given items; the others stay."""
    items = (await json_body(request, METADATA_BODY))["metadata"]
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:server-metadata:create", "update metadata"
        )
        await _set_metadata(session, service, instance, {**instance.metadata_dict, **items})
        merged = instance.metadata_dict
    return json_response({"metadata": merged})


@router.put("/metadata")
async def replace_metadata(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    items = (await json_body(request, METADATA_BODY))["metadata"]
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:server-metadata:update_all", "update metadata"
        )
        await _set_metadata(session, service, instance, dict(items))
    return json_response({"metadata": items})


@router.get("/metadata/{key}")
async def show_metadata_item(
    server_id: str, key: str, ctx: Context, service: Compute
) -> JSONResponse:
    async with service.db.read() as session:
        instance = await visible_server(
            session, ctx, server_id, "os_compute_api:server-metadata:show"
        )
    return json_response(item_of(instance.metadata_dict, key))


@router.put("/metadata/{key}")
async def set_metadata_item(
    server_id: str, key: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    meta = await meta_item(request, key)
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:server-metadata:update", "update metadata"
        )
        await _set_metadata(session, service, instance, {**instance.metadata_dict, **meta})
    return json_response({"meta": meta})


@router.delete("/metadata/{key}", status=204)
async def delete_metadata_item(
    server_id: str, key: str, ctx: Context, service: Compute
) -> Response:
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:server-metadata:delete", "delete metadata"
        )
        if key not in instance.metadata_dict:
            raise NotFound("Metadata item was not found")
        instance.metadata_items = [i for i in instance.metadata_items if i.key != key]
    return empty_response(204)


# --- tags -----------------------------------------------------------------------------------


def _tags_exist(ctx: RequestContext) -> None:
    if ctx.version < V2_26:
        raise NotFound("The resource could not be found.")


def _check_tag(tag: str) -> None:
    if not tag or len(tag) > 60 or "/" in tag or "," in tag:
        raise BadRequest(f"Tag '{tag}' is invalid: a tag is 1 to 60 characters with no '/' or ','.")


@router.get("/tags")
async def list_tags(server_id: str, ctx: Context, service: Compute) -> JSONResponse:
    _tags_exist(ctx)
    async with service.db.read() as session:
        instance = await visible_server(
            session, ctx, server_id, "os_compute_api:os-server-tags:index"
        )
    return json_response({"tags": [t.tag for t in instance.tags]})


@router.put("/tags")
async def replace_tags(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    _tags_exist(ctx)
    tags = list(dict.fromkeys((await json_body(request, TAGS_BODY))["tags"]))
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:os-server-tags:update_all", "update tags"
        )
        instance.tags = [InstanceTag(tag=t) for t in tags]
    return json_response({"tags": tags})


@router.delete("/tags", status=204)
async def delete_tags(server_id: str, ctx: Context, service: Compute) -> Response:
    _tags_exist(ctx)
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:os-server-tags:delete_all", "delete tags"
        )
        instance.tags = []
    return empty_response(204)


@router.get("/tags/{tag}", status=204)
async def check_tag(server_id: str, tag: str, ctx: Context, service: Compute) -> Response:
    _tags_exist(ctx)
    async with service.db.read() as session:
        instance = await visible_server(
            session, ctx, server_id, "os_compute_api:os-server-tags:show"
        )
    if tag not in {t.tag for t in instance.tags}:
        raise NotFound(f"Instance {server_id} has no tag '{tag}'")
    return empty_response(204)


@router.put("/tags/{tag}", status=201)
async def add_tag(
    server_id: str, tag: str, request: Request, ctx: Context, service: Compute
) -> Response:
    _tags_exist(ctx)
    _check_tag(tag)
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:os-server-tags:update", "update tag"
        )
        if tag in {t.tag for t in instance.tags}:
            return empty_response(204)
        if len(instance.tags) >= MAX_TAGS:
            raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        instance.tags.append(InstanceTag(tag=tag))
    return empty_response(201, headers={"Location": str(request.url)})


@router.delete("/tags/{tag}", status=204)
async def delete_tag(server_id: str, tag: str, ctx: Context, service: Compute) -> Response:
    _tags_exist(ctx)
    async with service.db.write() as session:
        instance = await _changeable(
            session, ctx, server_id, "os_compute_api:os-server-tags:delete", "delete tag"
        )
        if tag not in {t.tag for t in instance.tags}:
            raise NotFound(f"Instance {server_id} has no tag '{tag}'")
        instance.tags = [t for t in instance.tags if t.tag != tag]
    return empty_response(204)
