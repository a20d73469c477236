"""The compute agent (``overcast serve compute-agent``): one per host, running its virt driver.

It registers its node with the conductor, heartbeats, and carries out what it is
sent on ``compute.<host>``; every outcome goes back to the conductor, which
writes it down. The agent itself keeps no state but the driver's guests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from overcast.common.bus import Bus, Consumer, Endpoint, Message
from overcast.common.config import ComputeSettings
from overcast.compute import messages as m
from overcast.compute.rpcapi import ConductorClient
from overcast.compute.states import PowerState, TaskState, VmState
from overcast.compute.virt import Driver, DriverError

LOG = logging.getLogger(__name__)

# operation -> (driver method, vm_state after, power_state after)
OPERATIONS: dict[str, tuple[str, str, int]] = {
    "stop": ("power_off", VmState.STOPPED, PowerState.SHUTDOWN),
    "start": ("power_on", VmState.ACTIVE, PowerState.RUNNING),
    "reboot": ("reboot", VmState.ACTIVE, PowerState.RUNNING),
    "pause": ("pause", VmState.PAUSED, PowerState.PAUSED),
    "unpause": ("unpause", VmState.ACTIVE, PowerState.RUNNING),
    "suspend": ("suspend", VmState.SUSPENDED, PowerState.SUSPENDED),
    "resume": ("resume", VmState.ACTIVE, PowerState.RUNNING),
}


class ComputeAgent:
    def __init__(self, host: str, bus: Bus, driver: Driver, conf: ComputeSettings) -> None:
        self.host = host
        self.bus = bus
        self.driver = driver
        self.conf = conf
        self.conductor = ConductorClient(bus)
        self.endpoint = Endpoint()
        self.endpoint.on(m.SpawnInstance)(self.spawn)
        self.endpoint.on(m.InstanceOperation)(self.operate)
        self.endpoint.on(m.DestroyInstance)(self.destroy)
        self.endpoint.on(m.ConsoleOutput)(self.console_output)
        self._consumer: Consumer | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> m.Registered:
        """Register this host's node, then take work and heartbeat until :meth:`stop`."""
        resources = self.driver.host_resources()
        registered = await self.conductor.register_node(
            self.host, m.NodeResources(**resources.__dict__)
        )
        self._consumer = await self.bus.serve(m.COMPUTE, self.endpoint, server=self.host)
        self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat-{self.host}")
        LOG.info("compute agent %s is up (node %s)", self.host, registered.node_uuid)
        return registered

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._consumer is not None:
            await self._consumer.stop()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.conf.report_interval)
            try:
                await self.conductor.heartbeat(self.host)
            except Exception:  # the broker may be away; the next beat tries again
                LOG.warning("heartbeat of %s failed", self.host, exc_info=True)

    async def spawn(self, request: m.SpawnInstance) -> None:
        instance = request.instance
        try:
            await self.driver.spawn(instance)
        except DriverError as exc:
            LOG.warning("spawning %s on %s failed: %s", instance.uuid, self.host, exc)
            await self.driver.destroy(instance.uuid)
            await self.conductor.build_failed(instance.uuid, self.host, str(exc))
            return
        await self.conductor.instance_update(
            m.InstanceUpdate(
                uuid=instance.uuid,
                host=self.host,
                event=m.BUILD_EVENT,
                vm_state=VmState.ACTIVE,
                power_state=PowerState.RUNNING,
                task_state=None,
                expected_task_state=TaskState.SPAWNING,
                launched=True,
            )
        )

    async def operate(self, request: m.InstanceOperation) -> None:
        method, vm_state, power_state = OPERATIONS[request.operation]
        error = None
        try:
            if request.operation == "reboot":
                await self.driver.reboot(request.uuid, hard=request.hard)
            else:
                await getattr(self.driver, method)(request.uuid)
        except DriverError as exc:
            error = str(exc)
            guest = self.driver.guest(request.uuid)
            power_state = guest.power_state if guest else PowerState.NOSTATE
        await self.conductor.instance_update(
            m.InstanceUpdate(
                uuid=request.uuid,
                host=self.host,
                event=request.event,
                vm_state=None if error else vm_state,
                power_state=power_state,
                error=error,
            )
        )

    async def destroy(self, request: m.DestroyInstance) -> None:
        await self.driver.destroy(request.uuid)
        await self.conductor.instance_destroyed(request.uuid, self.host)

    async def console_output(self, request: m.ConsoleOutput) -> Message:
        text = await self.driver.console_output(request.uuid)
        if request.length is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-request.length :]) if request.length > 0 else ""
        return m.ConsoleText(output=text)
