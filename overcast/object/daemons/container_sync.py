"""The container sync daemon: pushes each synced container's changes to its
``X-Container-Sync-To``, from the storage node that holds the container.

Every replica of a container walks its rows in timestamp order. Each replica
sends the rows that hash to it (so three replicas share the work), and later,
once they are :data:`LAG` seconds old, every row (in case a peer was down): a
write is stamped with the source's timestamp, so sending it twice is harmless.
A deleted row becomes a DELETE there; an object is read from this cluster's
object servers and streamed there.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from overcast.common.threads import in_thread
from overcast.object import sync
from overcast.object.daemons.common import NodeDaemon
from overcast.object.node.common import title
from overcast.object.proxy.backend import node_path
from overcast.object.storage.databases import ContainerDatabase, DatabaseGone, Row
from overcast.object.timestamps import Timestamp

LOG = logging.getLogger(__name__)
LAG = 300.0
"""Seconds after which any replica sends a row (its own replica may be down)."""
BATCH = 500
SENT = ("content-type", "content-encoding", "content-disposition", "x-delete-at")
SENT_PREFIXES = ("x-object-meta-",)


@dataclass
class SyncStats:
    containers: int = 0
    puts: int = 0
    deletes: int = 0
    failures: int = 0


class SyncFailed(Exception):
    pass


@dataclass(frozen=True)
class Where:
    """A synced container: its names here, its policy, where it syncs to, its key."""

    account: str
    container: str
    policy: int
    target: sync.SyncTarget
    key: str


def container_databases(devices: Path) -> Iterator[tuple[str, Path]]:
    """(device, database path) for every container database on this node."""
    for device in sorted(p for p in devices.iterdir() if p.is_dir()):
        yield from ((device.name, path) for path in sorted(device.glob("containers/*/*/*/*.db")))


class ContainerSyncDaemon(NodeDaemon):
    async def run_once(self) -> SyncStats:
        stats = SyncStats()
        if not self.devices.exists():
            return stats
        for device, path in container_databases(self.devices):
            try:
                await self.sync_container(device, ContainerDatabase(path), stats)
            except DatabaseGone:
                continue
            except (SyncFailed, httpx.HTTPError, OSError) as exc:
                stats.failures += 1
                LOG.info("container sync of %s stopped: %s", path, exc)
        return stats

    async def sync_container(self, device: str, db: ContainerDatabase, stats: SyncStats) -> None:
        info = await in_thread(db.info)
        metadata = info["metadata"]
        sync_to = metadata.get("X-Container-Sync-To", ["", ""])[0]
        key = metadata.get("X-Container-Sync-Key", ["", ""])[0]
        if info["deleted"] or not sync_to or not key:
            return
        account, container = info["account"], info["container"]
        try:
            target = sync.resolve(sync_to, self.settings)
        except sync.BadSyncTo as exc:
            raise SyncFailed(str(exc)) from exc
        mine = self.replica_index(device, account, container)
        if mine is None:  # a handoff's copy: the primaries sync it
            return
        index, replicas = mine
        stats.containers += 1
        where = Where(account, container, int(info.get("policy", 0)), target, key)
        point_mine, point_all = await in_thread(db.sync_points, sync_to)
        try:
            for row in await in_thread(db.rows_since, point_mine, BATCH):
                if _owner(row.name, replicas) == index:
                    await self.send(row, where, stats)
                point_mine = row.timestamp
            cutoff = time.time() - LAG
            for row in await in_thread(db.rows_since, point_all, BATCH):
                if row.timestamp.seconds > cutoff:
                    break
                if _owner(row.name, replicas) != index:
                    await self.send(row, where, stats)
                point_all = row.timestamp
        finally:  # what was sent stays sent, even when a later row failed
            await in_thread(db.set_sync_points, sync_to, point_mine, point_all)

    def replica_index(self, device: str, account: str, container: str) -> tuple[int, int] | None:
        """(which primary this node's ``device`` is, how many there are), or None."""
        conf = self.settings.object
        _, nodes = self.rings.container.get_nodes(account, container)
        here = (conf.node_ip, conf.container_port, device)
        for index, node in enumerate(nodes):
            if (node.ip, node.port, node.device) == here:
                return index, len(nodes)
        return None

    async def send(self, row: Row, where: Where, stats: SyncStats) -> None:
        """One row to the remote container.

        :raises SyncFailed: when it could not go (the sync point stays before it).
        """
        target, key = where.target, where.key
        stamp = row.timestamp.internal
        url = f"{target.url}/{quote(row.name, safe='/')}"
        path = f"{target.path}/{row.name}"
        if row.deleted:
            auth = sync.auth_header(target, key, "DELETE", path, stamp)
            response = await self.client.delete(
                url, headers={**auth, "X-Timestamp": stamp}, timeout=self.timeout
            )
            if response.status_code >= 300 and response.status_code not in (404, 409):
                raise SyncFailed(f"DELETE {url}: {response.status_code}")
            stats.deletes += 1
            return
        source = await self.read_object(where, row)
        if source is None:
            raise SyncFailed(f"{where.account}/{where.container}/{row.name} is not readable yet")
        try:
            sent = {
                title(k): v
                for k, v in source.headers.items()
                if k in SENT or k.startswith(SENT_PREFIXES)
            }
            sent["ETag"] = source.headers.get("etag", "").strip('"')
            sent["Content-Length"] = source.headers.get("content-length", "0")
            auth = sync.auth_header(target, key, "PUT", path, stamp)
            response = await self.client.put(
                url,
                headers={**sent, **auth, "X-Timestamp": stamp},
                content=source.aiter_raw(),
                timeout=self.timeout,
            )
        finally:
            await source.aclose()
        if response.status_code >= 300 and response.status_code != 409:
            raise SyncFailed(f"PUT {url}: {response.status_code}")
        stats.puts += 1

    async def read_object(self, where: Where, row: Row) -> httpx.Response | None:
        """The object as of ``row`` (or newer) from a replica that has it, streaming."""
        ring = self.rings.objects.get(where.policy) or self.rings.objects[0]
        names = (where.account, where.container, row.name)
        part = ring.get_part(*names)
        headers = {"X-Backend-Storage-Policy-Index": str(where.policy)}
        for node in ring.read_order(part):
            url = node_path(node, part, *names)
            try:
                request = self.client.build_request(
                    "GET", url, headers=headers, timeout=self.timeout
                )
                response = await self.client.send(request, stream=True)
            except httpx.HTTPError:
                continue
            stamp = response.headers.get("x-backend-timestamp")
            if response.status_code == 200 and stamp and Timestamp.parse(stamp) >= row.timestamp:
                return response
            await response.aclose()
        return None


def _owner(name: str, replicas: int) -> int:
    """Which replica sends a row first."""
    return int(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest(), 16) % replicas
