"""Availability zones: the default one, and those set on host aggregates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.compute.models import AggregateMetadata
from overcast.compute.service import ComputeService


async def zone_names(session: AsyncSession, service: ComputeService) -> set[str]:
    named = await session.scalars(
        select(AggregateMetadata.value).where(AggregateMetadata.key == "availability_zone")
    )
    return {service.conf.default_availability_zone, *named}
