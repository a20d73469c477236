"""The ASGI app kit shared by every service API."""

from overcast.common.api.app import ApiApp, Context, context_of, make_app
from overcast.common.api.responses import JSONResponse, empty_response, json_response
from overcast.common.api.routing import Inject, Router

__all__ = [
    "ApiApp",
    "Context",
    "Inject",
    "JSONResponse",
    "Router",
    "context_of",
    "empty_response",
    "json_response",
    "make_app",
]
