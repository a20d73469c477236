"""The object replicator: every partition's replicas come to agree, and data on
handoff devices goes home.

For each partition on this node's devices it asks the partition's other
primaries for their suffix hashes (``REPLICATE``); only suffixes whose hashes
differ are looked into, object by object, and whatever the other replica lacks
or has older is pushed: the data with its timestamp (a replication PUT, which
sends no container update), a tombstone as a DELETE, a newer POST's metadata as
a POST. A replica never pulls: each pushes what it has, so newer versions
spread from wherever they are. A partition on a device that is not one of its
primaries (a handoff) is pushed to every primary, then removed once all took it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from overcast.common.threads import in_thread
from overcast.object.daemons.common import NodeDaemon
from overcast.object.ring.devices import Device
from overcast.object.storage.diskfile import (
    DiskFile,
    Found,
    data_dir,
    read_metadata,
    suffix_hashes,
    suffix_listing,
)
from overcast.object.timestamps import BadTimestamp, Timestamp

LOG = logging.getLogger(__name__)
NOT_SENT = ("Name", "X-Timestamp", "Content-Length")
CHUNK = 1024 * 1024


@dataclass
class ReplicationStats:
    partitions: int = 0
    suffixes_differing: int = 0
    pushed: int = 0
    failures: int = 0
    handoffs_removed: int = 0


class ObjectReplicator(NodeDaemon):
    async def run_once(self) -> ReplicationStats:
        stats = ReplicationStats()
        if not self.devices.exists():
            return stats
        for device in sorted(p.name for p in self.devices.iterdir() if p.is_dir()):
            for policy in self.rings.objects:
                folder = self.devices / device / data_dir(policy)
                if not folder.is_dir():
                    continue
                for name in sorted(os.listdir(folder)):
                    if name.isdigit():
                        await self.replicate(device, policy, int(name), stats)
        return stats

    def mine(self, node: Device, device: str) -> bool:
        return (f"{node.ip}:{node.port}", node.device) == (self.object_server, device)

    async def replicate(self, device: str, policy: int, part: int, stats: ReplicationStats) -> None:
        """Push one partition of ``device`` to its other replicas."""
        stats.partitions += 1
        path = self.devices / device / data_dir(policy) / str(part)
        nodes = self.rings.objects[policy].primaries(part)
        primary = any(self.mine(node, device) for node in nodes)
        others = [node for node in nodes if not self.mine(node, device)]
        local = await in_thread(suffix_hashes, path)
        in_sync = True
        for node in others:
            try:
                in_sync &= await self.push_partition(node, device, policy, part, local, stats)
            except (httpx.HTTPError, ValueError) as exc:
                LOG.info("replicating %s/%s to %s: %s", device, part, node.device, exc)
                stats.failures += 1
                in_sync = False
        if not primary and in_sync:
            await in_thread(lambda: shutil.rmtree(path, ignore_errors=True))
            stats.handoffs_removed += 1

    async def push_partition(
        self,
        node: Device,
        device: str,
        policy: int,
        part: int,
        local: dict[str, str],
        stats: ReplicationStats,
    ) -> bool:
        """Whether ``node`` holds all this partition has, after pushing what it lacked."""
        path = self.devices / device / data_dir(policy) / str(part)
        remote = await self.ask(node, policy, part, "*")
        differing = [suffix for suffix, digest in local.items() if remote.get(suffix) != digest]
        stats.suffixes_differing += len(differing)
        all_there = True
        for suffix in differing:
            theirs = await self.ask(node, policy, part, suffix)
            ours = await in_thread(suffix_listing, path, suffix)
            for hash_, names in ours.items():
                if theirs.get(hash_) == names:
                    continue
                df = DiskFile(self.devices / device, policy, part, hash_)
                pushed = await self.push_object(node, df, policy, part, theirs.get(hash_, []))
                stats.pushed += pushed
                if pushed < 0:
                    stats.failures += 1
                    all_there = False
        return all_there

    async def ask(self, node: Device, policy: int, part: int, what: str) -> dict[str, Any]:
        url = f"http://{node.ip}:{node.port}/{quote(node.device)}/{part}/{quote(what)}"
        return await self.ask_node(url, headers={"X-Backend-Storage-Policy-Index": str(policy)})

    async def push_object(
        self, node: Device, df: DiskFile, policy: int, part: int, theirs: list[str]
    ) -> int:
        """How many writes it took to bring ``node`` up to this object (-1: it failed)."""
        files = await in_thread(df.files)
        base = next((f for f in files if f[1] != ".meta"), None)
        meta = next((f for f in files if f[1] == ".meta"), None)
        remote_base, remote_meta = _newest(theirs)
        writes = 0
        if base is not None and (remote_base is None or remote_base < base[0]):
            timestamp, ext, path = base
            metadata, size = await in_thread(_read, path)
            if ext == ".ts":
                ok = await self.send(node, policy, part, "DELETE", metadata, timestamp)
            else:
                found = Found(path, metadata, size)
                ok = await self.send(node, policy, part, "PUT", metadata, timestamp, found)
            if not ok:
                return -1
            writes += 1
        newer_meta = meta is not None and (base is None or meta[0] > base[0])
        if meta is not None and newer_meta and (remote_meta is None or remote_meta < meta[0]):
            metadata, _ = await in_thread(_read, meta[2])
            if base is not None:
                name = (await in_thread(_read, base[2]))[0].get("Name")
                metadata.setdefault("Name", name)
            if not await self.send(node, policy, part, "POST", metadata, meta[0]):
                return -1
            writes += 1
        return writes

    async def send(
        self,
        node: Device,
        policy: int,
        part: int,
        method: str,
        metadata: dict[str, Any],
        timestamp: Timestamp,
        found: Found | None = None,
    ) -> bool:
        name = metadata.get("Name")
        if not isinstance(name, str) or name.count("/") < 3:
            LOG.warning("an object without its name cannot be replicated (%s)", found)
            return False
        names = "/".join(quote(piece, safe="") for piece in name[1:].split("/", 2))
        url = f"http://{node.ip}:{node.port}/{quote(node.device)}/{part}/{names}"
        headers = {k: str(v) for k, v in metadata.items() if k not in NOT_SENT}
        headers |= {
            "X-Timestamp": timestamp.internal,
            "X-Backend-Storage-Policy-Index": str(policy),
            "X-Backend-Replication": "True",
        }
        content = None
        if found is not None:
            headers["Content-Length"] = str(found.size)
            content = _body(found)
        response = await self.client.request(
            method, url, headers=headers, content=content, timeout=self.timeout
        )
        return response.status_code < 300 or response.status_code in (404, 409)


def _read(path: Path) -> tuple[dict[str, Any], int]:
    with path.open("rb") as handle:
        return read_metadata(handle)


async def _body(found: Found) -> AsyncIterator[bytes]:
    chunks = found.chunks(size=CHUNK)
    while chunk := await in_thread(next, chunks, b""):
        yield chunk


def _newest(names: list[str]) -> tuple[Timestamp | None, Timestamp | None]:
    """The newest data-or-tombstone time and the newest metadata time among file names."""
    base: Timestamp | None = None
    meta: Timestamp | None = None
    for name in names:
        stem, _, ext = name.rpartition(".")
        try:
            stamp = Timestamp.parse(stem)
        except BadTimestamp:
            continue
        if ext == "meta":
            meta = stamp if meta is None or stamp > meta else meta
        elif base is None or stamp > base:
            base = stamp
    return base, meta
