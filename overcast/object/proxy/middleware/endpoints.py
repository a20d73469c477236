"""Answers that need no storage: ``/healthcheck`` and ``/crossdomain.xml``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import ProxyRequest

CROSS_DOMAIN_POLICY = '<allow-access-from domain="*" secure="false" />'
"""Swift's default: Flash and Silverlight clients from anywhere may call the API."""


class Healthcheck(Middleware):
    async def __call__(self, request: ProxyRequest) -> Response:
        if request.path == "/healthcheck":
            body = "" if request.method == "HEAD" else "OK"
            return Response(body, media_type="text/plain")
        return await self.app(request)


class Crossdomain(Middleware):
    name = "crossdomain"

    def info(self) -> dict[str, Any]:
        return {"cross_domain_policy": CROSS_DOMAIN_POLICY}

    async def __call__(self, request: ProxyRequest) -> Response:
        if request.path == "/crossdomain.xml" and request.method in ("GET", "HEAD"):
            body = (
                '<?xml version="1.0"?>\n'
                "<!DOCTYPE cross-domain-policy SYSTEM "
                '"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n'
                f"<cross-domain-policy>\n{CROSS_DOMAIN_POLICY}\n</cross-domain-policy>"
            )
            return Response(body, media_type="application/xml; charset=utf-8")
        return await self.app(request)
