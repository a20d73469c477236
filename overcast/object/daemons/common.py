"""What every daemon of a storage node knows: its settings, its devices, the rings,
and a client to reach the other nodes (and the proxy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from overcast.common.config import Settings
from overcast.object.bootstrap import Rings
from overcast.object.node.common import REPLICATE


class NodeDaemon:
    def __init__(
        self, settings: Settings, devices: Path, rings: Rings, client: httpx.AsyncClient
    ) -> None:
        conf = settings.object
        self.settings = settings
        self.devices = devices
        self.rings = rings
        self.client = client
        self.timeout = conf.node_timeout
        self.policies = [p.index for p in conf.policies]
        self.object_server = f"{conf.node_ip}:{conf.object_port}"
        """This node's object server, ``ip:port`` as the rings name it."""

    async def ask_node(
        self, url: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """A replication request (:data:`REPLICATE`) to a node: its JSON answer.

        :raises httpx.HTTPError: when the node cannot be reached or refuses.
        """
        method, marker = REPLICATE
        content = None if body is None else json.dumps(body)
        response = await self.client.request(
            method, url, headers={**marker, **(headers or {})}, content=content,
            timeout=self.timeout,
        )  # fmt: skip
        response.raise_for_status()
        found: dict[str, Any] = json.loads(response.content)
        return found

    async def run_once(self) -> Any:
        """One pass over this node's devices; its counts."""
        raise NotImplementedError
