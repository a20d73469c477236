"""Temporary URLs: an object (or every object under a prefix) reachable without a
token until a time, by whoever holds a URL signed with the account's or the
container's ``Temp-URL-Key``.

The signed text is ``<METHOD>\\n<expires>\\n<path>`` (``prefix:<path>`` for a
prefix, and a first line ``ip=<range>`` when the URL is bound to addresses).
A HEAD may use a GET, PUT or POST signature. A GET answers with a
``Content-Disposition`` (``inline``, or an attachment named after the object or
``filename=``); object metadata other than ``X-Object-Meta-Public-*`` is not
shown to temp URL holders.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from overcast.object.proxy import info
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.middleware.signing import DIGESTS, keys_of, valid
from overcast.object.proxy.request import ProxyRequest

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
INCOMING_REMOVE = ("x-timestamp",)
OUTGOING_REMOVE = "x-object-meta-"
OUTGOING_ALLOW = "x-object-meta-public-"
HEAD_SIGNED_AS = ("HEAD", "GET", "PUT", "POST")


def invalid(account: str = "unknown") -> Response:
    return Response(
        "401 Unauthorized: Temp URL invalid\n",
        status_code=401,
        headers={"Www-Authenticate": f'Swift realm="{account}"'},
        media_type="text/plain",
    )


def parse_expiry(value: str) -> int | None:
    """Seconds since the epoch, from an integer or ISO 8601 (``2026-11-23T10:00:00Z``)."""
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def disposition(obj: str, query: dict[str, str]) -> str:
    name = query.get("filename") or obj.rsplit("/", 1)[-1]
    kind = "inline" if "inline" in query else "attachment"
    if kind == "inline" and "filename" not in query:
        return "inline"
    escaped = name.replace('"', '\\"')
    return f"{kind}; filename=\"{escaped}\"; filename*=UTF-8''{quote(name)}"


class TempUrl(Middleware):
    name = "tempurl"

    def info(self) -> dict[str, Any]:
        return {
            "methods": list(METHODS),
            "incoming_remove_headers": list(INCOMING_REMOVE),
            "incoming_allow_headers": [],
            "outgoing_remove_headers": [OUTGOING_REMOVE + "*"],
            "outgoing_allow_headers": [OUTGOING_ALLOW + "*"],
            "allowed_digests": sorted(DIGESTS),
        }

    async def __call__(self, request: ProxyRequest) -> Response:
        query = request.query
        if "temp_url_sig" not in query and "temp_url_expires" not in query:
            return await self.app(request)
        where = request.object_target()
        if where is None or request.method not in METHODS:
            return invalid(where[0] if where else "unknown")
        account, container, obj = where
        if not await self.signed(request, account, container, obj):
            return invalid(account)
        request.authorized = True
        for name in INCOMING_REMOVE:
            request.headers.pop(name, None)
        response = await self.app(request)
        if request.method in ("GET", "HEAD"):
            for name in [n for n in response.headers if n.startswith(OUTGOING_REMOVE)]:
                if not name.startswith(OUTGOING_ALLOW):
                    del response.headers[name]
            if request.method == "GET" and response.status_code < 300:
                response.headers["Content-Disposition"] = disposition(obj, query)
        return response

    async def signed(self, request: ProxyRequest, account: str, container: str, obj: str) -> bool:
        query = request.query
        signature, expiry = query.get("temp_url_sig", ""), query.get("temp_url_expires", "")
        expires = parse_expiry(expiry)
        if not signature or expires is None or expires < time.time():
            return False
        prefix = query.get("temp_url_prefix")
        if prefix is not None:
            if not obj.startswith(prefix):
                return False
            path = f"prefix:/v1/{account}/{container}/{prefix}"
        else:
            path = request.path
        lines = ""
        ip_range = query.get("temp_url_ip_range")
        if ip_range is not None:
            if not _client_in(request, ip_range):
                return False
            lines = f"ip={ip_range}\n"
        methods = HEAD_SIGNED_AS if request.method == "HEAD" else (request.method,)
        bodies = [f"{lines}{method}\n{expires}\n{path}" for method in methods]
        env = request.environ
        keys = keys_of(
            await info.account_info(self.service, env, account),
            await info.container_info(self.service, env, account, container),
        )
        return valid(signature, bodies, keys)


def _client_in(request: ProxyRequest, ip_range: str) -> bool:
    try:
        network = ipaddress.ip_network(ip_range, strict=False)
        return ipaddress.ip_address(request.environ.get("client_ip", "")) in network
    except ValueError:
        return False
