"""``/v2/images/{id}/file``: streamed upload and download; staging and import are not offered."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from overcast.common.api import Context, Router, empty_response
from overcast.common.api.errors import BadRequest, NotFound, UnsupportedMediaType
from overcast.image import data
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_object

router = Router(prefix="/v2/images/{image_id}")

OCTET_STREAM = "application/octet-stream"


class ClientWentAway(BadRequest):
    """The client closed the connection in the middle of its upload."""

    default_message = "The upload was interrupted before all of its data arrived."


@router.put("/file", status=204, body=bodies.DATA)
async def upload_image_file(
    image_id: str, request: Request, ctx: Context, service: Images
) -> Response:
    """Upload the image's data (streamed to the store, never held in memory)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != OCTET_STREAM:
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'!r} is not supported: send {OCTET_STREAM}."
        )
    await data.upload(
        service,
        ctx,
        image_id,
        _stream(request),
        content_length=_content_length(request),
        store_id=request.headers.get("x-image-meta-store"),
    )
    return empty_response()


async def _stream(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise ClientWentAway() from None


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Content-Length {raw!r} is not a number.") from None


@router.get("/file")
async def download_image_file(
    image_id: str, request: Request, ctx: Context, service: Images
) -> Response:
    """Download the image's data, or a ``Range`` of it."""
    try:
        found = await data.download(service, ctx, image_id, request.headers.get("range"))
    except data.RangeNotSatisfiable as exc:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{exc.size}"})
    if found is None:
        return empty_response()
    headers = {"Content-Length": str(found.length)}
    if found.partial:
        last = found.offset + found.length - 1
        headers["Content-Range"] = f"bytes {found.offset}-{last}/{found.size}"
    elif found.checksum:
        headers["Content-MD5"] = found.checksum
    status = 206 if found.partial else 200
    if request.method == "HEAD":
        await found.body.aclose()  # type: ignore[attr-defined]
        return Response(status_code=status, headers=headers, media_type=OCTET_STREAM)
    return StreamingResponse(found.body, status, headers=headers, media_type=OCTET_STREAM)


@router.put("/stage", status=204, body=bodies.DATA)
async def stage_image_data(image_id: str) -> Response:
    raise NotFound("Image staging is not available: this cloud offers no import methods.")


@router.post("/import", status=202, body=bodies.IMPORT)
async def import_image(image_id: str, request: Request) -> Response:
    body = await json_object(request)
    method = body.get("method")
    name = method.get("name") if isinstance(method, dict) else None
    if name is None:
        raise BadRequest("Import request requires a 'method' field with a 'name'.")
    raise BadRequest(f"Unknown import method name '{name}'.")
