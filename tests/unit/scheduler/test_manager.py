"""The scheduler service over the bus (both drivers): reports in, selections out."""

from __future__ import annotations

import asyncio

import pytest

from overcast.common.bus import Bus
from overcast.scheduler.hosts import MEMORY_MB, VCPU
from overcast.scheduler.index import NoValidHost
from overcast.scheduler.manager import SchedulerClient, SchedulerManager
from overcast.scheduler.messages import (
    HostReport,
    HostUsage,
    InventoryRecord,
    SelectDestinations,
)
from tests.conftest import topic

FLAVOR = {VCPU: 1, MEMORY_MB: 2048}


def report(name: str, memory: int = 8192, **attrs: object) -> HostReport:
    inventories = {VCPU: InventoryRecord(total=4), MEMORY_MB: InventoryRecord(total=memory)}
    return HostReport(name=name, inventories=inventories, **attrs)  # type: ignore[arg-type]


async def settled(*managers: SchedulerManager, hosts: int) -> None:
    for _ in range(250):
        if all(len(m.index) == hosts for m in managers):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("host reports did not reach every scheduler")


async def two_schedulers(bus: Bus) -> tuple[list[SchedulerManager], SchedulerClient]:
    """Schedulers s1 and s2 serving a topic of their own, and a client of that topic."""
    name = topic()
    managers = [SchedulerManager(s, topic=name) for s in ("s1", "s2")]
    for manager in managers:
        await manager.serve(bus)
    return managers, SchedulerClient(bus, topic=name)


async def test_every_scheduler_hears_reports_and_selections_spread(bus: Bus) -> None:
    managers, client = await two_schedulers(bus)
    for host in ("a", "b", "c"):
        await client.report(report(host))
    await settled(*managers, hosts=3)
    chosen = await client.select_destinations(SelectDestinations(resources=FLAVOR, count=3))
    assert sorted(chosen.hosts) == ["a", "b", "c"]
    assert chosen.scheduler in {"s1", "s2"}
    assert chosen.zones == {"a": "nova", "b": "nova", "c": "nova"}


async def test_a_usage_report_moves_only_what_is_in_use(bus: Bus) -> None:
    managers, client = await two_schedulers(bus)
    await client.report(report("a", memory=4096, availability_zone="az1"))
    await settled(*managers, hosts=1)
    await client.report(HostUsage(name="a", used={MEMORY_MB: 4096}), HostUsage(name="x", used={}))
    for _ in range(100):
        if all(m.index.hosts["a"].used.get(MEMORY_MB) == 4096 for m in managers):
            break
        await asyncio.sleep(0.02)
    for manager in managers:
        host = manager.index.hosts["a"]
        assert (host.used, host.availability_zone) == ({MEMORY_MB: 4096}, "az1")
        assert "x" not in manager.index.hosts  # a usage report never adds a host
    with pytest.raises(NoValidHost):  # the host is full now
        await client.select_destinations(SelectDestinations(resources=FLAVOR))


async def test_no_valid_host_reaches_the_caller_as_itself(bus: Bus) -> None:
    name = topic()
    manager = SchedulerManager("s1", topic=name)
    await manager.serve(bus)
    client = SchedulerClient(bus, topic=name)
    await client.report(report("a", memory=4096))
    await settled(manager, hosts=1)
    request = SelectDestinations(resources=FLAVOR, count=3)
    with pytest.raises(NoValidHost, match="No valid host was found"):
        await client.select_destinations(request)
    assert (await client.select_destinations(SelectDestinations(resources=FLAVOR, count=2))).hosts


async def test_a_host_reported_down_or_gone_is_not_chosen(bus: Bus) -> None:
    name = topic()
    manager = SchedulerManager("s1", topic=name)
    await manager.serve(bus)
    client = SchedulerClient(bus, topic=name)
    await client.report(report("a", memory=65536))
    await client.report(report("b"))
    await settled(manager, hosts=2)
    await client.report(report("a", memory=65536, up=False))
    await asyncio.sleep(0.2)
    assert (await client.select_destinations(SelectDestinations(resources=FLAVOR))).hosts == ["b"]
    await client.gone("b")
    await settled(manager, hosts=1)
    with pytest.raises(NoValidHost):
        await client.select_destinations(SelectDestinations(resources=FLAVOR))


async def test_released_resources_can_be_taken_again(bus: Bus) -> None:
    name = topic()
    manager = SchedulerManager("s1", topic=name)
    await manager.serve(bus)
    client = SchedulerClient(bus, topic=name)
    await client.report(report("a", memory=2048))
    await settled(manager, hosts=1)
    chosen = await client.select_destinations(SelectDestinations(resources=FLAVOR))
    assert chosen.hosts == ["a"]
    await client.release(chosen, "a", FLAVOR)
    for _ in range(100):
        if manager.index.hosts["a"].used[MEMORY_MB] == 0:
            break
        await asyncio.sleep(0.02)
    assert (await client.select_destinations(SelectDestinations(resources=FLAVOR))).hosts == ["a"]


async def test_released_resources_return_to_the_scheduler_that_took_them(bus: Bus) -> None:
    name = topic()
    managers = {s: SchedulerManager(s, topic=name) for s in ("s1", "s2")}
    for manager in managers.values():
        await manager.serve(bus)
    client = SchedulerClient(bus, topic=name)
    await client.report(report("a", memory=4096, used={MEMORY_MB: 2048}))
    await settled(*managers.values(), hosts=1)
    chosen = await client.select_destinations(SelectDestinations(resources=FLAVOR))
    assert chosen.hosts == ["a"]
    chooser, other = (
        managers[chosen.scheduler],
        managers[{"s1": "s2", "s2": "s1"}[chosen.scheduler]],
    )
    assert chooser.index.hosts["a"].used[MEMORY_MB] == 4096
    await client.release(chosen, "a", FLAVOR)
    for _ in range(100):
        if chooser.index.hosts["a"].used[MEMORY_MB] == 2048:
            break
        await asyncio.sleep(0.02)
    assert chooser.index.hosts["a"].used[MEMORY_MB] == 2048
    await asyncio.sleep(0.1)
    assert other.index.hosts["a"].used[MEMORY_MB] == 2048  # it never counted the selection


def test_a_request_message_becomes_the_spec_the_index_reads() -> None:
    request = SelectDestinations(
        resources=FLAVOR,
        availability_zone="az1",
        required_traits=["HW_CPU_X86_AVX2"],
        group_policy="anti-affinity",
        group_host_counts={"b": 1, "a": 2},
    )
    spec = request.spec()
    assert spec.required_traits == frozenset({"HW_CPU_X86_AVX2"})
    assert spec.group_host_counts == (("a", 2), ("b", 1))
    assert report("x", up=False).host_state().up is False
