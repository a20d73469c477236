"""The object expirer: objects past their ``X-Delete-At`` are deleted for good.

Reads already hide an expired object; this removes it: each replica's node
writes a tombstone stamped with the expiry time itself (through its own object
server, which tells the container), so every replica reaches the same state on
its own, and a write made after the expiry (stamped later) still wins.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from overcast.common.threads import in_thread
from overcast.object.daemons.auditor import object_files
from overcast.object.daemons.common import NodeDaemon
from overcast.object.storage.diskfile import DiskFile, DiskFileError
from overcast.object.timestamps import Timestamp

LOG = logging.getLogger(__name__)


@dataclass
class ExpirerStats:
    checked: int = 0
    expired: int = 0
    failures: int = 0


def _expiry(df: DiskFile) -> tuple[int, str] | None:
    """(X-Delete-At, name) of an object whose time has come, else None."""
    try:
        found = df.current()
    except DiskFileError:
        return None
    metadata = {**found.metadata, **(found.meta or {})}
    at, name = str(metadata.get("X-Delete-At", "")), metadata.get("Name")
    if not at.isdigit() or int(at) > time.time() or not isinstance(name, str):
        return None
    return int(at), name


class ObjectExpirer(NodeDaemon):
    async def run_once(self) -> ExpirerStats:
        stats = ExpirerStats()
        if not self.devices.exists():
            return stats
        found = await in_thread(list, object_files(self.devices, self.policies))
        for df in found:
            stats.checked += 1
            due = await in_thread(_expiry, df)
            if due is None:
                continue
            if await self.expire(df, *due):
                stats.expired += 1
            else:
                stats.failures += 1
        return stats

    async def expire(self, df: DiskFile, delete_at: int, name: str) -> bool:
        account, container, obj = name[1:].split("/", 2)
        policy = int(df.partition_path.parent.name.partition("-")[2] or 0)
        part = int(df.partition_path.name)
        device = df.device_path.name
        headers = {
            "X-Timestamp": Timestamp.parse(delete_at).internal,
            "X-Backend-Storage-Policy-Index": str(policy),
            **self.container_route(account, container, obj, device, policy),
        }
        names = "/".join(quote(piece, safe="") for piece in (account, container, obj))
        url = f"http://{self.object_server}/{quote(device)}/{part}/{names}"
        try:
            response = await self.client.delete(url, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            LOG.info("expiring %s: %s", name, exc)
            return False
        return response.status_code < 300 or response.status_code in (404, 409)

    def container_route(
        self, account: str, container: str, obj: str, device: str, policy: int
    ) -> dict[str, str]:
        """The container replica this object replica tells, and the account replica that
        one reports to (paired by replica index, as the proxy pairs them)."""
        _, objects = self.rings.objects[policy].get_nodes(account, container, obj)
        here = (self.object_server, device)
        index = next(
            (i for i, n in enumerate(objects) if (f"{n.ip}:{n.port}", n.device) == here), 0
        )
        route: dict[str, str] = {}
        for kind, (part, nodes) in (
            ("Container", self.rings.container.get_nodes(account, container)),
            ("Account", self.rings.account.get_nodes(account)),
        ):
            node = nodes[index % len(nodes)]
            route |= {
                f"X-{kind}-Host": f"{node.ip}:{node.port}",
                f"X-{kind}-Device": node.device,
                f"X-{kind}-Partition": str(part),
            }
        return route
