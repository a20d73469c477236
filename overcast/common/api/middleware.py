"""The middlewares every API runs, outermost first (see ``app.MIDDLEWARE_ORDER``)."""

from __future__ import annotations

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overcast.common import metrics
from overcast.common.api.errors import APIError, ErrorStyle
from overcast.common.auth.context import RequestContext
from overcast.common.logging import request_id_var
from overcast.common.policy import Enforcer

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("overcast.access")
REQUEST_ID_HEADER = b"x-openstack-request-id"


def _request_id() -> str:
    """``req-`` and a random (version 4) UUID, as OpenStack writes request ids."""
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"req-{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


class RequestIdMiddleware:
    """Gives every request an id and a :class:`RequestContext`; returns the id as a header.

    With ``trans_id`` it also answers Swift's ``X-Trans-Id`` (``tx``, the same id, the time).
    """

    def __init__(self, app: ASGIApp, *, trans_id: bool = False) -> None:
        self.app = app
        self.trans_id = trans_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id()
        request_id_var.set(request_id)
        scope.setdefault("state", {})["context"] = RequestContext(request_id=request_id)
        headers = [(REQUEST_ID_HEADER, request_id.encode())]
        if self.trans_id:  # Swift's form: tx, 21 hex digits, -, the time in 10 hex digits
            compact = request_id.removeprefix("req-").replace("-", "")
            trans_id = f"tx{compact[:21]}-{int(time.time()):010x}"
            headers.append((b"x-trans-id", trans_id.encode()))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_id)


class ErrorMiddleware:
    """Turns any exception that escapes the app into the service's OpenStack error body."""

    def __init__(self, app: ASGIApp, errors: ErrorStyle) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                LOG.exception("error after the response started")
                raise
            error = exc if isinstance(exc, APIError) else APIError()
            if not isinstance(exc, APIError):
                LOG.exception("unhandled error for %s %s", scope["method"], scope["path"])
            await send_error(send, error, self.errors)


async def send_error(send: Send, error: APIError, errors: ErrorStyle) -> None:
    body, extra = errors.render(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PolicyMiddleware:
    """Binds the service's policy enforcer to the request context, for ``context.can()``."""

    def __init__(self, app: ASGIApp, enforcer: Enforcer) -> None:
        self.app = app
        self.enforcer = enforcer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["state"]["context"].enforcer = self.enforcer
        await self.app(scope, receive, send)


class AccessMiddleware:
    """Counts and times every request for Prometheus, and logs it when asked to."""

    def __init__(self, app: ASGIApp, service: str, access_log: bool = False) -> None:
        self.app = app
        self.service = service
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", "<unmatched>")
            metrics.observe(self.service, scope["method"], route, status, elapsed)
            if self.access_log:
                ACCESS_LOG.info(
                    "%s %s %s %d %.1fms",
                    self.service,
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                )
