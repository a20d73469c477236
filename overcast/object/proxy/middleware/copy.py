"""Server-side copy: ``COPY`` with ``Destination``, or ``PUT`` with ``X-Copy-From``.

The source is read through the pipeline below (so a large object's copy is its
whole content, and the caller needs read access) and streamed into a PUT of the
destination (which needs write access). The copy keeps the source's content
type and metadata, with the request's own metadata on top, unless
``X-Fresh-Metadata: true`` asks for the request's metadata alone.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.responses import Response

from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import ProxyRequest, chunks, discard, object_path, quoted

COPIED = ("content-type", "content-encoding", "content-disposition", "x-static-large-object")
"""What a copy takes from its source besides metadata."""
USER_META = ("x-object-meta-",)
SYSMETA = ("x-object-sysmeta-", "x-object-transient-sysmeta-")


class BadCopy(ValueError):
    pass


def split_target(value: str, header: str) -> tuple[str, str]:
    """``container/object`` (optionally with a leading slash, URL-quoted) from a header.

    :raises BadCopy: when either part is missing.
    """
    container, _, obj = unquote(value).lstrip("/").partition("/")
    if not container or not obj:
        raise BadCopy(f"{header} header must be of the form <container name>/<object name>")
    return container, obj


class Copy(Middleware):
    async def __call__(self, request: ProxyRequest) -> Response:
        if request.method == "COPY":
            return await self.copy_verb(request)
        if request.method == "PUT" and "x-copy-from" in request.headers:
            return await self.copy(request)
        return await self.app(request)

    async def copy_verb(self, request: ProxyRequest) -> Response:
        """COPY a/c/o + Destination: c2/o2 is PUT a2/c2/o2 + X-Copy-From: c/o."""
        account, container, obj = request.split()
        if obj is None:
            return error(405)
        destination = request.headers.get("destination")
        if destination is None:
            return error(412, "Destination header required")
        try:
            dest_container, dest_obj = split_target(destination, "Destination")
        except BadCopy as exc:
            return error(412, str(exc))
        dest_account = request.headers.get("destination-account", account)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k not in ("destination", "destination-account", "content-length")
        }
        headers |= {
            "x-copy-from": quoted(f"{container}/{obj}"),
            "x-copy-from-account": account,
            "content-length": "0",
        }
        put = request.sub(
            "PUT",
            object_path(dest_account, dest_container, dest_obj),
            headers=headers,
            query=request.query,
            source=request.source or "copy",
        )
        return await self.copy(put)

    async def copy(self, request: ProxyRequest) -> Response:
        account, container, obj = request.split()
        if obj is None or container is None:
            return error(400, "A copy's destination must be an object")
        if request.headers.get("content-length", "0") != "0":
            return error(400, "Copy requests require a zero byte body")
        try:
            src_container, src_obj = split_target(request.headers["x-copy-from"], "X-Copy-From")
        except BadCopy as exc:
            return error(412, str(exc))
        src_account = request.headers.get("x-copy-from-account", account)
        query = {k: v for k, v in request.query.items() if k in ("multipart-manifest", "symlink")}
        read_headers = {
            k: v for k, v in request.headers.items() if k.startswith("if-") or k == "x-newest"
        }
        source = await self.app(
            request.sub(
                "GET",
                object_path(src_account, src_container, src_obj),
                headers=read_headers,
                query=query,
                source="copy",
            )
        )
        if source.status_code >= 300:
            await discard(source)
            return error(source.status_code)
        fresh = request.headers.get("x-fresh-metadata", "").lower() in ("true", "1", "yes", "on")
        taken = SYSMETA if fresh else USER_META + SYSMETA
        headers = {k: v for k, v in source.headers.items() if k in COPIED or k.startswith(taken)}
        if query.get("multipart-manifest") != "get":  # the copy is the assembled content
            headers.pop("x-static-large-object", None)
        headers |= {
            k: v
            for k, v in request.headers.items()
            if k not in ("x-copy-from", "x-copy-from-account", "content-length")
        }
        if "content-length" in source.headers:
            headers["content-length"] = source.headers["content-length"]
        else:
            headers["transfer-encoding"] = "chunked"
        put = request.sub(
            "PUT",
            request.path,
            headers=headers,
            query={k: v for k, v in request.query.items() if k != "multipart-manifest"},
            body=chunks(source),
            source="copy",
        )
        made = await self.app(put)
        if made.status_code < 300:
            for name, value in headers.items():  # the copy's metadata, as Swift answers
                if name.startswith(USER_META) or name == "x-delete-at":
                    made.headers[name] = value
            made.headers["X-Copied-From"] = quoted(f"{src_container}/{src_obj}")
            if src_account != account:
                made.headers["X-Copied-From-Account"] = quoted(src_account)
            if "last-modified" in source.headers:
                made.headers["X-Copied-From-Last-Modified"] = source.headers["last-modified"]
        return made
