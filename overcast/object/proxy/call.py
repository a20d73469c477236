"""One client request as the controllers see it: who calls, for what, and the nodes to ask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from overcast.object.proxy import info
from overcast.object.proxy.access import Caller
from overcast.object.proxy.backend import best_status, node_path
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.request import ProxyRequest
from overcast.object.proxy.service import ObjectService
from overcast.object.ring.devices import Device
from overcast.object.ring.ring import Ring
from overcast.object.timestamps import Timestamp

SYSMETA_PREFIXES = (
    "x-object-sysmeta-",
    "x-object-transient-sysmeta-",
    "x-container-sysmeta-",
    "x-account-sysmeta-",
)
"""What middlewares keep on the nodes for themselves: clients never send nor see it."""
BACKEND_PREFIX = "x-backend-"
"""What the nodes tell the proxy alone."""
HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})
"""Headers of the node's own response, which the proxy's response sets for itself."""


@dataclass
class Call:
    service: ObjectService
    request: ProxyRequest
    caller: Caller
    account: str
    container: str | None = None
    obj: str | None = None

    # -- where things live ----------------------------------------------------------

    def account_nodes(self) -> tuple[int, list[Device]]:
        return self.service.account_ring.get_nodes(self.account)

    def container_nodes(self) -> tuple[int, list[Device]]:
        return self.service.container_ring.get_nodes(self.account, self.container)

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.account, self.container, self.obj) if n is not None)

    def url_on(self, partition: int) -> Any:
        names = self.names()
        return lambda node: node_path(node, partition, *names)

    # -- headers --------------------------------------------------------------------

    def passed(self, *prefixes: str, names: tuple[str, ...] = ()) -> dict[str, str]:
        """The client's headers that the nodes are to keep (metadata and the like)."""
        return {
            name: value
            for name, value in self.request.headers.items()
            if name.startswith(prefixes) or name in names
        }

    @staticmethod
    def shown(headers: httpx.Headers) -> dict[str, str]:
        """A node's answer headers, as the middlewares see them (sysmeta included)."""
        return {
            name: value
            for name, value in headers.items()
            if not name.lower().startswith(BACKEND_PREFIX) and name.lower() not in HOP_HEADERS
        }

    def now(self) -> Timestamp:
        """The time this write is stamped with: now, or a synced write's own time."""
        synced = self.request.environ.get("sync_timestamp")
        return synced if isinstance(synced, Timestamp) else Timestamp.now()

    def updates(self, nodes: list[Device], partition: int, kind: str) -> list[dict[str, str]]:
        """Per replica, which ``kind`` server (container or account) to tell of the change."""
        return [
            {
                f"X-{kind}-Host": f"{node.ip}:{node.port}",
                f"X-{kind}-Device": node.device,
                f"X-{kind}-Partition": str(partition),
            }
            for node in nodes
        ]

    def object_updates(self) -> list[dict[str, str]]:
        """Per object replica: the container server to tell, and the account server it tells."""
        container_part, containers = self.container_nodes()
        account_part, accounts = self.account_nodes()
        container = self.updates(containers, container_part, "Container")
        account = self.updates(accounts, account_part, "Account")
        return [{**c, **account[i % len(account)]} for i, c in enumerate(container)]

    async def write(
        self,
        method: str,
        ring: Ring,
        headers: dict[str, str],
        updates: list[dict[str, str]] | None = None,
    ) -> int:
        """The same bodiless write to every replica of this path in ``ring``, stamped now.

        A node that fails gives way to a handoff; ``updates[i]`` joins the i-th
        replica's headers. Returns the status a quorum agrees on.
        """
        part, nodes = ring.get_nodes(*self.names())
        timestamp = self.now().internal

        def headers_of(i: int) -> dict[str, str]:
            routed = updates[i % len(updates)] if updates else {}
            return {**headers, **routed, "X-Timestamp": timestamp}

        replies = await self.service.backend.to_replicas(
            method, nodes, ring.handoffs(part), self.url_on(part), headers_of
        )
        if ring is self.service.account_ring or ring is self.service.container_ring:
            await self.service.info_cache.changed()
        return best_status(replies, len(nodes))

    # -- the container a request is in ----------------------------------------------

    async def container_info(self) -> ContainerInfo | None:
        """The container (policy, ACLs, counts), or None when it does not exist."""
        return await info.container_info(
            self.service, self.request.environ, self.account, self.container or ""
        )
