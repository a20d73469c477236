"""Rate limits on writes: container PUTs and DELETEs per account, object PUTs and
DELETEs per container (``[object] account_ratelimit``, ``container_ratelimit``;
off by default, as in Swift).

A request over the rate waits its turn; one that would wait longer than
``ratelimit_max_sleep`` is refused with Swift's 498. The counts are this
proxy's own (Swift keeps them in memcache, shared by its proxies).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.responses import Response

from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import Handler, ProxyRequest
from overcast.object.proxy.service import ObjectService

WRITES = ("PUT", "DELETE")


class Ratelimit(Middleware):
    name = "ratelimit"

    def __init__(self, app: Handler, service: ObjectService) -> None:
        super().__init__(app, service)
        self.next_turn: dict[str, float] = {}
        """Per limited key, when its next request may run (monotonic seconds)."""

    def info(self) -> dict[str, Any]:
        conf = self.service.settings.object
        return {
            "account_ratelimit": conf.account_ratelimit,
            "container_ratelimit": conf.container_ratelimit,
            "max_sleep_time_seconds": conf.ratelimit_max_sleep,
        }

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.container_target()
        if request.method not in WRITES or where is None:
            return await self.app(request)
        conf = self.service.settings.object
        account, container, obj = where
        key, rate = (
            (f"c/{account}", conf.account_ratelimit)
            if obj is None
            else (f"o/{account}/{container}", conf.container_ratelimit)
        )
        if rate > 0:
            wait = self.turn(key, rate, conf.ratelimit_max_sleep)
            if wait is None:
                return Response("Slow down", status_code=498, media_type="text/plain")
            if wait > 0:
                await asyncio.sleep(wait)
        return await self.app(request)

    def turn(self, key: str, rate: float, max_sleep: float) -> float | None:
        """How long this request waits for its turn (None: longer than allowed)."""
        now = time.monotonic()
        start = max(self.next_turn.get(key, now), now)
        if start - now > max_sleep:
            return None
        self.next_turn[key] = start + 1 / rate
        if len(self.next_turn) > 100_000:  # forget keys whose turn has long passed
            self.next_turn = {k: t for k, t in self.next_turn.items() if t > now}
        return start - now
