"""Building instances: schedule, claim, spawn; reschedule on failure, or ERROR with a fault.

The narrated path of one request::

    API: instances recorded (building/scheduling), BuildInstances cast
    select_destinations  -> a host per instance (counted as taken by that scheduler)
    claim                -> allocations in the database, atomically; a lost race
                            gives the resources back and asks for another host
    spawn                -> cast to the host's agent; it reports ACTIVE, or a failure
    build_failed         -> allocations released, another host tried (up to
                            max_attempts), else ERROR with the last reason as fault
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from overcast.compute import flavors, groups, instances, placement
from overcast.compute.conductor import nodes
from overcast.compute.messages import InstanceSpec
from overcast.compute.models import Instance
from overcast.compute.rpcapi import AgentClient
from overcast.compute.service import ComputeService
from overcast.compute.states import TaskState, VmState
from overcast.scheduler.index import NoValidHost
from overcast.scheduler.manager import SchedulerClient
from overcast.scheduler.messages import Destinations, HostUsage, SelectDestinations

LOG = logging.getLogger(__name__)
SCHEDULE_EVENT = "conductor_schedule_and_build_instances"
NO_VALID_HOST = "No valid host was found. "
WAITING = (TaskState.SCHEDULING, TaskState.UNSHELVING)
"""Task states of instances waiting for a host: new ones, and shelved ones coming back."""


@dataclass
class Builder:
    service: ComputeService
    scheduler: SchedulerClient
    agents: AgentClient

    async def build(self, uuids: list[str], token: str = "") -> None:
        """Schedule, claim and spawn ``uuids``; ``token`` deletes an unshelved one's image."""
        async with self.service.db.read() as session:
            found = await instances.live_instances(session, uuids)
            waiting = [i for i in found if i.task_state in WAITING]
            if not waiting:
                return
            metadata = await instances.metadata_of_many(session, [i.uuid for i in waiting])
            group = await groups.scheduling_of(session, waiting[0].request_spec.get("group"))
        try:
            chosen = await self.scheduler.select_destinations(
                self._request(waiting[0], len(waiting), group=group)
            )
        except NoValidHost as exc:
            for instance in waiting:
                await self._give_up(instance.uuid, f"{NO_VALID_HOST}{exc}".strip())
            return
        resources = flavors.resources(waiting[0].flavor)
        for instance, host in zip(waiting, chosen.hosts, strict=True):
            spec = spec_of(instance, metadata.get(instance.uuid, {}))
            await self._claim_and_spawn(instance, spec, host, chosen, resources, token)

    def _request(
        self,
        instance: Instance,
        count: int,
        ignore: list[str] | None = None,
        group: dict[str, Any] | None = None,
    ) -> SelectDestinations:
        """The scheduler request for ``instance`` (and ``count - 1`` like it).

        ``group`` is its server group's policy and where the members run now.
        """
        spec = instance.request_spec
        return SelectDestinations(
            resources=flavors.resources(instance.flavor),
            count=count,
            availability_zone=spec.get("availability_zone"),
            ignore_hosts=ignore or [],
            force_hosts=[spec["force_host"]] if spec.get("force_host") else [],
            **(group or {}),
        )

    async def _claim_and_spawn(
        self,
        instance: Instance,
        spec: InstanceSpec,
        host: str,
        chosen: Destinations,
        resources: dict[str, int],
        token: str = "",
    ) -> None:
        """Claim ``host``'s resources for ``instance`` (as read before scheduling) and spawn it.

        The write transaction reads nothing of the instance: its UPDATE applies only
        while the instance still waits for a host, so a delete meanwhile makes the
        claim fail. The transaction is short, and so is the time it holds SQLite's
        one write lock, for which other worker processes may be waiting.
        """
        uuid = instance.uuid
        now = self.service.clock.now()
        try:
            async with self.service.db.write() as session:
                provider = await placement.provider_of(session, host)
                if provider is None:
                    raise placement.ClaimFailed(f"{host} has no resource provider")
                zone = chosen.zones.get(host) or await nodes.zone_of_host(
                    session, self.service.conf, host
                )
                claimed = await instances.set_columns_if_waiting(
                    session,
                    uuid,
                    WAITING,
                    host=host,
                    node=provider.hypervisor_hostname,
                    availability_zone=zone,
                    task_state=TaskState.SPAWNING,
                    updated_at=now,
                )
                if not claimed:
                    raise placement.ClaimFailed(f"{uuid} no longer waits for {host}")
                used = await placement.claim(session, uuid, provider.id, resources)
                await instances.record_event(session, uuid, SCHEDULE_EVENT, now, host=host)
        except placement.ClaimFailed as exc:
            LOG.info("claim on %s failed: %s", host, exc)
            await self.scheduler.release(chosen, host, resources)
            await self.reschedule(uuid, host, str(exc))
            return
        await self.scheduler.report(HostUsage(name=host, used=used))
        unshelving = bool(instance.system_metadata.get("shelved_image_id"))
        attempt = len(instance.request_spec.get("tried_hosts", [])) + 1
        # a reschedule has no token: the shelved image then stays, for its owner to delete
        await self.agents.spawn(host, spec, attempt, token if unshelving else "")

    async def reschedule(self, uuid: str, failed_host: str, reason: str) -> None:
        """Try another host for an instance whose claim or spawn failed on ``failed_host``.

        Every failed attempt adds its host to the request's ``tried_hosts``, so their
        number is the number of attempts made so far.
        """
        async with self.service.db.write() as session:
            instance = await instances.live_instance(session, uuid)
            if instance is None:
                return
            released = await placement.release(session, uuid)
            spec = dict(instance.request_spec)
            tried = [*spec.get("tried_hosts", []), failed_host]
            spec["tried_hosts"] = tried
            instance.request_spec = spec
            instance.host = instance.node = None
            instance.task_state = TaskState.SCHEDULING
            report = await nodes.usage_of(session, released)
            group = await groups.scheduling_of(session, spec.get("group"))
        await self.scheduler.report(report)
        if len(tried) >= self.service.conf.max_attempts:
            message = (
                "Exceeded maximum number of retries. Exceeded max scheduling attempts "
                f"{self.service.conf.max_attempts} for instance {uuid}. Last exception: {reason}"
            )
            await self._give_up(uuid, message)
            return
        try:
            chosen = await self.scheduler.select_destinations(
                self._request(instance, 1, ignore=tried, group=group)
            )
        except NoValidHost as exc:
            await self._give_up(uuid, f"{NO_VALID_HOST}{exc}".strip())
            return
        async with self.service.db.read() as session:
            metadata = await instances.metadata_of(session, uuid)
        resources = flavors.resources(instance.flavor)
        await self._claim_and_spawn(
            instance, spec_of(instance, metadata), chosen.hosts[0], chosen, resources
        )

    async def _give_up(self, uuid: str, message: str) -> None:
        now = self.service.clock.now()
        async with self.service.db.write() as session:
            instance = await instances.live_instance(session, uuid)
            if instance is None:
                return
            instance.vm_state = VmState.ERROR
            instance.task_state = None
            instance.updated_at = now
            instances.record_fault(session, instance, message, now, details=message)
            await instances.record_event(
                session, uuid, SCHEDULE_EVENT, now, host=None, result="Error", traceback=message
            )


def spec_of(instance: Instance, metadata: dict[str, str] | None = None) -> InstanceSpec:
    """What the agent needs to run ``instance``; an unshelved one boots its shelved image.

    ``metadata`` is the instance's, when read apart; else it must be loaded in ``instance``.
    """
    shelved = instance.system_metadata.get("shelved_image_id")
    return InstanceSpec(
        uuid=instance.uuid,
        name=instance.display_name,
        flavor=instance.flavor,
        image={**instance.image, "id": shelved} if shelved else instance.image,
        key_data=instance.key_data,
        user_data=instance.user_data,
        metadata=instance.metadata_dict if metadata is None else metadata,
    )
