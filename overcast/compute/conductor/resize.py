"""Resizing: a new host (maybe the same one) for a new flavor, and the outcomes of each step.

The narrated path::

    API: migration recorded (pre-migrating), instance resize_prep, new flavor set,
         the old one kept in old_flavor; ResizeInstance cast
    prepare   -> the scheduler picks a host for the new flavor; the instance's
                 allocations move to the migration (the source keeps them until
                 confirm or revert), new ones are claimed for the instance there
    agent     -> FinishResize: the guest runs with the new flavor; VERIFY_RESIZE
    confirm   -> (API) the migration's allocations go; the source drops its guest
    revert    -> agent RevertResize; then the instance's allocations go, the
                 migration's come back, and so do the old flavor and host
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from overcast.compute import flavors, groups, instances, placement
from overcast.compute import messages as m
from overcast.compute.conductor import nodes
from overcast.compute.conductor.build import NO_VALID_HOST, spec_of
from overcast.compute.models import Instance, Migration
from overcast.compute.rpcapi import AgentClient
from overcast.compute.service import ComputeService
from overcast.compute.states import TaskState, VmState
from overcast.scheduler.index import NoValidHost
from overcast.scheduler.manager import SchedulerClient
from overcast.scheduler.messages import SelectDestinations

PREP_EVENT = "compute_prep_resize"


@dataclass
class Resizer:
    service: ComputeService
    scheduler: SchedulerClient
    agents: AgentClient

    async def prepare(self, request: m.ResizeInstance) -> None:
        async with self.service.db.read() as session:
            instance = await instances.live_instance(session, request.uuid)
            if instance is None or instance.task_state != TaskState.RESIZE_PREP:
                return
            group = await groups.scheduling_of(
                session, instance.request_spec.get("group"), but=instance.uuid
            )
            migration = await instances.migration_by_uuid(session, request.migration_uuid)
        resources = flavors.resources(instance.flavor)
        ask = SelectDestinations(
            resources=resources,
            availability_zone=instance.availability_zone,
            **_placement_of(migration),
            **group,
        )
        try:
            chosen = await self.scheduler.select_destinations(ask)
        except NoValidHost as exc:
            await self._failed(request, f"{NO_VALID_HOST}{exc}".strip())
            return
        host = chosen.hosts[0]
        try:
            async with self.service.db.write() as session:
                found = await self._claim(session, request, host, resources)
                if found is None:
                    raise placement.ClaimFailed(f"{request.uuid} is no longer resizing")
                spec, source, stopped = found
                reports = [
                    await nodes.report_of_host(session, self.service, h) for h in {host, source}
                ]
        except placement.ClaimFailed as exc:
            await self.scheduler.release(chosen, host, resources)
            await self._failed(request, f"{NO_VALID_HOST}{exc}".strip())
            return
        await self.scheduler.report(*reports)
        finish = m.FinishResize(
            instance=spec, migration_uuid=request.migration_uuid, stopped=stopped
        )
        await self.agents.send(host, finish)

    async def _claim(
        self, session: AsyncSession, request: m.ResizeInstance, host: str, resources: dict[str, int]
    ) -> tuple[m.InstanceSpec, str, bool] | None:
        """Move the instance's allocations to its migration and claim new ones on ``host``.

        Returns what the agent needs, the source host and whether the server is stopped;
        None when the resize is off.
        """
        instance = await instances.live_instance(session, request.uuid, spec=True)
        migration = await instances.migration_by_uuid(session, request.migration_uuid)
        provider = await placement.provider_of(session, host)
        if (
            instance is None
            or migration is None
            or provider is None
            or instance.task_state != TaskState.RESIZE_PREP
        ):
            return None
        await placement.move(session, instance.uuid, migration.uuid)
        await placement.claim(session, instance.uuid, provider.id, resources)
        now = self.service.clock.now()
        migration.dest_compute, migration.dest_node = host, provider.hypervisor_hostname
        migration.status = "migrating"
        migration.updated_at = now
        instance.host, instance.node = host, provider.hypervisor_hostname
        instance.task_state = TaskState.RESIZE_MIGRATED
        instance.updated_at = now
        await instances.record_event(session, instance.uuid, PREP_EVENT, now, host=host)
        stopped = instance.vm_state == VmState.STOPPED
        return spec_of(instance), migration.source_compute or host, stopped

    async def _failed(self, request: m.ResizeInstance, message: str) -> None:
        """No host for the new flavor: the server keeps its old one, with a fault saying why."""
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            instance = await instances.live_instance(session, request.uuid)
            migration = await instances.migration_by_uuid(session, request.migration_uuid)
            if instance is None or migration is None:
                return
            if instance.old_flavor:
                instances.set_flavor(instance, instance.old_flavor)
                instance.old_flavor = None
            instance.task_state = None
            instance.updated_at = now
            migration.status = "error"
            migration.updated_at = now
            instances.record_fault(session, instance, message, now, code=400, details=message)
            await instances.record_event(
                session,
                instance.uuid,
                PREP_EVENT,
                now,
                host=None,
                result="Error",
                traceback=message,
            )


def _placement_of(migration: Migration | None) -> dict[str, list[str]]:
    """A cold migration leaves its source host, for the one the admin named if any."""
    if migration is None or migration.migration_type != "migration":
        return {}
    wanted = [migration.dest_compute] if migration.dest_compute else []
    return {"ignore_hosts": [migration.source_compute or ""], "force_hosts": wanted}


async def settle(
    session: AsyncSession,
    service: ComputeService,
    instance: Instance,
    update: m.InstanceUpdate,
) -> list[str]:
    """Record a resize step an agent finished; returns the hosts whose usage changed."""
    migration = await instances.migration_by_uuid(session, update.migration_uuid or "")
    if migration is None or update.migration_status is None:
        return []
    migration.status = update.migration_status
    migration.updated_at = service.clock.now()
    if update.migration_status != "reverted":
        return []
    await placement.release(session, instance.uuid)
    await placement.move(session, migration.uuid, instance.uuid)
    instance.host, instance.node = migration.source_compute, migration.source_node
    if instance.old_flavor:
        instances.set_flavor(instance, instance.old_flavor)
    instance.old_flavor = None
    return [h for h in {migration.source_compute, migration.dest_compute} if h]
