"""Claims against a provider's inventory: atomic, never overcommitting, released exactly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overcast.compute import placement
from overcast.compute.models import ComputeNode, Inventory
from overcast.compute.service import ComputeService
from tests.conftest import BACKENDS, backend_settings

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ComputeService]:
    async with backend_settings(request.param, tmp_path) as settings:
        compute = ComputeService(settings)
        await compute.migrate()
        yield compute
        await compute.close()


async def make_node(service: ComputeService, vcpus: int = 4, memory_mb: int = 1024) -> int:
    async with service.db.write() as session:
        node = ComputeNode(
            uuid=f"node-{vcpus}-{memory_mb}",
            host="h1",
            hypervisor_hostname=f"h1-{vcpus}-{memory_mb}",
            hypervisor_type="fake",
            hypervisor_version=1,
            host_ip="127.0.0.1",
            cpu_info={},
            created_at=NOW,
            updated_at=NOW,
            inventories=[],
        )
        placement.set_inventories(
            node,
            {"VCPU": (vcpus, 0, 1.0), "MEMORY_MB": (memory_mb, 0, 1.0), "DISK_GB": (10, 0, 1.0)},
        )
        session.add(node)
        await session.flush()
        return node.id


async def try_claim(
    service: ComputeService, consumer: str, provider: int, amounts: dict[str, int]
) -> bool:
    try:
        async with service.db.write() as session:
            await placement.claim(session, consumer, provider, amounts)
    except placement.ClaimFailed:
        return False
    return True


async def usage(service: ComputeService, provider: int) -> dict[str, int]:
    async with service.db.read() as session:
        node = await session.get(ComputeNode, provider)
        assert node is not None
        return {inv.resource_class: inv.used for inv in node.inventories}


async def test_parallel_claims_never_overcommit(service: ComputeService) -> None:
    provider = await make_node(service, vcpus=4, memory_mb=1024)
    wanted = {"VCPU": 1, "MEMORY_MB": 200, "DISK_GB": 1}
    results = await asyncio.gather(
        *(try_claim(service, f"c{i}", provider, wanted) for i in range(12))
    )
    assert sum(results) == 4  # VCPU runs out first (4 x 1); memory would allow 5
    assert await usage(service, provider) == {"VCPU": 4, "MEMORY_MB": 800, "DISK_GB": 4}


async def test_a_failed_claim_takes_nothing(service: ComputeService) -> None:
    provider = await make_node(service, vcpus=4, memory_mb=100)
    assert not await try_claim(service, "big", provider, {"VCPU": 1, "MEMORY_MB": 500})
    assert await usage(service, provider) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}


async def test_release_gives_back_exactly_what_was_held(service: ComputeService) -> None:
    provider = await make_node(service)
    assert await try_claim(service, "a", provider, {"VCPU": 2, "MEMORY_MB": 300})
    assert await try_claim(service, "b", provider, {"VCPU": 1, "MEMORY_MB": 100})
    async with service.db.write() as session:
        released = await placement.release(session, "a")
        assert await placement.release(session, "nobody") is None
    assert released == placement.Released(
        provider, {"VCPU": 2, "MEMORY_MB": 300}, used={"VCPU": 1, "MEMORY_MB": 100}
    )
    assert await usage(service, provider) == {"VCPU": 1, "MEMORY_MB": 100, "DISK_GB": 0}


async def test_allocation_ratio_and_reserved_shape_capacity(service: ComputeService) -> None:
    provider = await make_node(service)
    async with service.db.write() as session:
        node = await session.get(ComputeNode, provider)
        assert node is not None
        placement.set_inventories(node, {"VCPU": (4, 2, 4.0)})
    inventory = Inventory(total=4, reserved=2, allocation_ratio=4.0, max_unit=4, used=0)
    assert inventory.capacity == 8
    assert not await try_claim(service, "x", provider, {"VCPU": 5})  # max_unit is 4
    assert await try_claim(service, "y", provider, {"VCPU": 4})
    assert await try_claim(service, "z", provider, {"VCPU": 4})
    assert not await try_claim(service, "w", provider, {"VCPU": 1})


async def test_a_claim_answers_what_is_in_use_now(service: ComputeService) -> None:
    provider = await make_node(service, vcpus=4, memory_mb=1000)
    assert await try_claim(service, "a", provider, {"VCPU": 1, "MEMORY_MB": 100})
    async with service.db.write() as session:
        used = await placement.claim(session, "c", provider, {"VCPU": 2, "MEMORY_MB": 300})
    assert used == {"VCPU": 3, "MEMORY_MB": 400}
    assert await usage(service, provider) == {**used, "DISK_GB": 0}


async def test_a_failed_claim_names_what_is_lacking(service: ComputeService) -> None:
    provider = await make_node(service, vcpus=4, memory_mb=100)
    with pytest.raises(placement.ClaimFailed, match="500 MEMORY_MB"):
        async with service.db.write() as session:
            await placement.claim(session, "big", provider, {"VCPU": 1, "MEMORY_MB": 500})
