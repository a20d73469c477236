"""What a new cloud's compute service starts with: the default flavors."""

from __future__ import annotations

from sqlalchemy import func, select

from overcast.compute.flavors import DEFAULT_FLAVORS
from overcast.compute.models import Flavor
from overcast.compute.service import ComputeService


async def seed_flavors(service: ComputeService) -> int:
    """Create the default flavors in a cloud that has none yet; returns how many were made."""
    async with service.changing_reference() as session:
        if await session.scalar(select(func.count()).select_from(Flavor)):
            return 0
        now = service.clock.now()
        for flavorid, name, memory_mb, vcpus, root_gb in DEFAULT_FLAVORS:
            session.add(
                Flavor(
                    flavorid=flavorid,
                    name=name,
                    memory_mb=memory_mb,
                    vcpus=vcpus,
                    root_gb=root_gb,
                    ephemeral_gb=0,
                    swap=0,
                    rxtx_factor=1.0,
                    is_public=True,
                    disabled=False,
                    created_at=now,
                )
            )
    return len(DEFAULT_FLAVORS)
