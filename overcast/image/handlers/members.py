"""``/v2/images/{id}/members``: sharing an image with other projects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.image import members
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_body
from overcast.image.views import member_view

router = Router(prefix="/v2/images/{image_id}/members")


@router.post("", body=bodies.NEW_MEMBER)
async def create_image_member(
    image_id: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    """Share the image with a project (its membership starts ``pending``)."""
    member = await members.add_member(service, ctx, image_id, await json_body(request))
    return json_response(member_view(member))


@router.get("")
async def list_image_members(image_id: str, ctx: Context, service: Images) -> JSONResponse:
    found = await members.list_members(service, ctx, image_id)
    return json_response(
        {"members": [member_view(m) for m in found], "schema": "/v2/schemas/members"}
    )


@router.get("/{member_id}")
async def show_image_member(
    image_id: str, member_id: str, ctx: Context, service: Images
) -> JSONResponse:
    return json_response(member_view(await members.get_member(service, ctx, image_id, member_id)))


@router.put("/{member_id}", body=bodies.MEMBER_STATUS)
async def update_image_member(
    image_id: str, member_id: str, request: Request, ctx: Context, service: Images
) -> JSONResponse:
    """Accept or reject a shared image (only the member project itself may)."""
    body = await json_body(request)
    member = await members.update_member(service, ctx, image_id, member_id, body)
    return json_response(member_view(member))


@router.delete("/{member_id}", status=204)
async def delete_image_member(
    image_id: str, member_id: str, ctx: Context, service: Images
) -> Response:
    await members.delete_member(service, ctx, image_id, member_id)
    return empty_response()
