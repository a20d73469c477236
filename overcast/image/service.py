"""The image service: its database, stores, policy, schemas and worker threads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from overcast.common.clock import Clock, SystemClock
from overcast.common.coherence import CoherentCache, FileCounter
from overcast.common.config import ImageQuota, Settings
from overcast.common.db import Database, upgrade
from overcast.common.policy import Enforcer
from overcast.image.policies import RULES
from overcast.image.schemas import Schemas
from overcast.image.stores import FileStore, Store

LOG = logging.getLogger(__name__)
MIGRATIONS = str(Path(__file__).parent / "migrations")
VERSION_TABLE = "image_alembic_version"
IO_THREADS = 16
"""Threads hashing and moving image data (each upload keeps up to three busy)."""
CACHE_SIZE = 4096
"""Images and memberships kept for readers (every server boot reads its image)."""


class ImageService:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        db: Database | None = None,
    ) -> None:
        self.settings = settings
        self.conf = settings.image
        self.clock = clock or SystemClock()
        self.db = db or Database.for_service(settings, "image")
        self.enforcer = Enforcer(RULES, self.conf.policy)
        self.schemas = Schemas(self.conf)
        self.executor = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="image-io")
        store_dir = self.conf.store_dir or settings.data_dir / "images"
        self.stores: dict[str, Store] = {
            "file": FileStore(store_dir, self.executor, default=self.conf.default_store == "file")
        }
        if self.conf.default_store not in self.stores:
            raise ValueError(f"[image] default_store {self.conf.default_store!r} is not a store")
        self.background: set[asyncio.Task[None]] = set()
        # Readers cache what they load while no write commits: every write moves the
        # counter, in every process of the host at once. A database shared between
        # hosts has no such counter, so there readers always load.
        self.counter = (
            FileCounter(settings.data_dir / "run" / "image.generation")
            if self.db.dialect == "sqlite"
            else None
        )
        if self.counter is not None:
            self.db.after_write = self.counter.bump
        self.cache = CoherentCache(self.counter, CACHE_SIZE)

    @property
    def default_store(self) -> Store:
        return self.stores[self.conf.default_store]

    def store(self, store_id: str | None) -> Store | None:
        return self.stores.get(store_id or "")

    def quota(self, project_id: str | None) -> ImageQuota:
        return self.conf.project_quotas.get(project_id or "", self.conf.quota)

    async def migrate(self) -> None:
        await upgrade(self.db, MIGRATIONS, VERSION_TABLE)

    async def sweep(self) -> None:
        """Remove what uploads interrupted by a crash left in the stores."""
        for store in self.stores.values():
            removed = await store.sweep()
            if removed:
                LOG.info("removed %d partial uploads from store %s", removed, store.info.id)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` in the background, keeping a reference until it ends."""
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def close(self) -> None:
        for task in list(self.background):
            task.cancel()
        if self.background:
            await asyncio.wait(self.background)
        if self.counter is not None:
            self.counter.close()
        await self.db.dispose()
        self.executor.shutdown(wait=False, cancel_futures=True)
