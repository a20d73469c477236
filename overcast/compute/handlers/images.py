"""``/images`` before 2.36: Nova's proxy to the image service.

Every call goes to the image API with the caller's token, so the image service
decides what the caller sees and may change. An image's ``metadata`` here is
its extra properties there.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from overcast.common.auth.context import RequestContext
from overcast.common.clients import ImageClient, ImageServiceError
from overcast.compute.api_versions import V2_36
from overcast.compute.handlers.common import (
    PREFIX,
    Compute,
    base_url,
    json_body,
    next_link,
    removed_in,
)
from overcast.compute.handlers.server_metadata import (
    METADATA_BODY,
    check_metadata_quota,
    item_of,
    meta_item,
)

router = Router(prefix=f"{PREFIX}/images")

CORE = frozenset(
    {
        "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo",
        "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk",
        "created_at", "updated_at", "disk_format", "container_format", "tags", "self",
        "file", "schema", "locations", "direct_url", "os_hidden", "stores",
    }
)  # fmt: skip
"""The image service's own fields; every other one is an extra property (metadata)."""
STATUS = {
    "queued": "SAVING",
    "saving": "SAVING",
    "uploading": "SAVING",
    "importing": "SAVING",
    "active": "ACTIVE",
    "deactivated": "ERROR",
    "killed": "ERROR",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
FILTERS = {"name": "name", "status": "status", "server": "instance_uuid", "type": "image_type"}


def _images(ctx: RequestContext, service: Any) -> tuple[ImageClient, str]:
    """The image client and the caller's token; 404 from 2.36, where the proxy is gone."""
    removed_in(ctx, V2_36)
    ctx.require_auth()
    return service.images, ctx.token or ""


def _links(request: Request, image_id: str) -> list[dict[str, str]]:
    base = base_url(request)
    return [
        {"rel": "self", "href": f"{base}/v2.1/images/{image_id}"},
        {"rel": "bookmark", "href": f"{base}/images/{image_id}"},
    ]


def _time(value: str | None) -> str | None:
    return value[:19] + "Z" if value else None


def metadata_of(image: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in image.items() if k not in CORE}


def _detail(request: Request, image: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": image["id"],
        "name": image.get("name"),
        "status": STATUS.get(image["status"], "UNKNOWN"),
        "progress": PROGRESS.get(image["status"], 0),
        "created": _time(image.get("created_at")),
        "updated": _time(image.get("updated_at")),
        "minDisk": int(image.get("min_disk") or 0),
        "minRam": int(image.get("min_ram") or 0),
        "metadata": metadata_of(image),
        "links": _links(request, image["id"]),
        "OS-EXT-IMG-SIZE:size": image.get("size"),
    }
    server = image.get("instance_uuid")
    if server:
        base = base_url(request)
        view["server"] = {
            "id": server,
            "links": [
                {"rel": "self", "href": f"{base}/v2.1/servers/{server}"},
                {"rel": "bookmark", "href": f"{base}/servers/{server}"},
            ],
        }
    return view


async def _listed(request: Request, ctx: RequestContext, service: Any) -> list[dict[str, Any]]:
    """The images Nova's filters select, through the image API's own filters."""
    client, token = _images(ctx, service)
    params = request.query_params
    filters = {
        theirs: params[ours].rsplit("/", 1)[-1] if ours == "server" else params[ours]
        for ours, theirs in FILTERS.items()
        if ours in params
    }
    if "status" in filters:
        filters["status"] = filters["status"].lower()
    if "changes-since" in params:
        filters["updated_at"] = f"gte:{params['changes-since']}"
    for key in ("limit", "marker"):
        if key in params:
            filters[key] = params[key]
    try:
        images = await client.find(token, **filters)
    except ImageServiceError as exc:
        raise _refused("Invalid image filters", exc) from None
    for ours, theirs in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        if ours in params:
            least = _int(ours, params[ours])
            images = [i for i in images if int(i.get(theirs) or 0) >= least]
    return images


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid {name} filter: {value}") from None


def _page(request: Request, images: list[dict[str, Any]], items: list[Any]) -> dict[str, Any]:
    """The list body, with a next link when a ``limit`` filled the page."""
    body: dict[str, Any] = {"images": items}
    limit = request.query_params.get("limit")
    if images and limit is not None and len(images) >= _int("limit", limit):
        collection = request.url.path.removeprefix(f"{PREFIX}/")
        body["images_links"] = [next_link(request, collection, images[-1]["id"])]
    return body


@router.get("")
async def list_images(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    images = await _listed(request, ctx, service)
    summaries = [
        {"id": i["id"], "name": i.get("name"), "links": _links(request, i["id"])} for i in images
    ]
    return json_response(_page(request, images, summaries))


@router.get("/detail")
async def list_images_detail(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    images = await _listed(request, ctx, service)
    return json_response(_page(request, images, [_detail(request, i) for i in images]))


async def _image(ctx: RequestContext, service: Any, image_id: str) -> dict[str, Any]:
    client, token = _images(ctx, service)
    image = await client.get(token, image_id)
    if image is None:
        raise NotFound("Image not found.")
    return image


@router.get("/{image_id}")
async def show_image(
    image_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    return json_response({"image": _detail(request, await _image(ctx, service, image_id))})


@router.delete("/{image_id}", status=204)
async def delete_image(image_id: str, ctx: Context, service: Compute) -> Response:
    await _image(ctx, service, image_id)
    client, token = _images(ctx, service)
    status = await client.delete(token, image_id)
    if status == 403:
        raise Forbidden(f"You are not allowed to delete the image {image_id}.")
    return empty_response(204)


@router.get("/{image_id}/metadata")
async def list_image_metadata(image_id: str, ctx: Context, service: Compute) -> JSONResponse:
    return json_response({"metadata": metadata_of(await _image(ctx, service, image_id))})


async def _set(
    ctx: RequestContext, service: Any, image_id: str, items: dict[str, str], replace: bool
) -> dict[str, str]:
    """Merge ``items`` into the image's properties (or make them all, with ``replace``)."""
    image = await _image(ctx, service, image_id)
    current = metadata_of(image)
    wanted = items if replace else {**current, **items}
    async with service.db.read() as session:
        await check_metadata_quota(session, service, ctx.project_id or "", len(wanted))
    changes = [
        {"op": "replace" if key in current else "add", "path": f"/{key}", "value": value}
        for key, value in wanted.items()
        if current.get(key) != value
    ] + [{"op": "remove", "path": f"/{key}"} for key in current if key not in wanted]
    client, token = _images(ctx, service)
    try:
        updated = await client.patch(token, image_id, changes) if changes else image
    except ImageServiceError as exc:
        if exc.status == 403:
            raise Forbidden(f"You are not allowed to change the image {image_id}.") from None
        raise _refused("The image service refused the metadata", exc) from None
    return metadata_of(updated)


def _refused(what: str, exc: ImageServiceError) -> BadRequest | ServiceUnavailable:
    """A 4xx of the image service is the caller's request; anything else is an outage."""
    if exc.status is not None and 400 <= exc.status < 500:
        return BadRequest(f"{what}: {exc}")
    return ServiceUnavailable(f"The image service is unavailable: {exc}")


@router.post("/{image_id}/metadata")
async def merge_image_metadata(
    image_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    items = (await json_body(request, METADATA_BODY))["metadata"]
    return json_response({"metadata": await _set(ctx, service, image_id, items, replace=False)})


@router.put("/{image_id}/metadata")
async def replace_image_metadata(
    image_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    items = (await json_body(request, METADATA_BODY))["metadata"]
    return json_response({"metadata": await _set(ctx, service, image_id, items, replace=True)})


@router.get("/{image_id}/metadata/{key}")
async def show_image_metadata_item(
    image_id: str, key: str, ctx: Context, service: Compute
) -> JSONResponse:
    return json_response(item_of(metadata_of(await _image(ctx, service, image_id)), key))


@router.put("/{image_id}/metadata/{key}")
async def set_image_metadata_item(
    image_id: str, key: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    meta = await meta_item(request, key)
    await _set(ctx, service, image_id, meta, replace=False)
    return json_response({"meta": meta})


@router.delete("/{image_id}/metadata/{key}", status=204)
async def delete_image_metadata_item(
    image_id: str, key: str, ctx: Context, service: Compute
) -> Response:
    items = metadata_of(await _image(ctx, service, image_id))
    if key not in items:
        raise NotFound("Metadata item was not found")
    await _set(ctx, service, image_id, {k: v for k, v in items.items() if k != key}, replace=True)
    return empty_response(204)
