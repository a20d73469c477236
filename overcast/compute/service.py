"""The compute API's side of the service: database, policy, and the clients it calls."""

from __future__ import annotations

from pathlib import Path

from overcast.common.bus import Bus
from overcast.common.clients import ImageClient
from overcast.common.clock import Clock, SystemClock
from overcast.common.config import Settings
from overcast.common.db import Database, upgrade
from overcast.common.policy import Enforcer
from overcast.compute.policies import RULES

MIGRATIONS = str(Path(__file__).parent / "migrations")
VERSION_TABLE = "compute_alembic_version"


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

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("this compute service has no bus")
        return self._bus

    async def migrate(self) -> None:
        await upgrade(self.db, MIGRATIONS, VERSION_TABLE)

    async def close(self) -> None:
        await self.images.close()
        await self.db.dispose()
