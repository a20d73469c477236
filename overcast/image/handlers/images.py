"""``/v2/images``: list, create, show, update (JSON-patch), delete; actions and tags."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest
from overcast.image import images, listing
from overcast.image.access import Caller, can_see, find_image, membership, readable_image, target
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_body
from overcast.image.models import Image
from overcast.image.patch import parse_patch
from overcast.image.views import image_href, image_view

router = Router(prefix="/v2/images")


def _created_headers(service: Images, image: Image) -> dict[str, str]:
    return {
        "Location": image_href(image.id),
        "OpenStack-image-store-ids": ",".join(service.stores),
    }


@router.get("")
async def list_images(request: Request, ctx: Context, service: Images) -> JSONResponse:
    """List the images the caller may see."""
    caller = Caller.of(ctx)
    ctx.enforce("get_images", {"project_id": caller.project_id})
    query = listing.parse_query(
        request.query_params.multi_items(),
        default_limit=service.conf.limit_param_default,
        max_limit=service.conf.api_limit_max,
    )
    async with service.db.read() as session:
        marker = None
        if query.marker is not None:
            marker = await find_image(session, query.marker)
            member = await membership(session, query.marker, caller.project_id) if marker else None
            if marker is None or not can_see(caller, marker, member):
                raise BadRequest(f"Invalid marker. Image {query.marker} could not be found.")
        found = list(await session.scalars(listing.statement(caller, query, marker)))
        members = {
            image.id: await membership(session, image.id, caller.project_id)
            for image in found
            if image.visibility == "shared" and image.owner != caller.project_id
        }
    shown = [image for image in found if ctx.can("get_image", target(image, members.get(image.id)))]
    return json_response(_page(request, shown, full=len(found) == query.limit > 0))


def _page(request: Request, shown: list[Image], *, full: bool) -> dict[str, Any]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    body: dict[str, Any] = {
        "images": [image_view(image) for image in shown],
        "first": "/v2/images" + (f"?{urlencode(params)}" if params else ""),
        "schema": "/v2/schemas/images",
    }
    if full and shown:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", shown[-1].id)])
    return body


@router.post("", status=201, body=bodies.IMAGE)
async def create_image(request: Request, ctx: Context, service: Images) -> JSONResponse:
    """Create a queued image (its data comes later, with an upload)."""
    image = await images.create_image(service, ctx, await json_body(request))
    return json_response(image_view(image), status=201, headers=_created_headers(service, image))


@router.get("/{image_id}")
async def show_image(image_id: str, ctx: Context, service: Images) -> JSONResponse:
    image, _ = await readable_image(service, ctx, image_id)
    return json_response(image_view(image))


@router.patch("/{image_id}", body=bodies.PATCH)
async def update_image(
    image_id: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    """Change an image's attributes and properties with a JSON-patch document."""
    changes = parse_patch(request.headers.get("content-type"), await request.body())
    image = await images.update_image(service, ctx, image_id, changes)
    return json_response(image_view(image))


@router.delete("/{image_id}", status=204)
async def delete_image(image_id: str, ctx: Context, service: Images) -> Response:
    await images.delete_image(service, ctx, image_id)
    return empty_response()


@router.post("/{image_id}/actions/deactivate", status=204)
async def deactivate_image(image_id: str, ctx: Context, service: Images) -> Response:
    await images.set_active(service, ctx, image_id, active=False)
    return empty_response()


@router.post("/{image_id}/actions/reactivate", status=204)
async def reactivate_image(image_id: str, ctx: Context, service: Images) -> Response:
    await images.set_active(service, ctx, image_id, active=True)
    return empty_response()


@router.put("/{image_id}/tags/{tag}", status=204)
async def add_image_tag(image_id: str, tag: str, ctx: Context, service: Images) -> Response:
    await images.add_tag(service, ctx, image_id, tag)
    return empty_response()


@router.delete("/{image_id}/tags/{tag}", status=204)
async def delete_image_tag(image_id: str, tag: str, ctx: Context, service: Images) -> Response:
    await images.delete_tag(service, ctx, image_id, tag)
    return empty_response()
