"""Waiting for what the conductor and agents do after the API answered."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from tests.api.identity.conftest import Api

if TYPE_CHECKING:
    from tests.api.compute.conftest import ComputeCloud


async def wait_for_status(
    api: Api, server_id: str, status: str, timeout: float = 10
) -> dict[str, Any]:
    """The server once its status is ``status`` with no task under way (as Tempest waits);
    fails on ERROR or after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await api.get(f"/v2.1/servers/{server_id}")
        assert response.status_code == 200, response.text
        server: dict[str, Any] = response.json()["server"]
        if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
            return server
        assert server["status"] != "ERROR" or status == "ERROR", server
        assert loop.time() < deadline, f"{server_id} still {server['status']}"
        await asyncio.sleep(0.01)


async def wait_gone(api: Api, server_id: str, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await api.get(f"/v2.1/servers/{server_id}")).status_code != 404:
        assert loop.time() < deadline, f"{server_id} is still there"
        await asyncio.sleep(0.01)


def server_body(cloud: ComputeCloud, **fields: Any) -> dict[str, Any]:
    return {
        "server": {
            "name": f"vm-{uuid.uuid4().hex[:6]}",
            "imageRef": cloud.image_id,
            "flavorRef": "1",
            **fields,
        }
    }


async def boot(api: Api, cloud: ComputeCloud, **fields: Any) -> dict[str, Any]:
    response = await api.post("/v2.1/servers", json=server_body(cloud, **fields))
    assert response.status_code == 202, response.text
    server: dict[str, Any] = response.json()["server"]
    return await wait_for_status(api, server["id"], "ACTIVE")
