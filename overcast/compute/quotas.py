"""Quota limits: configured defaults, the ``default`` quota class, and per-project rows.

Usage is counted from the resources themselves (Nova's "counting quotas"), so
there is nothing to reserve or to go stale: a check counts and compares inside
the transaction that creates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.config import ComputeQuota
from overcast.common.db import table_of
from overcast.compute.models import Instance, Quota, QuotaClass

if TYPE_CHECKING:
    from overcast.compute.service import ComputeService

RESOURCES = tuple(ComputeQuota.model_fields)
DEFAULT_CLASS = "default"


# Built once, as every create checks quota: SQLAlchemy then reuses their compiled SQL
# without working out a cache key for a statement built anew each time.
_CLASSES, _QUOTAS = table_of(QuotaClass).c, table_of(Quota).c
_CLASS_LIMITS = select(_CLASSES.resource, _CLASSES.hard_limit).where(
    _CLASSES.class_name == bindparam("class_name")
)
_PROJECT_LIMITS = (
    select(_QUOTAS.resource, _QUOTAS.hard_limit)
    .where(_QUOTAS.project_id == bindparam("project_id"), _QUOTAS.user_id.in_(bindparam("users")))
    .order_by(_QUOTAS.user_id)  # the user's rows (after the project's "") win
)
_USAGE = select(
    func.count(),
    func.coalesce(func.sum(Instance.vcpus), 0),
    func.coalesce(func.sum(Instance.memory_mb), 0),
).where(Instance.project_id == bindparam("project_id"), Instance.deleted.is_(False))


async def class_limits(
    session: AsyncSession, defaults: ComputeQuota, class_name: str = DEFAULT_CLASS
) -> dict[str, int]:
    limits = defaults.model_dump()
    for row in await session.execute(_CLASS_LIMITS, {"class_name": class_name}):
        limits[row.resource] = row.hard_limit
    return limits


async def project_limits(
    session: AsyncSession, defaults: ComputeQuota, project_id: str, user_id: str = ""
) -> dict[str, int]:
    """Every resource's limit for ``project_id`` (and ``user_id``, when its own rows exist)."""
    limits = await class_limits(session, defaults)
    params = {"project_id": project_id, "users": ["", user_id]}
    for row in await session.execute(_PROJECT_LIMITS, params):
        limits[row.resource] = row.hard_limit
    return limits


def exceeded(limit: int, used: int, wanted: int = 1) -> bool:
    return limit >= 0 and used + wanted > limit


async def instance_usage(session: AsyncSession, project_id: str) -> dict[str, int]:
    """What a project's live servers hold: ``instances``, ``cores`` and ``ram``."""
    count, cores, ram = (await session.execute(_USAGE, {"project_id": project_id})).one()
    return {"instances": int(count), "cores": int(cores), "ram": int(ram)}


def over_quota(resource: str, limit: int, used: int, wanted: int) -> str:
    """Nova's words for a request that does not fit."""
    return (
        f"Quota exceeded for {resource}: Requested {wanted}, but already used "
        f"{used} of {limit} {resource}"
    )


async def cached_limits(service: ComputeService, project_id: str) -> dict[str, int]:
    """:func:`project_limits` of a project, from the service's reference cache (a copy)."""

    async def load() -> dict[str, int]:
        async with service.db.read() as session:
            return await project_limits(session, service.conf.quota, project_id)

    limits: dict[str, int] = await service.reference.get_or_load(("limits", project_id), load)
    return dict(limits)
