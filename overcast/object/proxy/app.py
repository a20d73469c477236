"""The proxy's ASGI app: ``/v1/<account>[/<container>[/<object>]]``, ``/info`` and ``/healthcheck``.

The common middlewares give every request an id (also sent as Swift's
``X-Trans-Id``) and validate ``X-Auth-Token``; then the request goes through
Swift's middlewares (:mod:`middleware`) to the :mod:`controller`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.common.api.app import serve_lifespan
from overcast.common.api.middleware import RequestIdMiddleware
from overcast.common.auth.context import RequestContext
from overcast.common.auth.middleware import AuthMiddleware, TokenValidator
from overcast.object.proxy.access import Caller
from overcast.object.proxy.backend import BodyBroken
from overcast.object.proxy.call import SYSMETA_PREFIXES
from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware import capabilities, middlewares
from overcast.object.proxy.request import Handler, ProxyRequest
from overcast.object.proxy.service import ObjectService

LOG = logging.getLogger(__name__)
INTERNAL_BYTES = (b"x-backend-", *(prefix.encode() for prefix in SYSMETA_PREFIXES))
REMOVABLE = ("x-account-", "x-container-", "x-versions-location", "x-history-location")


class ProxyEndpoint:
    """ASGI in, :class:`ProxyRequest` through the middlewares and the controller, ASGI out."""

    def __init__(self, service: ObjectService) -> None:
        self.service = service
        chain = middlewares(service)
        self.pipeline: Handler = chain[0]
        self.capabilities = capabilities(chain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.route(request)
        except Exception:
            LOG.exception("%s %s failed", request.method, request.url.path)
            response = error(500, "An error occurred")
        if "content-type" not in response.headers:  # Swift gives one, even with no body
            response.headers["Content-Type"] = "text/html; charset=UTF-8"
        for name in [n for n in response.headers if n.startswith(SYSMETA_PREFIXES)]:
            del response.headers[name]
        await response(scope, receive, send)

    async def route(self, request: Request) -> Response:
        path = request.url.path
        if path == "/info" and request.method in ("GET", "HEAD"):
            return self.info()
        raw = request.scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0]
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return error(412, "Invalid UTF8 or contains NULL")
        if "\x00" in path:
            return error(412, "Invalid UTF8 or contains NULL")
        context: RequestContext = request.scope["state"]["context"]
        proxied = ProxyRequest(
            method=request.method,
            path=path,
            headers=_gatekeeper(request.headers.raw),
            caller=Caller(context.auth, request.headers.get("referer")),
            query=dict(request.query_params),
            body=_body(request),
            environ={"client_ip": request.client.host if request.client else ""},
        )
        return await self.pipeline(proxied)

    def info(self) -> Response:
        policies = [
            {"name": p.name, **({"default": True} if p.default else {})}
            for p in sorted(self.service.policies.values(), key=lambda p: p.index)
        ]
        body = {
            "swift": {**self.service.limits.info(), "policies": policies, "version": "2.38.3"},
            **self.capabilities,
        }
        return Response(json.dumps(body), media_type="application/json; charset=utf-8")


def _gatekeeper(raw: list[tuple[bytes, bytes]]) -> httpx.Headers:
    """The client's headers without sysmeta or backend ones, and ``X-Remove-*`` as empty values.

    ``X-Remove-Container-Meta-Color: x`` means ``X-Container-Meta-Color:`` (empty:
    remove it); so for account and container settings and versioning locations.
    """
    headers = httpx.Headers([(k, v) for k, v in raw if not k.startswith(INTERNAL_BYTES)])
    for name in [n for n in headers if n.startswith("x-remove-")]:
        target = "x-" + name.removeprefix("x-remove-")
        del headers[name]
        if target.startswith(REMOVABLE) and target not in headers:
            headers[target] = ""
    return headers


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect as exc:
        raise BodyBroken("client disconnected") from exc


def make_object_app(service: ObjectService, validator: TokenValidator | None) -> ASGIApp:
    """Request id (and Swift's X-Trans-Id), then token validation, then Swift's API."""
    app: ASGIApp = AuthMiddleware(ProxyEndpoint(service), validator)
    return _Lifespan(RequestIdMiddleware(app, trans_id=True))


class _Lifespan:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        await self.app(scope, receive, send)
