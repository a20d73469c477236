"""Token authentication: ``X-Auth-Token`` in, :class:`RequestContext` out.

The middleware never rejects a request itself: a missing or invalid token leaves
an anonymous context that remembers why, and a handler that needs a caller asks
``context.require_auth()``. This lets public routes (version discovery, token
issue) share the stack with protected ones.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.common.api.errors import APIError
from overcast.common.auth.context import AuthInfo, RequestContext


class TokenValidator(Protocol):
    async def validate(self, token: str) -> AuthInfo:
        """The token's info.

        :raises Unauthorized: when the token is malformed, expired or revoked.
        """


class AuthMiddleware:
    def __init__(self, app: ASGIApp, validator: TokenValidator | None) -> None:
        self.app = app
        self.validator = validator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context: RequestContext = scope["state"]["context"]
        token = _header(scope, b"x-auth-token")
        if token and self.validator is not None:
            context.token = token
            try:
                context.auth = await self.validator.validate(token)
            except APIError as exc:
                context.auth_error = exc
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1").strip()
            return text or None
    return None
