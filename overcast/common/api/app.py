"""``make_app``: every service API is a FastAPI app built here, with one middleware order.

The middleware order, outermost first (a request passes down the list, its
response comes back up)::

    1. RequestIdMiddleware  - request id, RequestContext, X-Openstack-Request-Id header
    2. ErrorMiddleware      - any escaped exception becomes the service's error body
    3. AuthMiddleware       - X-Auth-Token -> context.auth (never rejects by itself)
    4. PolicyMiddleware     - binds the policy enforcer for context.can()/enforce()
    5. AccessMiddleware     - Prometheus counters/latency and the access log

Inside them FastAPI routes the request; errors a handler raises are rendered by
the exception handlers registered here, in the same body format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response

from overcast.common.api.errors import APIError, ErrorStyle, ValidationError, error_for_status
from overcast.common.api.middleware import (
    AccessMiddleware,
    ErrorMiddleware,
    PolicyMiddleware,
    RequestIdMiddleware,
)
from overcast.common.api.routing import Router
from overcast.common.auth.context import RequestContext
from overcast.common.auth.middleware import AuthMiddleware, TokenValidator
from overcast.common.metrics import metrics_endpoint
from overcast.common.policy import Enforcer


def get_context(request: Request) -> RequestContext:
    context: RequestContext = request.scope["state"]["context"]
    return context


Context = Annotated[RequestContext, Depends(get_context)]


def make_app(
    *,
    service: str,
    routers: Sequence[Router],
    errors: ErrorStyle,
    enforcer: Enforcer,
    validator: TokenValidator | None,
    state: Mapping[str, Any] | None = None,
    lifespan: Callable[[FastAPI], Any] | None = None,
    access_log: bool = False,
) -> FastAPI:
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(ErrorMiddleware, errors=errors),
        Middleware(AuthMiddleware, validator=validator),
        Middleware(PolicyMiddleware, enforcer=enforcer),
        Middleware(AccessMiddleware, service=service, access_log=access_log),
    ]
    app = FastAPI(
        title=f"Overcast {service}",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers=_exception_handlers(errors),
    )
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    for router in routers:
        app.include_router(router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return app


def _exception_handlers(errors: ErrorStyle) -> dict[Any, Callable[..., Any]]:
    def render(error: APIError) -> Response:
        body, headers = errors.render(error)
        return Response(
            body, status_code=error.status, headers=headers, media_type="application/json"
        )

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return render(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error = error_for_status(exc.status_code, _http_message(exc))
        error.headers.update(exc.headers or {})
        return render(error)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(ValidationError(describe_validation_errors(exc.errors())))

    return {
        APIError: on_api_error,
        HTTPException: on_http_error,
        RequestValidationError: on_validation_error,
    }


def _http_message(exc: HTTPException) -> str | None:
    if exc.status_code == 404:
        return "The resource could not be found."
    if exc.status_code == 405:
        return "The method is not allowed for the requested URL."
    return str(exc.detail) if exc.detail else None


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence per problem: which field, and what is wrong with it."""
    sentences = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        kind = err.get("type", "")
        if kind == "json_invalid":
            sentences.append("The request body is not valid JSON.")
            continue
        where, place = _location(loc)
        message = str(err.get("msg", "is not valid"))
        if kind == "missing":
            sentences.append(f"'{where}' is a required {place}.")
        elif kind == "extra_forbidden":
            sentences.append(f"Additional properties are not allowed ('{where}' was unexpected).")
        else:
            sentences.append(f"Invalid input for {place} '{where}': {message}.")
    return " ".join(sentences) or "The request is not valid."


def _location(loc: list[str]) -> tuple[str, str]:
    if loc and loc[0] == "body":
        return ".".join(loc[1:]) or "body", "field"
    if loc and loc[0] == "query":
        return ".".join(loc[1:]), "query parameter"
    if loc and loc[0] == "header":
        return ".".join(loc[1:]), "header"
    if loc and loc[0] == "path":
        return ".".join(loc[1:]), "path parameter"
    return ".".join(loc), "field"
