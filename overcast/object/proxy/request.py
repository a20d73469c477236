"""A request inside the proxy, as its middlewares and controllers see it.

Swift's middlewares (tempurl, SLO, versioning, bulk...) rewrite requests and
make sub-requests of their own. Here each is a :data:`Filter` over
:class:`ProxyRequest` values: it may change the request, answer it itself, or
pass it (and any sub-requests it makes) to the part of the pipeline below it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import httpx
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from overcast.object.proxy.access import Caller

Handler = Callable[["ProxyRequest"], Awaitable[Response]]
"""The rest of the pipeline: a request in, a response out."""


class BadPath(ValueError):
    """A path that names no account, container or object (Swift answers 404 or 412)."""


class TooLarge(ValueError):
    """A request body longer than its reader allows."""


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


@dataclass
class ProxyRequest:
    method: str
    path: str
    """The unquoted path, ``/v1/<account>[/<container>[/<object>]]``."""
    headers: httpx.Headers
    caller: Caller
    query: dict[str, str] = field(default_factory=dict)
    body: AsyncIterator[bytes] = field(default_factory=_no_body)
    authorized: bool = False
    """A middleware has vouched for this request (a valid temp URL, a form post)."""
    source: str = ""
    """The middleware that made this sub-request (empty for a client's request)."""
    environ: dict[str, Any] = field(default_factory=dict)
    """What middlewares tell the ones below them about this request."""

    def split(self) -> tuple[str, str | None, str | None]:
        """(account, container, object) from the path.

        :raises BadPath: when the path is not ``/v1/<account>...``.
        """
        parts = self.path.split("/", 4)
        if len(parts) < 3 or parts[0] or parts[1] != "v1" or not parts[2]:
            raise BadPath(self.path)
        container = parts[3] if len(parts) > 3 and parts[3] else None
        obj = parts[4] if len(parts) > 4 and parts[4] else None
        if len(parts) > 4 and container is None:
            raise BadPath(self.path)
        return parts[2], container, obj

    def container_target(self) -> tuple[str, str, str | None] | None:
        """(account, container, object or None) when the path names a container or an object."""
        try:
            account, container, obj = self.split()
        except BadPath:
            return None
        return None if container is None else (account, container, obj)

    def object_target(self) -> tuple[str, str, str] | None:
        """(account, container, object) when the path names an object."""
        where = self.container_target()
        if where is None or where[2] is None:
            return None
        return where[0], where[1], where[2]

    @property
    def account(self) -> str:
        return self.split()[0]

    def sub(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: AsyncIterator[bytes] | bytes | None = None,
        source: str,
        authorized: bool | None = None,
    ) -> ProxyRequest:
        """A sub-request by the same caller (and with the same vouching unless told)."""
        stream = _one_chunk(body) if isinstance(body, bytes) else body or _no_body()
        return replace(
            self,
            method=method,
            path=path,
            headers=httpx.Headers(headers or {}),
            query=query or {},
            body=stream,
            source=source,
            authorized=self.authorized if authorized is None else authorized,
            environ={},
        )

    async def read(self, limit: int) -> bytes:
        """The whole body.

        :raises TooLarge: when it is longer than ``limit`` bytes.
        """
        data = bytearray()
        async for chunk in self.body:
            data += chunk
            if len(data) > limit:
                raise TooLarge(f"body over {limit} bytes")
        return bytes(data)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


def object_path(account: str, container: str, obj: str | None = None) -> str:
    return f"/v1/{account}/{container}" + (f"/{obj}" if obj is not None else "")


def quoted(path: str) -> str:
    """A path as it appears in a URL or a header (Swift's manifests and Location)."""
    return quote(path, safe="/")


class WholeBody(Response):
    """A node's small body relayed in one piece, read when it is sent or :meth:`read`
    (a :class:`StreamingResponse` starts a task group to send each response)."""

    def __init__(self, node_response: httpx.Response, headers: dict[str, str]) -> None:
        super().__init__(status_code=node_response.status_code, headers=headers)
        self.node_response: httpx.Response | None = node_response

    async def read(self) -> bytes:
        if self.node_response is not None:
            try:
                self.body = b"".join([chunk async for chunk in self.node_response.aiter_raw()])
            finally:
                await self.close()
        return bytes(self.body)

    async def close(self) -> None:
        if self.node_response is not None:
            response, self.node_response = self.node_response, None
            await response.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.read()
        await super().__call__(scope, receive, send)


async def chunks(response: Response) -> AsyncGenerator[bytes, None]:
    """A response's body chunk by chunk, then its clean-up (releasing a node's connection)."""
    try:
        if isinstance(response, WholeBody):
            yield await response.read()
        elif isinstance(response, StreamingResponse):
            async for chunk in response.body_iterator:
                yield chunk if isinstance(chunk, bytes) else str(chunk).encode()
        elif response.body:
            yield bytes(response.body)
    finally:
        if response.background is not None:
            await response.background()


async def drain(response: Response, limit: int | None = None) -> bytes:
    """A response's whole body (``limit``: at most that many bytes, then stop).

    :raises TooLarge: when the body is longer than ``limit``.
    """
    data = bytearray()
    stream = chunks(response)
    try:
        async for chunk in stream:
            data += chunk
            if limit is not None and len(data) > limit:
                raise TooLarge(f"body over {limit} bytes")
    finally:
        await stream.aclose()
    return bytes(data)


async def discard(response: Response) -> None:
    """Drop a response's body unread, releasing what it holds."""
    if isinstance(response, WholeBody):
        await response.close()
    if response.background is not None:
        await response.background()
