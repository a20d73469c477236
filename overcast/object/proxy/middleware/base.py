"""What every proxy middleware is: a filter over :class:`ProxyRequest` with a name in ``/info``."""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.responses import Response

from overcast.object.proxy.request import Handler, ProxyRequest
from overcast.object.proxy.service import ObjectService


class Middleware:
    name: ClassVar[str] = ""
    """Its key in ``/info`` (empty: not listed)."""

    def __init__(self, app: Handler, service: ObjectService) -> None:
        self.app = app
        """The pipeline below this middleware: where requests and sub-requests go on."""
        self.service = service

    def info(self) -> dict[str, Any]:
        """What ``/info`` shows under :attr:`name`."""
        return {}

    def capabilities(self) -> dict[str, dict[str, Any]]:
        """This middleware's entries in ``/info`` (none without a name)."""
        return {self.name: self.info()} if self.name else {}

    async def __call__(self, request: ProxyRequest) -> Response:
        return await self.app(request)
