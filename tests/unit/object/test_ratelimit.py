"""The proxy's write rate limits: turns spaced by the rate, 498 past the longest wait."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from starlette.responses import Response

import overcast.common.api  # noqa: F401 - loads before the auth context, as in the app
from overcast.common.config import Settings
from overcast.object.bootstrap import prepare
from overcast.object.proxy.access import Caller
from overcast.object.proxy.middleware.ratelimit import Ratelimit
from overcast.object.proxy.request import ProxyRequest
from overcast.object.proxy.service import ObjectService


async def test_object_writes_wait_their_turn_then_slow_down(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        object={"container_ratelimit": 20, "ratelimit_max_sleep": 0.1},
    )
    seen: list[float] = []

    async def app(request: ProxyRequest) -> Response:
        seen.append(time.monotonic())
        return Response(status_code=201)

    prepare(settings)  # the rings the service loads
    limit = Ratelimit(app, ObjectService(settings))

    def put(path: str) -> ProxyRequest:
        return ProxyRequest("PUT", path, httpx.Headers(), Caller(None))

    burst = await asyncio.gather(*(limit(put("/v1/AUTH_a/c/o")) for _ in range(5)))
    assert [r.status_code for r in burst] == [201, 201, 201, 498, 498]  # 0.15 s > 0.1 s
    assert seen[1] - seen[0] >= 0.045  # 20 per second: 50 ms apart
    assert (await limit(put("/v1/AUTH_a/other/o"))).status_code == 201  # another container
    get = ProxyRequest("GET", "/v1/AUTH_a/c/o", httpx.Headers(), Caller(None))
    assert (await limit(get)).status_code == 201  # reads are not limited
