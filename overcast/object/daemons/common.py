"""What every daemon of a storage node knows: its settings, its devices, the rings,
and a client to reach the other nodes (and the proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from overcast.common.config import Settings
from overcast.object.bootstrap import Rings


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

    async def run_once(self) -> Any:
        """One pass over this node's devices; its counts."""
        raise NotImplementedError
