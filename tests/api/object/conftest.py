"""Storage nodes in process: requests between them travel through :class:`Hosts`."""

from __future__ import annotations

import httpx


class Hosts(httpx.AsyncBaseTransport):
    """Requests to ``host:port`` go to the app serving it in process; others cannot connect."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.netloc.decode())
        if transport is None:
            raise httpx.ConnectError(f"nothing listens on {request.url.netloc!r}", request=request)
        return await transport.handle_async_request(request)
