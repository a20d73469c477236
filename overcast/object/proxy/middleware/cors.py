"""CORS: browsers on other sites may call a container's objects when its metadata
says so (``X-Container-Meta-Access-Control-Allow-Origin``, ``-Max-Age``,
``-Expose-Headers``).

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``)
is answered from the container's settings, 401 when the origin is not allowed;
an actual request from an allowed origin gets ``Access-Control-Allow-Origin``
and the headers it may read.
"""

from __future__ import annotations

from starlette.responses import Response

from overcast.object.proxy import info
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import ProxyRequest

METHODS = ("HEAD", "GET", "PUT", "POST", "COPY", "OPTIONS", "DELETE")
EXPOSED = (
    "cache-control",
    "content-language",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
    "etag",
    "x-timestamp",
    "x-trans-id",
    "x-openstack-request-id",
)


def allowed_origin(found: ContainerInfo | None, origin: str) -> str | None:
    """What ``Access-Control-Allow-Origin`` says to ``origin`` (None: not allowed)."""
    if found is None:
        return None
    allowed = (found.meta("access-control-allow-origin") or "").split()
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


class Cors(Middleware):
    async def __call__(self, request: ProxyRequest) -> Response:
        origin = request.headers.get("origin")
        where = request.container_target()
        if request.method == "OPTIONS":
            if where is None or origin is None:
                return Response(status_code=200, headers={"Allow": ", ".join(METHODS)})
            return await self.preflight(request, where[0], where[1], origin)
        response = await self.app(request)
        if origin is None or where is None:
            return response
        found = await info.container_info(self.service, request.environ, where[0], where[1])
        shown = allowed_origin(found, origin)
        if shown is not None and found is not None:
            extra = (found.meta("access-control-expose-headers") or "").split()
            meta = [name for name in response.headers if name.startswith("x-object-meta-")]
            exposed = [*EXPOSED, *meta, *extra]
            response.headers["Access-Control-Allow-Origin"] = shown
            response.headers["Access-Control-Expose-Headers"] = ", ".join(exposed)
        return response

    async def preflight(
        self, request: ProxyRequest, account: str, container: str, origin: str
    ) -> Response:
        method = request.headers.get("access-control-request-method", "")
        found = await info.container_info(self.service, request.environ, account, container)
        shown = allowed_origin(found, origin)
        if found is None or shown is None or method not in METHODS:
            return error(401)
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(METHODS),
            "Allow": ", ".join(METHODS),
        }
        asked = request.headers.get("access-control-request-headers")
        if asked:
            headers["Access-Control-Allow-Headers"] = asked
        max_age = found.meta("access-control-max-age")
        if max_age and max_age.isdigit():
            headers["Access-Control-Max-Age"] = max_age
        return Response(status_code=200, headers=headers)
