"""``make_app``: every service API is an :class:`ApiApp` built here, with one middleware order.

The middleware order, outermost first (a request passes down the list, its
response comes back up)::

    1. RequestIdMiddleware  - request id, RequestContext, X-Openstack-Request-Id header
    2. ErrorMiddleware      - any escaped exception becomes the service's error body
    3. AuthMiddleware       - X-Auth-Token -> context.auth (never rejects by itself)
    4. PolicyMiddleware     - binds the policy enforcer for context.can()/enforce()
    (4b. MicroversionMiddleware - context.version, for APIs with microversions)
    5. AccessMiddleware     - Prometheus counters/latency and the access log

Inside them the dispatcher finds the route and calls its handler; an
:class:`APIError` a handler raises is rendered in the service's error format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from overcast.common.api.errors import APIError, ErrorStyle
from overcast.common.api.microversions import MicroversionMiddleware, Microversions
from overcast.common.api.middleware import (
    AccessMiddleware,
    ErrorMiddleware,
    PolicyMiddleware,
    RequestIdMiddleware,
)
from overcast.common.api.openapi import openapi_document
from overcast.common.api.routing import Dispatcher, Inject, Route, Router
from overcast.common.auth.context import RequestContext
from overcast.common.auth.middleware import AuthMiddleware, TokenValidator
from overcast.common.metrics import metrics_endpoint
from overcast.common.policy import Enforcer


def context_of(request: Request) -> RequestContext:
    context: RequestContext = request.scope["state"]["context"]
    return context


Context = Annotated[RequestContext, Inject(context_of)]
"""A handler parameter receiving the request's :class:`RequestContext`."""


class ApiApp:
    """An ASGI app: the middleware list around a route dispatcher."""

    def __init__(
        self,
        *,
        title: str,
        routes: Sequence[Route],
        errors: ErrorStyle,
        middleware: Sequence[tuple[type, dict[str, Any]]],
        state: Mapping[str, Any],
        strict_slashes: bool = False,
    ) -> None:
        self.title = title
        self.errors = errors
        self.dispatcher = Dispatcher(routes, strict_slashes=strict_slashes)
        self.state = State(dict(state))
        app: ASGIApp = self._endpoint
        for cls, options in reversed(middleware):
            app = cls(app, **options)
        self._stack = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        scope["app"] = self
        await self._stack(scope, receive, send)

    async def _endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            if scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD"):
                response = await metrics_endpoint(request)
            else:
                route, params = self.dispatcher.find(scope["method"], scope["path"])
                scope["route"] = route
                scope["path_params"] = params
                response = await route(request, params)
        except APIError as exc:
            body, headers = self.errors.render(exc)
            response = Response(body, exc.status, headers=headers, media_type="application/json")
        await response(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        return openapi_document(self.title, self.dispatcher.routes)


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Answer an ASGI lifespan conversation (nothing to start or stop)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_app(
    *,
    service: str,
    routers: Sequence[Router],
    errors: ErrorStyle,
    enforcer: Enforcer,
    validator: TokenValidator | None,
    state: Mapping[str, Any] | None = None,
    access_log: bool = False,
    strict_slashes: bool = False,
    microversions: Microversions | None = None,
) -> ApiApp:
    middleware: list[tuple[type, dict[str, Any]]] = [
        (RequestIdMiddleware, {}),
        (ErrorMiddleware, {"errors": errors}),
        (AuthMiddleware, {"validator": validator}),
        (PolicyMiddleware, {"enforcer": enforcer}),
    ]
    if microversions is not None:
        middleware.append((MicroversionMiddleware, {"versions": microversions, "errors": errors}))
    middleware.append((AccessMiddleware, {"service": service, "access_log": access_log}))
    routes = [route for router in routers for route in router.routes]
    return ApiApp(
        title=f"Overcast {service}",
        routes=routes,
        errors=errors,
        middleware=middleware,
        state=state or {},
        strict_slashes=strict_slashes,
    )
