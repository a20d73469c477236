"""The compute agent (``overcast serve compute-agent``): one per host, running its virt driver.

It registers its node with the conductor, heartbeats, and carries out what it is
sent on ``compute.<host>``; every outcome goes back to the conductor, which
writes it down. The agent itself keeps no state but the driver's guests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from overcast.common.bus import Bus, Consumer, Endpoint, Message
from overcast.common.clients import ImageClient, ImageServiceError
from overcast.common.config import ComputeSettings
from overcast.compute import messages as m
from overcast.compute.rpcapi import ConductorClient
from overcast.compute.states import PowerState, TaskState, VmState
from overcast.compute.virt import Driver, DriverError

LOG = logging.getLogger(__name__)
REBUILD_EVENT = "compute_rebuild_instance"
FINISH_RESIZE_EVENT = "compute_finish_resize"
REVERT_RESIZE_EVENT = "compute_revert_resize"

# operation -> (driver method, vm_state after, power_state after)
OPERATIONS: dict[str, tuple[str, str, int]] = {
    "stop": ("power_off", VmState.STOPPED, PowerState.SHUTDOWN),
    "start": ("power_on", VmState.ACTIVE, PowerState.RUNNING),
    "reboot": ("reboot", VmState.ACTIVE, PowerState.RUNNING),
    "pause": ("pause", VmState.PAUSED, PowerState.PAUSED),
    "unpause": ("unpause", VmState.ACTIVE, PowerState.RUNNING),
    "suspend": ("suspend", VmState.SUSPENDED, PowerState.SUSPENDED),
    "resume": ("resume", VmState.ACTIVE, PowerState.RUNNING),
    "rescue": ("rescue", VmState.RESCUED, PowerState.RUNNING),
    "unrescue": ("unrescue", VmState.ACTIVE, PowerState.RUNNING),
}


class ComputeAgent:
    def __init__(
        self, host: str, bus: Bus, driver: Driver, conf: ComputeSettings, images: ImageClient
    ) -> None:
        self.host = host
        self.bus = bus
        self.driver = driver
        self.conf = conf
        self.images = images
        self.conductor = ConductorClient(bus)
        self.endpoint = Endpoint()
        self.endpoint.on(m.SpawnInstance)(self.spawn)
        self.endpoint.on(m.InstanceOperation)(self.operate)
        self.endpoint.on(m.DestroyInstance)(self.destroy)
        self.endpoint.on(m.ConsoleOutput)(self.console_output)
        self.endpoint.on(m.SnapshotInstance)(self.snapshot)
        self.endpoint.on(m.RebuildInstance)(self.rebuild)
        self.endpoint.on(m.FinishResize)(self.finish_resize)
        self.endpoint.on(m.RevertResize)(self.revert_resize)
        self.endpoint.on(m.DropGuest)(self.drop_guest)
        self.endpoint.on(m.GetDiagnostics)(self.diagnostics)
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
        await self.images.close()

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
        if request.shelved_image_token:
            await self._drop_shelved_image(instance, request.shelved_image_token)

    async def _rotate(self, uuid: str, token: str, rotation: m.Rotation) -> None:
        """Delete the backups of ``uuid`` of this kind but the newest ``rotation.keep``."""
        backups = await self.images.find(
            token,
            instance_uuid=uuid,
            image_type="backup",
            backup_type=rotation.backup_type,
            sort_key="created_at",
            sort_dir="desc",
        )
        for image in backups[rotation.keep :]:
            await self.images.delete(token, image["id"])

    async def _drop_shelved_image(self, instance: m.InstanceSpec, token: str) -> None:
        """The unshelved guest runs: its shelved image is of no more use (Nova deletes it)."""
        try:
            await self.images.delete(token, instance.image["id"])
        except ImageServiceError as exc:
            LOG.warning("deleting the shelved image of %s failed: %s", instance.uuid, exc)

    async def _report(self, uuid: str, event: str, **outcome: Any) -> None:
        await self.conductor.instance_update(
            m.InstanceUpdate(uuid=uuid, host=self.host, event=event, **outcome)
        )

    def _power_now(self, uuid: str) -> int:
        guest = self.driver.guest(uuid)
        return guest.power_state if guest else PowerState.NOSTATE

    async def operate(self, request: m.InstanceOperation) -> None:
        method, vm_state, power_state = OPERATIONS[request.operation]
        try:
            if request.operation == "reboot":
                await self.driver.reboot(request.uuid, hard=request.hard)
            elif request.operation == "rescue":
                await self.driver.rescue(request.uuid, request.rescue_image or {})
            else:
                await getattr(self.driver, method)(request.uuid)
        except DriverError as exc:
            power = self._power_now(request.uuid)
            await self._report(request.uuid, request.event, power_state=power, error=str(exc))
            return
        await self._report(request.uuid, request.event, vm_state=vm_state, power_state=power_state)

    async def snapshot(self, request: m.SnapshotInstance) -> None:
        """Upload the guest's disk with the user's token; with ``offload``, remove the guest."""
        outcome: dict[str, Any] = {"expected_task_state": request.expected_task_state}
        try:
            data = await self.driver.snapshot(request.uuid)
            await self.images.upload(request.token, request.image_id, data)
            if request.rotation is not None:
                await self._rotate(request.uuid, request.token, request.rotation)
            if request.offload:
                await self.driver.destroy(request.uuid)
                outcome |= {
                    "vm_state": VmState.SHELVED_OFFLOADED,
                    "power_state": PowerState.SHUTDOWN,
                    "offloaded": True,
                }
        except (DriverError, ImageServiceError) as exc:
            LOG.warning("snapshot of %s to %s failed: %s", request.uuid, request.image_id, exc)
            outcome["error"] = str(exc)
        await self._report(request.uuid, request.event, **outcome)

    async def rebuild(self, request: m.RebuildInstance) -> None:
        spec = request.instance
        outcome: dict[str, Any] = {"expected_task_state": TaskState.REBUILDING}
        try:
            await self.driver.destroy(spec.uuid)
            await self.driver.spawn(spec)
            if request.stopped:
                await self.driver.power_off(spec.uuid)
            outcome |= {
                "vm_state": VmState.STOPPED if request.stopped else VmState.ACTIVE,
                "power_state": PowerState.SHUTDOWN if request.stopped else PowerState.RUNNING,
                "launched": True,
            }
        except DriverError as exc:
            outcome |= {"vm_state": VmState.ERROR, "error": str(exc)}
        await self._report(spec.uuid, REBUILD_EVENT, **outcome)

    async def finish_resize(self, request: m.FinishResize) -> None:
        spec = request.instance
        outcome: dict[str, Any] = {
            "expected_task_state": TaskState.RESIZE_MIGRATED,
            "migration_uuid": request.migration_uuid,
        }
        try:
            if self.driver.guest(spec.uuid) is None:
                await self.driver.spawn(spec)
            else:
                await self.driver.resize(spec.uuid, spec.flavor)
            outcome |= {
                "vm_state": VmState.RESIZED,
                "power_state": await self._settle_power(spec.uuid, request.stopped),
                "migration_status": "finished",
            }
        except DriverError as exc:
            outcome |= {"migration_status": "error", "error": str(exc)}
        await self._report(spec.uuid, FINISH_RESIZE_EVENT, **outcome)

    async def revert_resize(self, request: m.RevertResize) -> None:
        spec = request.instance
        outcome: dict[str, Any] = {
            "expected_task_state": TaskState.RESIZE_REVERTING,
            "migration_uuid": request.migration_uuid,
        }
        try:
            if request.came_from_elsewhere:
                await self.driver.destroy(spec.uuid)
            else:
                await self.driver.resize(spec.uuid, spec.flavor)
            outcome |= {
                "vm_state": VmState.STOPPED if request.stopped else VmState.ACTIVE,
                "power_state": await self._settle_power(spec.uuid, request.stopped),
                "migration_status": "reverted",
            }
        except DriverError as exc:
            outcome |= {"migration_status": "error", "error": str(exc)}
        await self._report(spec.uuid, REVERT_RESIZE_EVENT, **outcome)

    async def _settle_power(self, uuid: str, stopped: bool) -> int:
        """Power a resized guest off again when its server was stopped; its power state."""
        if not stopped:
            return PowerState.RUNNING
        guest = self.driver.guest(uuid)
        if guest is not None and guest.power_state != PowerState.SHUTDOWN:
            await self.driver.power_off(uuid)
        return PowerState.SHUTDOWN

    async def diagnostics(self, request: m.GetDiagnostics) -> Message:
        return m.Diagnostics(data=self.driver.diagnostics(request.uuid))

    async def drop_guest(self, request: m.DropGuest) -> None:
        await self.driver.destroy(request.uuid)

    async def destroy(self, request: m.DestroyInstance) -> None:
        await self.driver.destroy(request.uuid)
        await self.conductor.instance_destroyed(request.uuid, self.host)

    async def console_output(self, request: m.ConsoleOutput) -> Message:
        text = await self.driver.console_output(request.uuid)
        if request.length is not None:  # Nova's tail: the last lines, newline-joined
            text = "\n".join(text.split("\n")[-request.length :]) if request.length > 0 else ""
        return m.ConsoleText(output=text)
