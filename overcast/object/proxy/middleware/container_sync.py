"""Container sync at the receiving end, and the check of ``X-Container-Sync-To``.

A container with ``X-Container-Sync-To`` and ``X-Container-Sync-Key`` has its
objects pushed to another container by the storage nodes' sync daemon
(:mod:`overcast.object.daemons.container_sync`). Those pushes arrive here: a
write whose ``X-Container-Sync-Auth`` (or ``X-Container-Sync-Key``) matches the
destination container's key is let in, stamped with the source's timestamp so
that the newest write wins on both sides.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.responses import Response

from overcast.object import sync
from overcast.object.proxy import info
from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import ProxyRequest
from overcast.object.timestamps import BadTimestamp, Timestamp

AUTH = "x-container-sync-auth"
KEY = "x-container-sync-key"


class ContainerSync(Middleware):
    name = "container_sync"

    def info(self) -> dict[str, Any]:
        realms = self.service.settings.object.sync_realms
        return {
            "realms": {
                name: {"clusters": {cluster: {} for cluster in realm.clusters}}
                for name, realm in realms.items()
            }
        }

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, container, obj = where
        if obj is None:
            target = request.headers.get("x-container-sync-to")
            if request.method in ("PUT", "POST") and target:
                try:
                    sync.resolve(target, self.service.settings)
                except sync.BadSyncTo as exc:
                    return error(400, str(exc))
            return await self.app(request)
        if request.method in ("PUT", "DELETE") and (
            AUTH in request.headers or KEY in request.headers
        ):
            refused = await self.admit(request, account, container)
            if refused is not None:
                return refused
        return await self.app(request)

    async def admit(self, request: ProxyRequest, account: str, container: str) -> Response | None:
        """Let a synced write in (None), or refuse it."""
        found = await info.container_info(self.service, request.environ, account, container)
        key = found.headers.get(KEY, "") if found is not None else ""
        stamp = request.headers.get("x-timestamp", "")
        try:
            timestamp = Timestamp.parse(stamp)
        except BadTimestamp:
            return error(400, "A synced write needs a valid X-Timestamp")
        auth = request.headers.pop(AUTH, None)
        sent_key = request.headers.pop(KEY, None)
        if auth is not None:
            valid = sync.verify(
                auth, self.service.settings, key, request.method, request.path, stamp
            )
        else:
            valid = bool(key) and hmac.compare_digest(key, sent_key or "")
        if not valid:
            return error(401)
        request.authorized = True
        request.environ["sync_timestamp"] = timestamp
        return None
