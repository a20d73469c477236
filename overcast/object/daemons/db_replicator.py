"""The container and account replicators: every replica of a database comes to
hold the same rows, times and metadata, and databases on handoffs go home.

For each database on this node it asks the other primaries for their digest
(``REPLICATE`` with the database's record: a replica that lacks the database
makes it). When a digest differs, every row is sent in batches (merging is by
timestamp, so sending rows the other side has is harmless); the other side
pushes what it has in its own pass. A handoff's database goes to every primary
and is removed once all took it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from overcast.common.threads import in_thread
from overcast.object.daemons.common import NodeDaemon
from overcast.object.ring.devices import Device
from overcast.object.ring.ring import Ring
from overcast.object.storage.databases import (
    AccountDatabase,
    ContainerDatabase,
    Database,
    DatabaseGone,
    row_to_json,
)

LOG = logging.getLogger(__name__)
BATCH = 1000


@dataclass
class DbReplicationStats:
    databases: int = 0
    in_sync: int = 0
    rows_sent: int = 0
    failures: int = 0
    handoffs_removed: int = 0


def databases(devices: Path, kind: str) -> Iterator[tuple[str, Path]]:
    """(device, path) of every ``kind`` ("container" or "account") database on this node."""
    for device in sorted(p for p in devices.iterdir() if p.is_dir()):
        yield from ((device.name, path) for path in sorted(device.glob(f"{kind}s/*/*/*/*.db")))


class DatabaseReplicator(NodeDaemon):
    kinds = ("container", "account")

    async def run_once(self) -> DbReplicationStats:
        stats = DbReplicationStats()
        if not self.devices.exists():
            return stats
        for kind in self.kinds:
            found = await in_thread(list, databases(self.devices, kind))
            for device, path in found:
                db: Database = (
                    ContainerDatabase(path) if kind == "container" else AccountDatabase(path)
                )
                try:
                    await self.replicate(kind, device, path, db, stats)
                except DatabaseGone:
                    continue
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    LOG.info("replicating %s: %s", path, exc)
                    stats.failures += 1
        return stats

    def ring(self, kind: str) -> Ring:
        return self.rings.container if kind == "container" else self.rings.account

    def port(self, kind: str) -> int:
        conf = self.settings.object
        return conf.container_port if kind == "container" else conf.account_port

    async def replicate(
        self, kind: str, device: str, path: Path, db: Database, stats: DbReplicationStats
    ) -> None:
        stats.databases += 1
        state = await in_thread(db.state)
        names = [state["account"]] + ([state["container"]] if kind == "container" else [])
        part, nodes = self.ring(kind).get_nodes(*names)
        here = (self.settings.object.node_ip, self.port(kind), device)
        primary = any((n.ip, n.port, n.device) == here for n in nodes)
        others = [n for n in nodes if (n.ip, n.port, n.device) != here]
        ours = await in_thread(db.digest)
        all_in_sync = True
        for node in others:
            url = _url(node, part, names)
            theirs = await self.ask_node(url, body={"state": state})
            if theirs == ours:
                stats.in_sync += 1
                continue
            after = ""
            while rows := await in_thread(db.rows_after, after, BATCH):
                theirs = await self.ask_node(
                    url, body={"state": state, "rows": [row_to_json(r) for r in rows]}
                )
                stats.rows_sent += len(rows)
                after = rows[-1].name
            all_in_sync &= theirs.get("count", -1) >= ours["count"]
        if not primary and all_in_sync and others:
            await in_thread(lambda: shutil.rmtree(path.parent, ignore_errors=True))
            stats.handoffs_removed += 1


def _url(node: Device, part: int, names: list[str]) -> str:
    quoted = "/".join(quote(name, safe="") for name in names)
    return f"http://{node.ip}:{node.port}/{quote(node.device, safe='')}/{part}/{quoted}"
