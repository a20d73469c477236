"""The conductor service on the bus: builds, agent registration and heartbeats, outcomes.

Every conductor process serves topic ``conductor``; any of them may take any
message, since all they keep is in the database. Each also watches heartbeats
and tells the schedulers when a compute host goes down or comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from overcast.common.bus import Consumer, Endpoint
from overcast.compute import instances, placement
from overcast.compute import messages as m
from overcast.compute.conductor import nodes
from overcast.compute.conductor.build import Builder
from overcast.compute.conductor.resize import Resizer, settle
from overcast.compute.rpcapi import AgentClient
from overcast.compute.service import ComputeService
from overcast.scheduler.manager import SchedulerClient

LOG = logging.getLogger(__name__)


class Conductor:
    def __init__(self, service: ComputeService, host: str) -> None:
        self.service = service
        self.host = host
        """Where this conductor (and its scheduler) run, as ``os-services`` lists them."""
        self.scheduler = SchedulerClient(service.bus)
        self.builder = Builder(service, self.scheduler, AgentClient(service.bus))
        self.endpoint = Endpoint()
        self.resizer = Resizer(service, self.scheduler, AgentClient(service.bus))
        self.endpoint.on(m.BuildInstances)(self.build_instances)
        self.endpoint.on(m.ResizeInstance)(self.resizer.prepare)
        self.endpoint.on(m.RegisterNode)(self.register_node)
        self.endpoint.on(m.Heartbeat)(self.heartbeat)
        self.endpoint.on(m.InstanceUpdate)(self.instance_update)
        self.endpoint.on(m.BuildFailed)(self.build_failed)
        self.endpoint.on(m.InstanceDestroyed)(self.instance_destroyed)
        self._consumer: Consumer | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._known_up: dict[str, bool] = {}

    async def start(self) -> None:
        """Serve the conductor topic, tell the schedulers of every host, watch heartbeats."""
        self._consumer = await self.service.bus.serve(m.CONDUCTOR, self.endpoint)
        await self._alive()
        await self.report_all()
        self._monitor = asyncio.create_task(self._watch(), name="conductor-monitor")

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        if self._consumer is not None:
            await self._consumer.stop()

    async def _alive(self) -> None:
        """Record this process's control services as up (they heartbeat with the monitor)."""
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            for binary, topic in nodes.CONTROL_BINARIES.items():
                await nodes.seen(session, self.host, binary, topic, now)

    async def report_all(self) -> None:
        """Send every host's state to the schedulers; note which ones changed up or down."""
        async with self.service.db.read() as session:
            reports = await nodes.all_reports(session, self.service.conf, self.service.clock.now())
        for report in reports:
            if self._known_up.get(report.name) != report.up:
                if report.name in self._known_up:
                    LOG.warning("compute host %s is %s", report.name, "up" if report.up else "down")
                self._known_up[report.name] = report.up
                await self.scheduler.report(report)

    async def _watch(self) -> None:
        interval = max(0.2, self.service.conf.service_down_time / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._alive()
                await self.report_all()
            except Exception:
                LOG.exception("checking compute hosts failed")

    async def build_instances(self, request: m.BuildInstances) -> None:
        await self.builder.build(request.instance_uuids, request.token)

    async def register_node(self, request: m.RegisterNode) -> m.Registered:
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            service, node = await nodes.register(session, self.service.conf, request, now)
            report = await nodes.host_report(session, self.service.conf, node, service, now)
        self._known_up[request.host] = True
        await self.scheduler.report(report)
        return m.Registered(service_uuid=service.uuid, node_uuid=node.uuid)

    async def heartbeat(self, beat: m.Heartbeat) -> None:
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            service = await nodes.service_by_host(session, beat.host)
            if service is None:
                return
            service.last_seen_up = now
            node = await placement.node_by_host(session, beat.host)
            report = None
            if node is not None and not self._known_up.get(beat.host, False):
                report = await nodes.host_report(session, self.service.conf, node, service, now)
        if report is not None:
            self._known_up[beat.host] = True
            LOG.warning("compute host %s is up", beat.host)
            await self.scheduler.report(report)

    async def instance_update(self, update: m.InstanceUpdate) -> None:
        now = self.service.clock.now()
        changed: list[str] = []
        async with self.service.db.write() as session:
            instance = await instances.live_snapshot(session, update.uuid)
            if instance is None or instance.host != update.host:
                return
            if update.expected_task_state and instance.task_state != update.expected_task_state:
                return
            changes: dict[str, Any] = {"task_state": update.task_state, "updated_at": now}
            if update.vm_state is not None:
                changes["vm_state"] = update.vm_state
            if update.power_state is not None:
                changes["power_state"] = update.power_state
            if update.launched:
                changes["launched_at"] = now
                kept = {
                    k: v
                    for k, v in instance.system_metadata.items()
                    if not k.startswith("shelved_")
                }
                if kept != instance.system_metadata:
                    changes["system_metadata"] = kept
            if update.offloaded:
                await placement.release(session, instance.uuid)
                changed.append(update.host)
                changes["host"] = changes["node"] = None
            if update.migration_uuid:  # a resize step: settled on the instance as the ORM has it
                tracked = await instances.live_instance(session, update.uuid)
                if tracked is None:  # read in this same transaction: cannot happen
                    return
                for name, value in changes.items():
                    setattr(tracked, name, value)
                changed += await settle(session, self.service, tracked, update)
            else:
                await instances.set_columns(session, update.uuid, **changes)
            result = "Error" if update.error else "Success"
            await instances.record_event(
                session,
                update.uuid,
                update.event,
                now,
                host=update.host,
                result=result,
                traceback=update.error,
            )
            reports = [await nodes.report_of_host(session, self.service, h) for h in changed]
        await self.scheduler.report(*reports)

    async def build_failed(self, failure: m.BuildFailed) -> None:
        async with self.service.db.write() as session:
            await instances.record_event(
                session,
                failure.uuid,
                m.BUILD_EVENT,
                self.service.clock.now(),
                host=failure.host,
                result="Error",
                traceback=failure.reason,
            )
        await self.builder.reschedule(failure.uuid, failure.host, failure.reason)

    async def instance_destroyed(self, message: m.InstanceDestroyed) -> None:
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            instance = await instances.live_instance(session, message.uuid)
            if instance is None:
                return
            released = await instances.mark_deleted(session, instance, now)
            report = await nodes.usage_of(session, released)
        await self.scheduler.report(report)
