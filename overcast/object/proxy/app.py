"""The proxy's ASGI app: ``/v1/<account>[/<container>[/<object>]]``, ``/info`` and ``/healthcheck``.

The common middlewares give every request an id (also sent as Swift's
``X-Trans-Id``) and validate ``X-Auth-Token``; then the path picks the account,
container or object controller, after :mod:`access` allowed the caller in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.common.api.app import serve_lifespan
from overcast.common.api.middleware import RequestIdMiddleware
from overcast.common.auth.context import RequestContext
from overcast.common.auth.middleware import AuthMiddleware, TokenValidator
from overcast.object.proxy import containers, objects
from overcast.object.proxy.access import Caller, allows
from overcast.object.proxy.call import Call, ContainerInfo
from overcast.object.proxy.errors import error
from overcast.object.proxy.service import ObjectService

LOG = logging.getLogger(__name__)
ObjectHandler = Callable[[Call, ContainerInfo], Awaitable[Response]]
OBJECT_HANDLERS: dict[str, ObjectHandler] = {
    "GET": objects.get_object,
    "HEAD": objects.get_object,
    "PUT": objects.put_object,
    "POST": objects.post_object,
    "DELETE": objects.delete_object,
}


class ProxyEndpoint:
    def __init__(self, service: ObjectService) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.route(request)
        except Exception:
            LOG.exception("%s %s failed", request.method, request.url.path)
            response = error(500, "An error occurred")
        if "content-type" not in response.headers:  # Swift gives one, even with no body
            response.headers["Content-Type"] = "text/html; charset=UTF-8"
        await response(scope, receive, send)

    async def route(self, request: Request) -> Response:
        path = request.url.path
        if path == "/info" and request.method in ("GET", "HEAD"):
            return self.info()
        if path == "/healthcheck":
            return Response("OK", media_type="text/plain")
        raw = request.scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0]
        try:
            parts = unquote(raw, errors="strict").split("/", 4)
        except UnicodeDecodeError:
            return error(412, "Invalid UTF8 or contains NULL")
        if len(parts) < 3 or parts[0] or parts[1] != "v1" or not parts[2]:
            return error(404)
        account = parts[2]
        container = parts[3] if len(parts) > 3 and parts[3] else None
        obj = parts[4] if len(parts) > 4 and parts[4] else None
        if len(parts) > 4 and container is None:
            return error(404)
        if any("\x00" in name for name in (account, container or "", obj or "")):
            return error(412, "Invalid UTF8 or contains NULL")
        context: RequestContext = request.scope["state"]["context"]
        caller = Caller(context.auth, request.headers.get("referer"))
        call = Call(self.service, request, caller, account, container, obj)
        if obj is not None:
            return await self.objects(call)
        if container is not None:
            return await self.containers(call)
        return await self.accounts(call)

    async def accounts(self, call: Call) -> Response:
        if not call.caller.owns(call.account):
            return error(call.caller.denied())
        method = call.request.method
        if method in ("GET", "HEAD"):
            return await containers.listing(call, "account")
        if method == "POST":
            return await containers.post_account(call)
        return error(405)

    async def containers(self, call: Call) -> Response:
        method = call.request.method
        owner = call.caller.owns(call.account)
        if method in ("GET", "HEAD"):
            if not owner:
                info = await call.container_info()
                if info is None or not containers.may_list(call, info.read_acl):
                    return error(call.caller.denied())
            return await containers.listing(call, "container")
        if not owner:
            return error(call.caller.denied())
        if method == "PUT":
            return await containers.put_container(call)
        if method == "POST":
            return await containers.post_container(call)
        if method == "DELETE":
            return await containers.delete_container(call)
        return error(405)

    async def objects(self, call: Call) -> Response:
        handler = OBJECT_HANDLERS.get(call.request.method)
        if handler is None:
            return error(405)
        info = await call.container_info()
        owner = call.caller.owns(call.account)
        if not owner:
            reading = call.request.method in ("GET", "HEAD")
            acl = None if info is None else info.read_acl if reading else info.write_acl
            if not allows(acl, call.caller):
                return error(call.caller.denied())
        if info is None:
            return error(404)
        return await handler(call, info)

    def info(self) -> Response:
        policies = [
            {"name": p.name, **({"default": True} if p.default else {})}
            for p in sorted(self.service.policies.values(), key=lambda p: p.index)
        ]
        body = {
            "swift": {**self.service.limits.info(), "policies": policies, "version": "2.38.3"},
        }
        return Response(json.dumps(body), media_type="application/json; charset=utf-8")


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
