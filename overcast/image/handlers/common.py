"""What every image handler needs: the service, and JSON bodies read the way Glance reads them."""

from __future__ import annotations

from typing import Annotated, Any

from starlette.requests import Request

from overcast.common.api.errors import BadRequest
from overcast.common.api.routing import Inject, parse_json
from overcast.image.service import ImageService


def image_service_of(request: Request) -> ImageService:
    service: ImageService = request.app.state.image
    return service


Images = Annotated[ImageService, Inject(image_service_of)]


async def json_body(request: Request) -> Any:
    """The request body as JSON.

    :raises BadRequest: when it is empty or not JSON.
    """
    return parse_json(
        await request.body(),
        empty="Body expected in request.",
        malformed="Malformed JSON in request body.",
    )


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object.

    :raises BadRequest: when it is empty, not JSON, or not an object.
    """
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body
