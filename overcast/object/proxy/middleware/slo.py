"""Static large objects: a manifest listing segments (objects, ranges of them, or
inline data) that reads as their concatenation.

``PUT ?multipart-manifest=put`` with a JSON list of ``{"path", "etag", "size_bytes",
"range"}`` (or ``{"data": <base64>}``) checks every segment exists and matches,
then stores the manifest; a GET or HEAD reads the whole object (ranges and
conditions included); ``?multipart-manifest=get`` shows the manifest itself
(``&format=raw``: as it was put); ``DELETE ?multipart-manifest=delete`` removes
the segments with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from overcast.object import ranges
from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware import bulk_results
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

MAX_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
SLO_ETAG = "x-object-sysmeta-slo-etag"
SLO_SIZE = "x-object-sysmeta-slo-size"
OVERRIDE = "x-object-sysmeta-container-update-override-"
PUT_KEYS = {"path", "etag", "size_bytes", "range"}


class BadManifest(ValueError):
    pass


def _is_slo(response: Response) -> bool:
    return response.headers.get("x-static-large-object", "").lower() == "true"


class Slo(Middleware):
    name = "slo"

    def info(self) -> dict[str, Any]:
        return {
            "max_manifest_segments": MAX_SEGMENTS,
            "max_manifest_size": MAX_MANIFEST_SIZE,
            "yield_frequency": 10,
            "min_segment_size": 1,
        }

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.object_target()
        if where is None:
            return await self.app(request)
        account = where[0]
        mode = request.query.get("multipart-manifest")
        if request.method == "PUT":
            if mode == "put":
                return await self.put_manifest(request, account)
            if "x-static-large-object" in request.headers and request.source != "copy":
                return error(
                    400,
                    "X-Static-Large-Object is a reserved header. To create a static large "
                    "object add query param multipart-manifest=put.",
                )
        if request.method in ("GET", "HEAD"):
            if mode == "get":
                return await self.show_manifest(request)
            return await self.read(request, account)
        if request.method == "DELETE" and mode == "delete":
            return await self.delete(request, account)
        return await self.app(request)

    # -- reading ----------------------------------------------------------------------

    async def read(self, request: ProxyRequest, account: str) -> Response:
        request.headers["X-Backend-Etag-Is-At"] = SLO_ETAG
        response = await self.app(read_request(request))
        if not _is_slo(response):
            return response
        slo_etag = response.headers.get(SLO_ETAG, "")
        if response.status_code in (304, 412):
            response.headers["ETag"] = f'"{slo_etag}"'
            return response
        if response.status_code != 200:
            return response
        manifest_etag = response.headers.get("etag", "")
        headers = manifest_headers(response)
        headers |= {"ETag": f'"{slo_etag}"', "X-Manifest-Etag": manifest_etag}
        if request.method == "HEAD" and response.headers.get(SLO_SIZE, "").isdigit():
            await discard(response)
            headers["Content-Length"] = response.headers[SLO_SIZE]
            return Response(status_code=200, headers=headers)
        try:
            entries = json.loads(await drain(response, MAX_MANIFEST_SIZE * 2))
            segments = [_segment(entry, account) for entry in entries]
        except (TooLarge, ValueError, KeyError, TypeError):
            return error(500, "Unable to load the large object's manifest")

        async def fetch(path: str, asked: str | None) -> Response:
            sub = request.sub("GET", path, headers={"range": asked} if asked else {}, source="slo")
            return await self(sub)  # a segment may be a static large object itself

        return assembled(request, fetch, segments, headers)

    async def show_manifest(self, request: ProxyRequest) -> Response:
        response = await self.app(request)
        if not _is_slo(response) or response.status_code != 200 or request.method == "HEAD":
            return response
        body = await drain(response, MAX_MANIFEST_SIZE * 2)
        if request.query.get("format") == "raw":
            body = json.dumps([_as_put(entry) for entry in json.loads(body)]).encode()
        headers = manifest_headers(response, drop=("content-type",))
        return Response(body, headers=headers, media_type="application/json; charset=utf-8")

    # -- writing ----------------------------------------------------------------------

    async def put_manifest(self, request: ProxyRequest, account: str) -> Response:
        try:
            raw = await request.read(MAX_MANIFEST_SIZE)
        except TooLarge:
            return error(413, f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
        try:
            items = json.loads(raw)
            if not isinstance(items, list) or not items:
                raise BadManifest("Manifest must be a list of at least one segment")
            if len(items) > MAX_SEGMENTS:
                raise BadManifest(f"Too many segments: at most {MAX_SEGMENTS}")
        except (ValueError, BadManifest) as exc:
            return error(
                400, str(exc) if isinstance(exc, BadManifest) else "Manifest must be valid JSON."
            )
        stored: list[dict[str, Any]] = []
        problems: list[str] = []
        for index, item in enumerate(items):
            try:
                stored.append(await self.check_segment(request, account, item, index))
            except BadManifest as exc:
                problems.append(str(exc))
        if problems:
            return error(400, "Errors:\n" + "\n".join(problems))
        etags = [_etag_part(entry) for entry in stored]
        slo_etag = etag_of(etags)
        total = sum(_length(entry) for entry in stored)
        sent = request.headers.get("etag", "").strip('"')
        if sent and sent != slo_etag:
            return error(422, "ETag mismatch: the manifest's segments do not match it")
        body = json.dumps(stored).encode()
        headers = {
            k: v for k, v in request.headers.items() if k not in ("etag", "transfer-encoding")
        }
        headers |= {
            "content-length": str(len(body)),
            "content-type": request.headers.get("content-type", "application/octet-stream"),
            "x-static-large-object": "True",
            SLO_ETAG: slo_etag,
            SLO_SIZE: str(total),
            f"{OVERRIDE}etag": slo_etag,
            f"{OVERRIDE}size": str(total),
        }
        put = request.sub("PUT", request.path, headers=headers, body=body, source="slo")
        response = await self.app(put)
        if response.status_code < 300:
            response.headers["ETag"] = f'"{slo_etag}"'
        return response

    async def check_segment(
        self, request: ProxyRequest, account: str, item: Any, index: int
    ) -> dict[str, Any]:
        """The stored form of one ``item`` of a manifest being put.

        :raises BadManifest: naming what is wrong with it.
        """
        if isinstance(item, dict) and set(item) == {"data"}:
            try:
                data = base64.b64decode(item["data"], validate=True)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise BadManifest(f"Index {index}: data must be base64") from exc
            if not data:
                raise BadManifest(f"Index {index}: an inline segment must not be empty")
            return {"data": item["data"]}
        if not isinstance(item, dict) or not set(item) <= PUT_KEYS or "path" not in item:
            raise BadManifest(f"Index {index}: invalid segment, keys are {sorted(PUT_KEYS)}")
        path = str(item["path"])
        container, _, obj = unquote(path).lstrip("/").partition("/")
        if not container or not obj:
            raise BadManifest(f"Index {index}: path does not refer to an object: {path}")
        head = await self(request.sub("HEAD", object_path(account, container, obj), source="slo"))
        await discard(head)
        where = f"/{container}/{obj}"
        if head.status_code >= 300:
            status = head.status_code
            raise BadManifest(f"{where}, {status} {'Not Found' if status == 404 else 'Error'}")
        size = int(head.headers.get("content-length", "0"))
        etag = head.headers.get("etag", "").strip('"')
        wanted_size, wanted_etag = item.get("size_bytes"), item.get("etag")
        if wanted_size is not None and str(wanted_size) != str(size):
            raise BadManifest(f"{where}, Size Mismatch")
        if wanted_etag is not None and str(wanted_etag).strip('"') != etag:
            raise BadManifest(f"{where}, Etag Mismatch")
        entry = {
            "name": where,
            "bytes": size,
            "hash": etag,
            "content_type": head.headers.get("content-type", ""),
            "last_modified": head.headers.get("last-modified", ""),
        }
        if _is_slo(head):
            entry["sub_slo"] = True
        if item.get("range") is not None:
            try:
                spans = ranges.parse(f"bytes={item['range']}", size)
            except ranges.Unsatisfiable:
                spans = None
            if not spans or len(spans) != 1:
                raise BadManifest(f"{where}, Unsatisfiable Range")
            start, end = spans[0]
            entry["range"] = f"{start}-{end - 1}"
        if _length(entry) < 1:
            raise BadManifest(f"{where}, Too small; each segment must be at least 1 byte.")
        return entry

    # -- deleting ---------------------------------------------------------------------

    async def delete(self, request: ProxyRequest, account: str) -> Response:
        got = await self.app(
            request.sub("GET", request.path, query={"multipart-manifest": "get"}, source="slo")
        )
        if got.status_code >= 300:
            await discard(got)
            return error(got.status_code)
        if not _is_slo(got):
            await discard(got)
            return error(400, "Not an SLO manifest")
        entries = json.loads(await drain(got, MAX_MANIFEST_SIZE * 2))
        results = bulk_results.Results()
        for entry in entries:
            if "name" not in entry:
                continue
            container, _, obj = entry["name"].lstrip("/").partition("/")
            query = {"multipart-manifest": "delete"} if entry.get("sub_slo") else {}
            path = object_path(account, container, obj)
            gone = await self(request.sub("DELETE", path, query=query, source="slo"))
            await discard(gone)
            results.count(entry["name"], gone.status_code)
        gone = await self.app(request.sub("DELETE", request.path, source="slo"))
        await discard(gone)
        results.count(request.path, gone.status_code)
        return results.response(request.headers.get("accept"))


def _length(entry: dict[str, Any]) -> int:
    if "data" in entry:
        return len(base64.b64decode(entry["data"]))
    if "range" in entry:
        start, _, end = entry["range"].partition("-")
        return int(end) - int(start) + 1
    return int(entry["bytes"])


def _etag_part(entry: dict[str, Any]) -> str:
    if "data" in entry:
        return hashlib.md5(base64.b64decode(entry["data"]), usedforsecurity=False).hexdigest()
    if "range" in entry:
        return f"{entry['hash']}:{entry['range']};"
    return str(entry["hash"])


def _segment(entry: dict[str, Any], account: str) -> Segment:
    if "data" in entry:
        data = base64.b64decode(entry["data"])
        return Segment(path="", size=len(data), data=data)
    container, _, obj = entry["name"].lstrip("/").partition("/")
    offset = int(entry["range"].partition("-")[0]) if "range" in entry else 0
    return Segment(
        path=object_path(account, container, obj),
        size=_length(entry),
        etag=str(entry["hash"]),
        offset=offset,
    )


def _as_put(entry: dict[str, Any]) -> dict[str, Any]:
    if "data" in entry:
        return {"data": entry["data"]}
    shown = {"path": entry["name"], "etag": entry["hash"], "size_bytes": entry["bytes"]}
    if "range" in entry:
        shown["range"] = entry["range"]
    return shown
