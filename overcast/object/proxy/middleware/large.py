"""What static and dynamic large objects share: reading a manifest's segments one
after another as one body, whole or by byte ranges.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response, StreamingResponse

from overcast.object import ranges
from overcast.object.proxy.errors import error
from overcast.object.proxy.request import ProxyRequest, chunks, discard

LOG = logging.getLogger(__name__)
Fetch = Callable[[str, str | None], Awaitable[Response]]
"""GET one segment (a path, and a Range header or None)."""
WHOLE_IF_MANIFEST = "X-Static-Large-Object, X-Object-Manifest"


@dataclass(frozen=True)
class Segment:
    path: str
    """``/v1/<account>/<container>/<object>`` (empty for inline data)."""
    size: int
    """The bytes this segment gives (its range's length, when it has one)."""
    etag: str = ""
    offset: int = 0
    """Where in the segment object its bytes start."""
    data: bytes = b""
    """An inline segment's bytes (a static manifest's ``data`` entry)."""


class SegmentFailed(Exception):
    pass


def etag_of(etags: list[str]) -> str:
    """A large object's ETag: the MD5 of its segments' ETags, in order."""
    return hashlib.md5("".join(etags).encode(), usedforsecurity=False).hexdigest()


def read_request(request: ProxyRequest) -> ProxyRequest:
    """The manifest's own read: whole, whatever the range, so the proxy assembles from it."""
    request.headers["X-Backend-Ignore-Range-If-Metadata-Present"] = WHOLE_IF_MANIFEST
    return request


async def stream(
    fetch: Fetch, segments: list[Segment], start: int, end: int
) -> AsyncIterator[bytes]:
    """Bytes ``start`` to ``end`` (exclusive) of the segments laid end to end."""
    position = 0
    for segment in segments:
        first, last = max(start - position, 0), min(end - position, segment.size)
        position += segment.size
        if first >= last:
            if position >= end:
                return
            continue
        if segment.data:
            yield segment.data[first:last]
            continue
        whole = first == 0 and last == segment.size and segment.offset == 0
        asked = None if whole else f"bytes={segment.offset + first}-{segment.offset + last - 1}"
        response = await fetch(segment.path, asked)
        if response.status_code not in (200, 206):
            await discard(response)
            LOG.warning("segment %s: %s", segment.path, response.status_code)
            raise SegmentFailed(f"{segment.path}: {response.status_code}")
        async for chunk in chunks(response):
            yield chunk


def assembled(
    request: ProxyRequest,
    fetch: Fetch,
    segments: list[Segment],
    headers: dict[str, str],
) -> Response:
    """The response to a GET or HEAD of a large object (``headers`` from its manifest)."""
    total = sum(segment.size for segment in segments)
    headers["Accept-Ranges"] = "bytes"
    if request.method == "HEAD":
        headers["Content-Length"] = str(total)
        return Response(status_code=200, headers=headers)
    try:
        wanted = ranges.parse(request.headers.get("range"), total)
    except ranges.Unsatisfiable:
        return error(416, headers={"Content-Range": f"bytes */{total}"})
    if wanted is None:
        headers["Content-Length"] = str(total)
        return StreamingResponse(stream(fetch, segments, 0, total), headers=headers)
    if len(wanted) == 1:
        start, end = wanted[0]
        headers["Content-Range"] = ranges.content_range(start, end, total)
        headers["Content-Length"] = str(end - start)
        body = stream(fetch, segments, start, end)
        return StreamingResponse(body, status_code=206, headers=headers)
    mark = ranges.boundary()
    pieces = list(ranges.multipart_parts(wanted, total, headers.get("content-type", ""), mark))
    headers["Content-Length"] = str(
        sum(len(text) + (span[1] - span[0] if span else 0) for text, span in pieces)
    )
    headers["Content-Type"] = f"multipart/byteranges;boundary={mark}"

    async def parts() -> AsyncIterator[bytes]:
        for text, span in pieces:
            if span is None:
                yield text
            else:
                async for chunk in stream(fetch, segments, *span):
                    yield chunk

    return StreamingResponse(parts(), status_code=206, headers=headers)


def manifest_headers(response: Response, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The manifest's headers that the large object keeps (not its size or range)."""
    skipped = ("content-length", "content-range", "etag", "accept-ranges", *drop)
    return {k: v for k, v in response.headers.items() if k not in skipped}
