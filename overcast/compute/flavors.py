"""Flavors: finding them, who may use them, and what a server keeps of one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute.models import Flavor, FlavorProject

if TYPE_CHECKING:
    from overcast.compute.service import ComputeService

DEFAULT_FLAVORS = (
    # flavorid, name, memory_mb, vcpus, root_gb
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
)
"""The flavors a new cloud starts with (Nova's classic five plus DevStack's two small ones)."""


_BY_FLAVORID = select(Flavor).where(Flavor.flavorid == bindparam("flavorid"))
"""Built once: every create looks its flavor up."""


async def find_flavor(session: AsyncSession, flavorid: str) -> Flavor | None:
    found: Flavor | None = await session.scalar(_BY_FLAVORID, {"flavorid": flavorid})
    return found


async def get_flavor(session: AsyncSession, flavorid: str) -> Flavor:
    """:raises NotFound: when no flavor has this id."""
    flavor = await find_flavor(session, flavorid)
    if flavor is None:
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


async def may_use(session: AsyncSession, ctx: RequestContext, flavor: Flavor) -> bool:
    """Whether the caller sees ``flavor``: public, admin, or granted to the caller's project."""
    if flavor.is_public or ctx.can("context_is_admin"):
        return True
    grant = await session.get(FlavorProject, (flavor.id, ctx.project_id or ""))
    return grant is not None


async def usable_flavor(session: AsyncSession, ctx: RequestContext, flavorid: str) -> Flavor:
    """:raises NotFound: when the flavor does not exist or is private to other projects."""
    flavor = await get_flavor(session, flavorid)
    if not await may_use(session, ctx, flavor):
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


def snapshot(flavor: Flavor) -> dict[str, Any]:
    """What an instance keeps of its flavor, so later flavor changes do not touch it."""
    return {
        "id": flavor.id,  # the internal id, which migrations show as *_instance_type_id
        "flavorid": flavor.flavorid,
        "name": flavor.name,
        "memory_mb": flavor.memory_mb,
        "vcpus": flavor.vcpus,
        "root_gb": flavor.root_gb,
        "ephemeral_gb": flavor.ephemeral_gb,
        "swap": flavor.swap,
        "rxtx_factor": flavor.rxtx_factor,
        "is_public": flavor.is_public,
        "description": flavor.description,
        "extra_specs": flavor.extra_specs_dict,
    }


def resources(flavor: dict[str, Any]) -> dict[str, int]:
    """The resources an instance of this flavor (snapshot) takes from its host."""
    return {
        "VCPU": int(flavor["vcpus"]),
        "MEMORY_MB": int(flavor["memory_mb"]),
        "DISK_GB": int(flavor["root_gb"]) + int(flavor["ephemeral_gb"]) + _swap_gb(flavor),
    }


def _swap_gb(flavor: dict[str, Any]) -> int:
    swap_mb = int(flavor.get("swap") or 0)
    return (swap_mb + 1023) // 1024


@dataclass(frozen=True)
class Known:
    """What a create needs of a flavor, as its service caches it."""

    snapshot: dict[str, Any]
    disabled: bool
    is_public: bool


async def known_flavor(service: ComputeService, flavorid: str) -> Known | None:
    """The flavor with this id, from the service's reference cache."""

    async def load() -> Known | None:
        async with service.db.read() as session:
            flavor = await find_flavor(session, flavorid)
            if flavor is None:
                return None
            return Known(snapshot(flavor), flavor.disabled, flavor.is_public)

    found: Known | None = await service.reference.get_or_load(("flavor", flavorid), load)
    return found


async def may_create_with(service: ComputeService, ctx: RequestContext, flavor: Known) -> bool:
    """:func:`may_use` for a cached flavor (its grants cached too)."""
    if flavor.is_public or ctx.can("context_is_admin"):
        return True
    key = ("flavor-grant", flavor.snapshot["id"], ctx.project_id or "")

    async def load() -> bool:
        async with service.db.read() as session:
            grant = await session.get(FlavorProject, key[1:])
        return grant is not None

    granted: bool = await service.reference.get_or_load(key, load)
    return granted
