"""Finding the server a request names, as the caller may see it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute.models import Instance, InstanceFault, ServerGroupMember
from overcast.compute.states import FAULT_STATES


def target(instance: Instance) -> dict[str, str]:
    return {"project_id": instance.project_id, "user_id": instance.user_id}


async def visible_server(
    session: AsyncSession, ctx: RequestContext, uuid: str, rule: str = "os_compute_api:servers:show"
) -> Instance:
    """The live server ``uuid``, checked against ``rule``.

    :raises NotFound: when there is none, or the caller's project may not see it.
    :raises Forbidden: when the caller sees it but ``rule`` denies the action.
    """
    ctx.require_auth()
    instance = await session.get(Instance, uuid)
    if instance is None or instance.deleted:
        raise NotFound(f"Instance {uuid} could not be found.")
    if not ctx.can("os_compute_api:servers:show", target(instance)):
        raise NotFound(f"Instance {uuid} could not be found.")
    ctx.enforce(rule, target(instance))
    return instance


async def latest_fault(session: AsyncSession, uuid: str) -> InstanceFault | None:
    found: InstanceFault | None = await session.scalar(
        select(InstanceFault)
        .where(InstanceFault.instance_uuid == uuid)
        .order_by(InstanceFault.id.desc())
        .limit(1)
    )
    return found


async def latest_faults(
    session: AsyncSession, instances: list[Instance]
) -> dict[str, InstanceFault]:
    """The latest fault of each instance that shows one (ERROR or DELETED), in one query."""
    wanted = [i.uuid for i in instances if i.vm_state in FAULT_STATES]
    if not wanted:
        return {}
    faults = await session.scalars(
        select(InstanceFault)
        .where(InstanceFault.instance_uuid.in_(wanted))
        .order_by(InstanceFault.id)
    )
    return {fault.instance_uuid: fault for fault in faults}  # later ids overwrite earlier


async def group_of(session: AsyncSession, uuid: str) -> list[str]:
    return list(
        await session.scalars(
            select(ServerGroupMember.group_uuid).where(ServerGroupMember.instance_uuid == uuid)
        )
    )
