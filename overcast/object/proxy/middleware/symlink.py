"""Symlinks: an object made with ``X-Symlink-Target: <container>/<object>`` (and
optionally ``X-Symlink-Target-Account``, ``X-Symlink-Target-Etag``) reads as its
target.

A GET or HEAD follows the link (through at most :data:`SYMLOOP_MAX` links) and
names the target in ``Content-Location``; ``?symlink=get`` reads the link itself.
The link lists in its container with ``symlink_path``. A static link (with a
target ETag) is checked when made, and reads fail with 409 once the target
changes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import (
    ProxyRequest,
    discard,
    drain,
    object_path,
    quoted,
)

SYMLOOP_MAX = 2
TARGET = "x-object-sysmeta-symlink-target"
TARGET_ACCOUNT = "x-object-sysmeta-symlink-target-account"
TARGET_ETAG = "x-object-sysmeta-symlink-target-etag"
LISTING_TYPE = "x-object-sysmeta-container-update-override-content-type"
LISTING_BYTES = 64 * 1024 * 1024


class Symlink(Middleware):
    name = "symlink"

    def info(self) -> dict[str, Any]:
        return {"symloop_max": SYMLOOP_MAX, "static_links": True}

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, _, obj = where
        if obj is None:
            return await (self.listing(request) if request.method == "GET" else self.app(request))
        if request.method == "PUT" and "x-symlink-target" in request.headers:
            return await self.make(request, account)
        if request.method in ("GET", "HEAD"):
            return await self.follow(request, hops=0)
        return await self.app(request)

    async def make(self, request: ProxyRequest, account: str) -> Response:
        headers = request.headers
        if headers.get("content-length", "0") != "0":
            return error(400, "Symlink requests require a zero byte body")
        target = unquote(headers.pop("x-symlink-target"))
        container, _, obj = target.lstrip("/").partition("/")
        if not container or not obj:
            return error(
                412, "X-Symlink-Target header must be of the form <container name>/<object name>"
            )
        target_account = unquote(headers.pop("x-symlink-target-account", account))
        target_etag = headers.pop("x-symlink-target-etag", None)
        if target_etag is not None:
            head = await self.app(
                request.sub("HEAD", object_path(target_account, container, obj), source="symlink")
            )
            await discard(head)
            if head.status_code >= 300:
                return error(409, f"X-Symlink-Target-Etag headers do not match: {target}")
            if head.headers.get("etag", "").strip('"') != target_etag.strip('"'):
                return error(409, "Object Etag does not match X-Symlink-Target-Etag header")
            headers[TARGET_ETAG] = target_etag.strip('"')
        media = headers.get("content-type", "application/symlink")
        headers["content-type"] = media
        headers[TARGET] = f"{container}/{obj}"
        headers[TARGET_ACCOUNT] = target_account
        params = f";symlink_target={quoted(container + '/' + obj)}"
        headers[LISTING_TYPE] = f"{media}{params};symlink_target_account={quoted(target_account)}"
        response = await self.app(request)
        if response.status_code < 300:
            response.headers["Location"] = quoted(object_path(target_account, container, obj))
        return response

    async def follow(self, request: ProxyRequest, hops: int) -> Response:
        response = await self.app(request)
        target = response.headers.get(TARGET)
        if target is None or response.status_code >= 300:
            return response
        account = response.headers.get(TARGET_ACCOUNT) or request.account
        if request.query.get("symlink") == "get":
            response.headers["X-Symlink-Target"] = quoted(target)
            response.headers["X-Symlink-Target-Account"] = quoted(account)
            return response
        await discard(response)
        if hops >= SYMLOOP_MAX:
            return error(409, "Too many levels of symbolic links, maximum allowed is 2")
        container, _, obj = target.partition("/")
        path = object_path(account, container, obj)
        read = {k: v for k, v in request.headers.items() if k.startswith("if-") or k == "range"}
        sub = request.sub(request.method, path, headers=read, source="symlink")
        found = await self.follow(sub, hops + 1)
        etag = response.headers.get(TARGET_ETAG)
        if etag and found.status_code < 300 and found.headers.get("etag", "").strip('"') != etag:
            await discard(found)
            return error(409, "Object Etag does not match the static link's target")
        if found.status_code < 300 or found.status_code in (304, 412, 416):
            found.headers["Content-Location"] = quoted(path)
        return found

    async def listing(self, request: ProxyRequest) -> Response:
        """A JSON listing names each link's target as ``symlink_path``."""
        response = await self.app(request)
        media = response.headers.get("content-type", "")
        if response.status_code != 200 or not media.startswith("application/json"):
            return response
        body = await drain(response, LISTING_BYTES)
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        if b"symlink_target=" not in body:
            return Response(body, status_code=200, headers=headers)
        entries = json.loads(body)
        for entry in entries:
            kind, _, params = str(entry.get("content_type", "")).partition(";")
            if "symlink_target=" not in params:
                continue
            found = dict(p.split("=", 1) for p in params.split(";") if "=" in p)
            entry["content_type"] = kind
            account = unquote(found.get("symlink_target_account", request.account))
            entry["symlink_path"] = quoted(f"/v1/{account}/{unquote(found['symlink_target'])}")
        return Response(json.dumps(entries), headers=headers)
