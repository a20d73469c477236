"""What every image handler needs: the service, and JSON bodies read the way Glance reads them."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from starlette.requests import Request

from overcast.common.api.errors import BadRequest
from overcast.common.api.routing import Inject
from overcast.image.service import ImageService


def image_service_of(request: Request) -> ImageService:
    service: ImageService = request.app.state.image
    return service


Images = Annotated[ImageService, Inject(image_service_of)]


async def json_body(request: Request) -> Any:
    """The request body as JSON.

    :raises BadRequest: when it is empty or not JSON.
    """
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("Body expected in request.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed JSON in request body.") from None


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object.

    :raises BadRequest: when it is empty, not JSON, or not an object.
    """
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body
