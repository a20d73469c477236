"""Dynamic large objects: an object with ``X-Object-Manifest: <container>/<prefix>``
reads as every object under that prefix, in listing order, concatenated.

The segments are whatever the container lists at read time, so they can be
uploaded (or replaced) after the manifest. Its ETag is the quoted MD5 of the
segments' ETags; ``?multipart-manifest=get`` reads the manifest object itself.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from overcast.object import conditions
from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.middleware.large import (
    Segment,
    assembled,
    etag_of,
    manifest_headers,
    read_request,
)
from overcast.object.proxy.request import (
    ProxyRequest,
    TooLarge,
    discard,
    drain,
    object_path,
)

MAX_SEGMENTS = 10_000
PAGE_BYTES = 64 * 1024 * 1024


class Dlo(Middleware):
    name = "dlo"

    def info(self) -> dict[str, Any]:
        return {"max_segments": MAX_SEGMENTS}

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.object_target()
        if where is None:
            return await self.app(request)
        account = where[0]
        manifest = request.headers.get("x-object-manifest")
        if request.method in ("PUT", "POST") and manifest is not None:
            segments_in, _, _ = unquote(manifest).partition("/")
            if "/" not in manifest or not segments_in or manifest.startswith("/"):
                return error(400, "X-Object-Manifest must be in the format container/prefix")
        if (
            request.method not in ("GET", "HEAD")
            or request.query.get("multipart-manifest") == "get"
        ):
            return await self.app(request)
        asked = {k: v for k, v in request.headers.items() if k.startswith("if-")}
        response = await self.app(read_request(request))
        if "x-object-manifest" not in response.headers:
            return response
        if response.status_code in (304, 412):
            # the node judged the manifest's own ETag: read it unconditionally, and judge the
            # object's (its segments') below
            await discard(response)
            for name in asked:
                del request.headers[name]
            response = await self.app(request)
        manifest = response.headers.get("x-object-manifest")
        if manifest is None or response.status_code != 200:
            return response
        await discard(response)
        segment_container, _, prefix = unquote(manifest).partition("/")
        try:
            segments = await self.segments(request, account, segment_container, prefix)
        except TooLarge:
            return error(409, f"Too many segments: at most {MAX_SEGMENTS}")
        if segments is None:
            return error(404)
        etag = etag_of([segment.etag for segment in segments])
        headers = manifest_headers(response) | {"ETag": f'"{etag}"'}
        last_modified = _seconds(response.headers.get("last-modified"))
        status = conditions.evaluate(asked, etag, last_modified, reading=True)
        if status is not None:
            return Response(status_code=status, headers={"ETag": f'"{etag}"'})

        async def fetch(path: str, ranged: str | None) -> Response:
            sub = request.sub(
                "GET", path, headers={"range": ranged} if ranged else {}, source="dlo"
            )
            return await self.app(sub)

        return assembled(request, fetch, segments, headers)

    async def segments(
        self, request: ProxyRequest, account: str, container: str, prefix: str
    ) -> list[Segment] | None:
        """The objects under ``prefix``, in order (None when the container cannot be listed).

        :raises TooLarge: past :data:`MAX_SEGMENTS`.
        """
        found: list[Segment] = []
        marker = ""
        while True:
            query = {"format": "json", "prefix": prefix, "marker": marker}
            listing = await self.app(
                request.sub("GET", object_path(account, container), query=query, source="dlo")
            )
            if listing.status_code not in (200, 204):
                await discard(listing)
                return None
            page = json.loads(await drain(listing, PAGE_BYTES) or b"[]")
            if not page:
                return found
            for entry in page:
                found.append(
                    Segment(
                        path=object_path(account, container, entry["name"]),
                        size=int(entry["bytes"]),
                        etag=str(entry["hash"]),
                    )
                )
            if len(found) > MAX_SEGMENTS:
                raise TooLarge(f"more than {MAX_SEGMENTS} segments")
            marker = page[-1]["name"]


def _seconds(value: str | None) -> float:
    try:
        return parsedate_to_datetime(value).timestamp() if value else 0.0
    except (TypeError, ValueError):
        return 0.0
