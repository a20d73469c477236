"""Resource providers, inventories and allocations, as Placement keeps them.

A claim is atomic without locks held across calls: for each resource class it
is one ``UPDATE ... SET used = used + n WHERE used + n <= capacity``, all in one
transaction with the allocation rows. Two claims racing for the last room on a
host serialise on that row (PostgreSQL row lock, SQLite's single writer); the
second finds the condition false and fails, so a host is never overcommitted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Integer, Update, bindparam, case, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.config import ComputeSettings
from overcast.common.db import table_of
from overcast.compute.models import Allocation, ComputeNode, Inventory
from overcast.scheduler.hosts import DISK_GB, MEMORY_MB, VCPU


class ClaimFailed(Exception):
    """A host has no room for what a claim asks."""


def inventories(
    conf: ComputeSettings, vcpus: int, memory_mb: int, local_gb: int
) -> dict[str, tuple[int, int, float]]:
    """``resource class -> (total, reserved, allocation ratio)`` for a host of this size."""
    return {
        VCPU: (vcpus, conf.reserved_host_cpus, conf.cpu_allocation_ratio),
        MEMORY_MB: (memory_mb, conf.reserved_host_memory_mb, conf.ram_allocation_ratio),
        DISK_GB: (local_gb, conf.reserved_host_disk_mb // 1024, conf.disk_allocation_ratio),
    }


def set_inventories(node: ComputeNode, wanted: dict[str, tuple[int, int, float]]) -> None:
    """Make ``node``'s inventory ``wanted``, keeping what is in use."""
    current = {inv.resource_class: inv for inv in node.inventories}
    for resource_class, (total, reserved, ratio) in wanted.items():
        inventory = current.get(resource_class)
        if inventory is None:
            inventory = Inventory(resource_class=resource_class, used=0)
            node.inventories.append(inventory)
        inventory.total = total
        inventory.reserved = min(reserved, total)
        inventory.max_unit = total
        inventory.allocation_ratio = ratio


async def claim(
    session: AsyncSession, consumer_id: str, provider_id: int, resources: dict[str, int]
) -> dict[str, int]:
    """Allocate ``resources`` on a provider to a consumer, or nothing at all.

    One conditional UPDATE takes every resource class at once, so it either fits
    whole or changes nothing; it returns what the provider has in use now. Run it
    inside a write transaction; on :class:`ClaimFailed` the caller must roll that
    transaction back (leaving the block by the exception does).

    :raises ClaimFailed: when a resource class lacks room (or the host lacks it).
    """
    wanted = {rc: amount for rc, amount in sorted(resources.items()) if amount > 0}
    if not wanted:
        return {}
    params = {"provider": provider_id, **{f"n_{rc}": n for rc, n in wanted.items()}}
    rows = (await session.execute(_claim_statement(tuple(wanted)), params)).all()
    if len(rows) != len(wanted):
        lacking = await _short(session, provider_id, wanted)
        raise ClaimFailed(f"no room for {lacking} on provider {provider_id}")
    held = {"consumer_id": consumer_id, "provider_id": provider_id}
    await session.execute(
        insert(Allocation), [{**held, "resource_class": rc, "used": n} for rc, n in wanted.items()]
    )
    return {row.resource_class: row.used for row in rows}


@functools.cache
def _claim_statement(classes: tuple[str, ...]) -> Update:
    """The claim's UPDATE for these resource classes, built once per set of classes.

    The amounts are parameters (``n_<class>``), so a boot's claim reuses the
    compiled SQL instead of building the statement and its cache key again.
    """
    table = table_of(Inventory)
    amount = case(
        {rc: bindparam(f"n_{rc}", type_=Integer) for rc in classes}, value=table.c.resource_class
    )
    capacity = (table.c.total - table.c.reserved) * table.c.allocation_ratio
    return (
        update(table)
        .where(
            table.c.provider_id == bindparam("provider"),
            table.c.resource_class.in_(classes),
            table.c.used + amount <= capacity,
            table.c.max_unit >= amount,
        )
        .values(used=table.c.used + amount)
        .returning(table.c.resource_class, table.c.used)
    )


async def _short(session: AsyncSession, provider_id: int, wanted: dict[str, int]) -> str:
    """What of ``wanted`` the provider cannot give (the failed claim changed nothing)."""
    have = {
        inventory.resource_class: inventory
        for inventory in await session.scalars(
            select(Inventory).where(Inventory.provider_id == provider_id)
        )
    }
    lacking = [
        f"{amount} {rc}"
        for rc, amount in wanted.items()
        if rc not in have
        or have[rc].used + amount > (have[rc].total - have[rc].reserved) * have[rc].allocation_ratio
        or have[rc].max_unit < amount
    ]
    return ", ".join(lacking) or ", ".join(f"{a} {rc}" for rc, a in wanted.items())


@dataclass(frozen=True)
class Released:
    """What a release gave back, and what its provider has in use afterwards."""

    provider_id: int
    resources: dict[str, int]
    used: dict[str, int]


async def release(session: AsyncSession, consumer_id: str) -> Released | None:
    """Remove a consumer's allocations (None when it held none).

    Two statements whatever the number of resource classes: the allocations are
    deleted returning what they held, and the provider's inventories give it back
    in one UPDATE returning what stays in use.
    """
    rows = (
        await session.execute(
            delete(Allocation)
            .where(Allocation.consumer_id == consumer_id)
            .returning(Allocation.provider_id, Allocation.resource_class, Allocation.used)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not rows:
        return None
    provider_id = rows[0].provider_id
    held: dict[str, int] = {}
    for row in rows:  # one provider per consumer; a second one would be a bug elsewhere
        held[row.resource_class] = held.get(row.resource_class, 0) + row.used
    given = case(held, value=Inventory.resource_class)
    left = (
        await session.execute(
            update(Inventory)
            .where(Inventory.provider_id == provider_id, Inventory.resource_class.in_(held))
            .values(used=Inventory.used - given)
            .returning(Inventory.resource_class, Inventory.used)
            .execution_options(synchronize_session=False)
        )
    ).all()
    return Released(provider_id, held, {row.resource_class: row.used for row in left})


async def move(session: AsyncSession, from_consumer: str, to_consumer: str) -> None:
    """Hand a consumer's allocations to another (a resize parks the old ones on its migration)."""
    await session.execute(
        update(Allocation)
        .where(Allocation.consumer_id == from_consumer)
        .values(consumer_id=to_consumer)
        .execution_options(synchronize_session=False)
    )


class Provider(NamedTuple):
    id: int
    hypervisor_hostname: str


async def provider_of(session: AsyncSession, host: str) -> Provider | None:
    """The id and node name of ``host``'s resource provider, without loading the node."""
    row = (await session.execute(_PROVIDER, {"host": host})).first()
    return None if row is None else Provider(row.id, row.hypervisor_hostname)


_PROVIDER = (
    select(ComputeNode.id, ComputeNode.hypervisor_hostname)
    .where(ComputeNode.host == bindparam("host"))
    .order_by(ComputeNode.id)
    .limit(1)
)
"""Built once: every claim reads it."""


async def node_by_host(session: AsyncSession, host: str) -> ComputeNode | None:
    found: ComputeNode | None = await session.scalar(
        select(ComputeNode).where(ComputeNode.host == host).order_by(ComputeNode.id).limit(1)
    )
    return found


async def fresh_node(session: AsyncSession, provider_id: int) -> ComputeNode | None:
    """The node with its inventories read again (after claims changed them in SQL)."""
    node = await session.get(ComputeNode, provider_id, populate_existing=True)
    if node is not None:
        await session.refresh(node, ["inventories"])
    return node


def touched(node: ComputeNode, now: datetime) -> None:
    node.generation += 1
    node.updated_at = now
