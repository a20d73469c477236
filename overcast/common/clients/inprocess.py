"""An httpx transport that hands requests for this process's own servers straight to their apps.

When one process is both a Swift proxy and a storage node (the all-in-one), or
a storage node updates a container server it also serves, the request need
not cross the loopback: the same ASGI app answers it without a socket or an
HTTP parser on either side. Requests for any other address go over the
network as usual, so the code that sends them is the same in one process or
many. Unlike ``httpx.ASGITransport``, bodies stream both ways (a 256 MiB
object is never held in memory) and the app runs as a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import unquote

import httpx
from starlette.types import ASGIApp, Message

Address = tuple[str, int]
_BACKLOG = 8
"""Response messages the app may run ahead of the reader by."""


class InternalClient(httpx.AsyncClient):
    """A client for one service's calls to another (a proxy to its storage nodes).

    Services send no cookies, so it keeps no cookie jar: filing every response
    in one was a tenth of a proxy's time.
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None  # nothing to keep


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


_NO_COOKIES = _NoCookies()


class InProcessTransport(httpx.AsyncBaseTransport):
    """Requests for an address in ``apps`` go to that app; all others to ``network``.

    ``apps`` is read at each request, so servers may be added after the client
    is made.
    """

    def __init__(self, apps: Mapping[Address, ASGIApp], network: httpx.AsyncBaseTransport):
        self.apps = apps
        self.network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        app = self.apps.get((url.host, url.port or 80))
        if app is None:
            return await self.network.handle_async_request(request)
        exchange = _Exchange(app, _scope(request), request.stream)
        return await exchange.start()

    async def aclose(self) -> None:
        await self.network.aclose()


def _scope(request: httpx.Request) -> dict[str, Any]:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(raw_path.decode("ascii", "replace")),
        "raw_path": raw_path,
        "query_string": url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": ("127.0.0.1", 0),
        "server": (url.host, url.port or 80),
        "extensions": {},
    }


class _Exchange:
    """One request: the app as a task, its response messages through a bounded queue."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any], body: Any) -> None:
        self.app = app
        self.scope = scope
        self.body: AsyncIterator[bytes] = aiter(body)
        self.body_done = False
        self.finished = asyncio.Event()
        self.messages: asyncio.Queue[Message | BaseException] = asyncio.Queue(_BACKLOG)
        self.task: asyncio.Task[None] | None = None
        self.complete = False
        """The whole response was read."""

    async def receive(self) -> Message:
        if self.body_done:
            await self.finished.wait()  # the request is over: the "client" is gone
            return {"type": "http.disconnect"}
        try:
            chunk = await anext(self.body)
        except StopAsyncIteration:
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": bytes(chunk), "more_body": True}

    async def send(self, message: Message) -> None:
        await self.messages.put(message)

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except BaseException as exc:
            await self.messages.put(exc)
            raise
        finally:
            self.finished.set()

    async def start(self) -> httpx.Response:
        """Run the app until it starts its response; the body is read as the caller reads."""
        self.task = asyncio.get_running_loop().create_task(self.run())
        first = await self._next()
        if first["type"] != "http.response.start":
            await self.close()
            raise httpx.RemoteProtocolError(f"the app sent {first['type']} before its response")
        return httpx.Response(
            first["status"],
            headers=[(bytes(k), bytes(v)) for k, v in first.get("headers", [])],
            stream=_Body(self),
        )

    async def _next(self) -> Message:
        item = await self.messages.get()
        if isinstance(item, BaseException):
            await self.close()
            raise httpx.RemoteProtocolError(f"the app failed: {item!r}") from item
        return item

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._next()
            if message["type"] != "http.response.body":
                continue
            if message.get("body"):
                yield bytes(message["body"])
            if not message.get("more_body", False):
                self.complete = True
                return

    async def close(self) -> None:
        """Stop the app if the reader went away before the end of its answer."""
        self.finished.set()
        task = self.task
        if task is None:
            return
        if self.complete or task.done():
            task.add_done_callback(_retrieve)  # it finishes on its own; failures were reported
            return
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


class _Body(httpx.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self.exchange.close()
