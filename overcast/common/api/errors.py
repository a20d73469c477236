"""API errors and the OpenStack error bodies they become.

Every handler raises one of these; the service's :class:`ErrorStyle` turns it
into the body its OpenStack twin sends (Keystone's ``{"error": {...}}`` ...). The tree::

    APIError (500)
     ├── BadRequest (400)
     │    └── ValidationError (400)
     ├── Unauthorized (401)
     ├── Forbidden (403)
     ├── NotFound (404)
     ├── MethodNotAllowed (405)
     ├── Conflict (409)
     ├── Gone (410)
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── NotImplementedYet (501)
     └── ServiceUnavailable (503)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import orjson


class APIError(Exception):
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = (
        "An unexpected error prevented the server from fulfilling your request."
    )

    def __init__(
        self, message: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.headers = dict(headers or {})
        super().__init__(self.message)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(APIError):
    status = 400
    default_message = "The request you have made is not valid."


class ValidationError(BadRequest):
    default_message = "Expecting to find valid input in the request body."


class Unauthorized(APIError):
    status = 401
    default_message = "The request you have made requires authentication."


class Forbidden(APIError):
    status = 403
    default_message = "You are not authorized to perform the requested action."


class NotFound(APIError):
    status = 404
    default_message = "The resource could not be found."


class MethodNotAllowed(APIError):
    status = 405
    default_message = "The method is not allowed for the requested URL."


class Conflict(APIError):
    status = 409
    default_message = "The request could not be completed due to a conflict."


class Gone(APIError):
    status = 410


class PayloadTooLarge(APIError):
    status = 413
    default_message = "The request is larger than the server is willing to process."


class UnsupportedMediaType(APIError):
    status = 415
    default_message = "The request body has a media type that is not supported."


class NotImplementedYet(APIError):
    status = 501
    default_message = "The action you have requested has not been implemented."


class ServiceUnavailable(APIError):
    status = 503
    default_message = "The service is unavailable; try again later."


ErrorFormat = Callable[[APIError], bytes]
"""Renders an error as the body the service's OpenStack twin sends."""


@dataclass(frozen=True)
class ErrorStyle:
    """How a service reports errors: its body format, and the challenge sent with a 401."""

    body: ErrorFormat
    challenge: str | None = None
    """``WWW-Authenticate`` value for 401 responses, e.g. ``Keystone uri="..."``."""

    def render(self, error: APIError) -> tuple[bytes, dict[str, str]]:
        headers = dict(error.headers)
        if error.status == 401 and self.challenge:
            headers.setdefault("WWW-Authenticate", self.challenge)
        return self.body(error), headers


def keystone_error(error: APIError) -> bytes:
    """Keystone's shape: ``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``."""
    body: dict[str, Any] = {
        "error": {"code": error.status, "title": error.title, "message": error.message}
    }
    return orjson.dumps(body)


def glance_error(error: APIError) -> bytes:
    """Glance's (webob's) shape: ``{"code": "404 Not Found", "title": ..., "message": ...}``."""
    body = {
        "code": f"{error.status} {error.title}",
        "title": error.title,
        "message": error.message,
    }
    return orjson.dumps(body)


NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def nova_error(error: APIError) -> bytes:
    """Nova's shape: ``{"itemNotFound": {"code": 404, "message": "..."}}``."""
    name = NOVA_FAULTS.get(error.status, "computeFault")
    return orjson.dumps({name: {"code": error.status, "message": error.message}})
