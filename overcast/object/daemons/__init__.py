"""A storage node's background work, run as one engine beside its servers: the
object and database replicators, the auditor, updater and expirer, and container sync, each in
its own loop at its own interval (``[object] *_interval``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from overcast.common.config import Settings
from overcast.object.bootstrap import layout, load_rings
from overcast.object.daemons.auditor import ObjectAuditor
from overcast.object.daemons.common import NodeDaemon
from overcast.object.daemons.container_sync import ContainerSyncDaemon
from overcast.object.daemons.db_replicator import DatabaseReplicator
from overcast.object.daemons.expirer import ObjectExpirer
from overcast.object.daemons.replicator import ObjectReplicator
from overcast.object.daemons.updater import ObjectUpdater

LOG = logging.getLogger(__name__)
LOOPS: dict[str, tuple[str, type[NodeDaemon]]] = {
    "replicator": ("replicator_interval", ObjectReplicator),
    "db-replicator": ("replicator_interval", DatabaseReplicator),
    "updater": ("updater_interval", ObjectUpdater),
    "auditor": ("auditor_interval", ObjectAuditor),
    "expirer": ("expirer_interval", ObjectExpirer),
    "container-sync": ("sync_interval", ContainerSyncDaemon),
}
"""Each daemon, with the ``[object]`` setting of its interval."""


class NodeDaemons:
    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        """``client`` reaches the nodes (in process where this process serves them)."""
        conf = settings.object
        devices = layout(settings).devices
        rings = load_rings(settings)
        self.client = client
        self.loops = {
            name: (float(getattr(conf, interval)), kind(settings, devices, rings, self.client))
            for name, (interval, kind) in LOOPS.items()
        }
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name, (interval, daemon) in self.loops.items():
            self.tasks.append(asyncio.create_task(_every(name, interval, daemon.run_once)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _every(name: str, interval: float, run_once: Callable[[], Awaitable[Any]]) -> None:
    while True:
        try:
            stats = await run_once()
            LOG.debug("%s pass: %s", name, stats)
        except Exception:
            LOG.exception("%s pass failed", name)
        await asyncio.sleep(interval)


async def start_daemons(settings: Settings, client: httpx.AsyncClient) -> NodeDaemons:
    daemons = NodeDaemons(settings, client)
    daemons.start()
    return daemons
