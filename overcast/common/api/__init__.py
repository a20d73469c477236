"""The ASGI app kit shared by every service API."""

from overcast.common.api.app import Context, get_context, make_app
from overcast.common.api.responses import JSONResponse, empty_response, json_response
from overcast.common.api.routing import Router

__all__ = [
    "Context",
    "JSONResponse",
    "Router",
    "empty_response",
    "get_context",
    "json_response",
    "make_app",
]
