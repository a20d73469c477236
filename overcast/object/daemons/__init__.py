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
from overcast.object.daemons.container_sync import ContainerSyncDaemon
from overcast.object.daemons.db_replicator import DatabaseReplicator
from overcast.object.daemons.expirer import ObjectExpirer
from overcast.object.daemons.replicator import ObjectReplicator
from overcast.object.daemons.updater import ObjectUpdater

LOG = logging.getLogger(__name__)


class NodeDaemons:
    def __init__(self, settings: Settings) -> None:
        conf = settings.object
        devices = layout(settings).devices
        rings = load_rings(settings)
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
        self.loops: dict[str, tuple[float, Callable[[], Awaitable[Any]]]] = {
            "replicator": (
                conf.replicator_interval,
                ObjectReplicator(settings, devices, rings, self.client).run_once,
            ),
            "db-replicator": (
                conf.replicator_interval,
                DatabaseReplicator(settings, devices, rings, self.client).run_once,
            ),
            "updater": (
                conf.updater_interval,
                ObjectUpdater(devices, self.client, conf.node_timeout).run_once,
            ),
            "auditor": (
                conf.auditor_interval,
                ObjectAuditor(devices, [p.index for p in conf.policies]).run_once,
            ),
            "expirer": (
                conf.expirer_interval,
                ObjectExpirer(settings, devices, rings, self.client).run_once,
            ),
            "container-sync": (
                conf.sync_interval,
                ContainerSyncDaemon(settings, devices, rings, self.client).run_once,
            ),
        }
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name, (interval, run_once) in self.loops.items():
            self.tasks.append(asyncio.create_task(_every(name, interval, run_once)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()


async def _every(name: str, interval: float, run_once: Callable[[], Awaitable[Any]]) -> None:
    while True:
        try:
            stats = await run_once()
            LOG.debug("%s pass: %s", name, stats)
        except Exception:
            LOG.exception("%s pass failed", name)
        await asyncio.sleep(interval)


async def start_daemons(settings: Settings) -> NodeDaemons:
    daemons = NodeDaemons(settings)
    daemons.start()
    return daemons
