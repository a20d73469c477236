"""Versioned writes: a container with ``X-Versions-Location: <container>`` (stack
mode) or ``X-History-Location: <container>`` (history mode) keeps every
overwritten version of its objects in that other container, named
``<3 hex digits of the name's length><name>/<timestamp>``.

* An overwrite first copies the current object to the versions container.
* A DELETE in stack mode restores the newest version (and removes it from the
  versions container), or deletes the object when there is none; in history
  mode it copies the current object away, then deletes it.
"""

from __future__ import annotations

import json

from starlette.responses import Response

from overcast.object.headers import OBJECT_SETTINGS
from overcast.object.proxy import info
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import (
    ProxyRequest,
    chunks,
    discard,
    drain,
    object_path,
)

STACK = "x-versions-location"
HISTORY = "x-history-location"
KEPT = (*OBJECT_SETTINGS, "x-static-large-object")
AS_STORED = {"multipart-manifest": "get", "symlink": "get"}
"""How a version is read: a large object's manifest and a symlink itself, not what they name."""
KEPT_PREFIXES = ("x-object-meta-", "x-object-sysmeta-")
LISTING_BYTES = 64 * 1024 * 1024


def version_prefix(obj: str) -> str:
    return f"{len(obj.encode()):03x}{obj}/"


class Versioning(Middleware):
    name = "versioned_writes"

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, container, obj = where
        if obj is None:
            if request.method in ("PUT", "POST"):
                return await self.settings(request)
            return await self.app(request)
        if request.method not in ("PUT", "DELETE") or request.source == "versioned_writes":
            return await self.app(request)
        found = await info.container_info(self.service, request.environ, account, container)
        location, mode = _location(found)
        if not location:
            return await self.app(request)
        if request.method == "PUT":
            kept = await self.keep(request, account, location, obj)
            return kept or await self.app(request)
        if mode == HISTORY:
            kept = await self.keep(request, account, location, obj)
            return kept or await self.app(request)
        return await self.restore(request, account, location, obj)

    async def settings(self, request: ProxyRequest) -> Response:
        headers = request.headers
        if headers.get(STACK) and headers.get(HISTORY):
            return error(400, "Only one of X-Versions-Location or X-History-Location may be set")
        for name in (STACK, HISTORY):
            value = headers.get(name)
            if value and "/" in value.strip("/"):
                return error(412, f"{name.title()} must be a container name")
            if value:  # setting one mode ends the other
                headers[STACK if name == HISTORY else HISTORY] = ""
        return await self.app(request)

    async def keep(
        self, request: ProxyRequest, account: str, location: str, obj: str
    ) -> Response | None:
        """Copy the current object to the versions container (None: done or nothing to keep)."""
        current = await self.app(
            request.sub("GET", request.path, query=AS_STORED, source="versioned_writes")
        )
        if current.status_code == 404:
            await discard(current)
            return None
        if current.status_code >= 300:
            await discard(current)
            return error(current.status_code)
        stamp = current.headers.get("x-timestamp", "0")
        headers = _copied(current)
        target = object_path(account, location, f"{version_prefix(obj)}{stamp}")
        put = request.sub(
            "PUT", target, headers=headers, body=chunks(current), source="versioned_writes"
        )
        saved = await self.app(put)
        await discard(saved)
        if saved.status_code >= 300:
            return error(412 if saved.status_code == 404 else saved.status_code)
        return None

    async def restore(
        self, request: ProxyRequest, account: str, location: str, obj: str
    ) -> Response:
        """Stack mode's DELETE: the newest older version comes back in the object's place."""
        listing = await self.app(
            request.sub(
                "GET",
                object_path(account, location),
                query={"format": "json", "prefix": version_prefix(obj), "reverse": "on"},
                source="versioned_writes",
            )
        )
        if listing.status_code >= 300:
            await discard(listing)
            return await self.app(request)
        for entry in json.loads(await drain(listing, LISTING_BYTES) or b"[]"):
            version = object_path(account, location, entry["name"])
            got = await self.app(
                request.sub("GET", version, query=AS_STORED, source="versioned_writes")
            )
            if got.status_code == 404:
                await discard(got)
                continue
            if got.status_code >= 300:
                await discard(got)
                return error(got.status_code)
            headers = _copied(got)
            back = request.sub(
                "PUT", request.path, headers=headers, body=chunks(got), source="versioned_writes"
            )
            restored = await self.app(back)
            await discard(restored)
            if restored.status_code >= 300:
                return error(restored.status_code)
            gone = await self.app(request.sub("DELETE", version, source="versioned_writes"))
            await discard(gone)
            return Response(status_code=204)
        return await self.app(request)


def _copied(response: Response) -> dict[str, str]:
    """The headers that make a copy of the object ``response`` is reading."""
    headers = {
        k: v for k, v in response.headers.items() if k in KEPT or k.startswith(KEPT_PREFIXES)
    }
    headers["content-length"] = response.headers.get("content-length", "0")
    return headers


def _location(found: ContainerInfo | None) -> tuple[str, str]:
    if found is None:
        return "", ""
    for mode in (HISTORY, STACK):
        location = found.headers.get(mode)
        if location:
            return location, mode
    return "", ""
