"""The compute API's side of the service: database, policy, and the clients it calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.bus import Bus
from overcast.common.clients import ImageClient
from overcast.common.clock import Clock, SystemClock
from overcast.common.coherence import CoherentCache, FileCounter
from overcast.common.config import Settings
from overcast.common.db import Database, upgrade
from overcast.common.policy import Enforcer
from overcast.compute.policies import RULES

MIGRATIONS = str(Path(__file__).parent / "migrations")
VERSION_TABLE = "compute_alembic_version"
REFERENCE_CACHE_SIZE = 4096
"""Flavors, flavor grants and quota limits kept per process (every boot reads them)."""


class ComputeService:
    """What the compute API, the conductor and the scheduler loader share in one process."""

    def __init__(
        self,
        settings: Settings,
        *,
        bus: Bus | None = None,
        clock: Clock | None = None,
        db: Database | None = None,
        image_client: ImageClient | None = None,
    ) -> None:
        self.settings = settings
        self.conf = settings.compute
        self.clock = clock or SystemClock()
        self.db = db or Database.for_service(settings, "compute")
        self.enforcer = Enforcer(RULES, self.conf.policy)
        self._bus = bus
        self.images = image_client or ImageClient(settings.service_url(settings.image.port))
        # Flavors and quota limits change seldom and are read by every create: they are
        # cached, for as long as no change to them commits (:meth:`changing_reference`),
        # in any process of the host. A database shared between hosts has no such
        # counter, so there they are always read.
        self.counter = (
            FileCounter(settings.data_dir / "run" / "compute-reference.generation")
            if self.db.dialect == "sqlite"
            else None
        )
        self.reference = CoherentCache(self.counter, REFERENCE_CACHE_SIZE)

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("this compute service has no bus")
        return self._bus

    @asynccontextmanager
    async def changing_reference(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that changes flavors (their specs and grants) or quota
        limits: once it commits, every process forgets what it cached of them."""
        async with self.db.write() as session:
            yield session
        if self.counter is not None:
            await self.counter.bump()

    async def migrate(self) -> None:
        await upgrade(self.db, MIGRATIONS, VERSION_TABLE)

    async def close(self) -> None:
        await self.images.close()
        await self.db.dispose()
        if self.counter is not None:
            self.counter.close()
