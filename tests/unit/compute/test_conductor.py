"""The conductor with real agents on the in-process bus: builds, reschedules, faults, heartbeats."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from overcast.common.bus import LocalBus
from overcast.common.clients import ImageClient
from overcast.common.config import FakeDriverSettings, Settings
from overcast.compute.agent import ComputeAgent
from overcast.compute.engine import Control, start_control
from overcast.compute.models import Instance, InstanceFault
from overcast.compute.rpcapi import ConductorClient
from overcast.compute.service import ComputeService
from overcast.compute.states import PowerState, TaskState, VmState
from overcast.compute.virt.fake import FailAlwaysDriver, FakeDriver, make_fake_driver
from tests.conftest import make_settings

FLAVOR = {
    "flavorid": "1",
    "name": "m1.tiny",
    "memory_mb": 512,
    "vcpus": 1,
    "root_gb": 1,
    "ephemeral_gb": 0,
    "swap": 0,
    "extra_specs": {},
}


class Cloud:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = LocalBus(call_timeout=5, prefetch=64)
        self.service = ComputeService(settings, bus=self.bus)
        self.agents: list[ComputeAgent] = []
        self.control: Control | None = None

    async def add_agent(self, host: str, driver: FakeDriver) -> ComputeAgent:
        images = ImageClient("http://image.invalid")  # these tests take no snapshots
        agent = ComputeAgent(host, self.bus, driver, self.settings.compute, images)
        await agent.start()
        self.agents.append(agent)
        return agent

    async def boot(self, count: int = 1) -> list[str]:
        now = self.service.clock.now()
        uuids = [str(uuid.uuid4()) for _ in range(count)]
        async with self.service.db.write() as session:
            for index, ident in enumerate(uuids):
                session.add(
                    Instance(
                        uuid=ident,
                        project_id="p",
                        user_id="u",
                        display_name=f"vm{index}",
                        hostname=f"vm{index}",
                        reservation_id="r-1",
                        flavor=FLAVOR,
                        vcpus=1,
                        memory_mb=512,
                        root_gb=1,
                        image={},
                        vm_state=VmState.BUILDING,
                        task_state=TaskState.SCHEDULING,
                        request_spec={},
                        system_metadata={},
                        block_devices=[],
                        created_at=now,
                        updated_at=now,
                    )
                )
        await ConductorClient(self.bus).build_instances(uuids)
        return uuids

    async def settled(self, uuids: list[str]) -> list[Instance]:
        for _ in range(500):
            async with self.service.db.read() as session:
                found = [await session.get(Instance, u) for u in uuids]
            if all(i is not None and i.task_state is None for i in found):
                return [i for i in found if i is not None]
            await asyncio.sleep(0.01)
        raise AssertionError("instances did not settle")


@pytest.fixture
async def cloud(tmp_path: Path) -> AsyncIterator[Cloud]:
    settings = make_settings(
        tmp_path, compute={"report_interval": 0.05, "service_down_time": 0.4, "max_attempts": 3}
    )
    the_cloud = Cloud(settings)
    await the_cloud.service.migrate()
    the_cloud.control = await start_control(the_cloud.service, name="sched")
    yield the_cloud
    for agent in the_cloud.agents:
        await agent.stop()
    await the_cloud.control.stop()
    await the_cloud.service.close()
    await the_cloud.bus.close()


def fake(host: str, **conf: object) -> FakeDriver:
    return make_fake_driver(host, FakeDriverSettings.model_validate(conf))


async def test_builds_spread_over_hosts_and_go_active(cloud: Cloud) -> None:
    await cloud.add_agent("h1", fake("h1", vcpus=4, memory_mb=4096))
    await cloud.add_agent("h2", fake("h2", vcpus=4, memory_mb=4096))
    built = await cloud.settled(await cloud.boot(6))
    assert {i.vm_state for i in built} == {VmState.ACTIVE}
    assert {i.power_state for i in built} == {PowerState.RUNNING}
    assert sorted(i.host or "" for i in built).count("h1") == 3


async def test_a_failing_host_is_left_for_another(cloud: Cloud) -> None:
    await cloud.add_agent("bad", FailAlwaysDriver("bad", FakeDriverSettings(memory_mb=10**6)))
    await cloud.add_agent("good", fake("good", memory_mb=4096))
    built = await cloud.settled(await cloud.boot(3))
    assert {(i.vm_state, i.host) for i in built} == {(VmState.ACTIVE, "good")}


async def test_after_max_attempts_the_build_errors_with_a_fault(cloud: Cloud) -> None:
    await cloud.add_agent("bad", FailAlwaysDriver("bad", FakeDriverSettings()))
    [instance] = await cloud.settled(await cloud.boot(1))
    assert instance.vm_state == VmState.ERROR
    async with cloud.service.db.read() as session:
        fault = await session.get(InstanceFault, 1)
    assert fault is not None
    assert "injected fault" in fault.message or "No valid host" in fault.message


async def test_a_host_without_heartbeats_is_not_scheduled_to(cloud: Cloud) -> None:
    quiet = await cloud.add_agent("quiet", fake("quiet", memory_mb=10**6))
    await cloud.add_agent("busy", fake("busy", memory_mb=4096))
    await quiet.stop()
    cloud.agents.remove(quiet)
    await asyncio.sleep(0.8)  # two service_down_times
    built = await cloud.settled(await cloud.boot(2))
    assert {i.host for i in built} == {"busy"}
