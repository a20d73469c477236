"""A storage node's background work, run as one engine beside its servers.

For now the container sync daemon; the replicator, auditor, updater and
expirer join it here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from overcast.common.config import Settings
from overcast.object.bootstrap import layout, load_rings
from overcast.object.daemons.container_sync import ContainerSyncDaemon

LOG = logging.getLogger(__name__)


class NodeDaemons:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
        self.sync = ContainerSyncDaemon(
            settings, layout(settings).devices, load_rings(settings), self.client
        )
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks.append(asyncio.create_task(self._every(self.settings.object.sync_interval)))

    async def _every(self, interval: float) -> None:
        while True:
            try:
                await self.sync.run_once()
            except Exception:
                LOG.exception("container sync pass failed")
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()


async def start_daemons(settings: Settings) -> NodeDaemons:
    daemons = NodeDaemons(settings)
    daemons.start()
    return daemons
