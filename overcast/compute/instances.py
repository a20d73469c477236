"""Database steps on instances that the API and the conductor share: faults, actions, deletes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload, selectinload

from overcast.compute import placement
from overcast.compute.models import (
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    Migration,
    ServerGroupMember,
)
from overcast.compute.states import VmState


def set_flavor(instance: Instance, flavor: dict[str, Any]) -> None:
    """Give the instance ``flavor`` (a snapshot), with the columns quotas count."""
    instance.flavor = flavor
    instance.vcpus = int(flavor["vcpus"])
    instance.memory_mb = int(flavor["memory_mb"])
    instance.root_gb = int(flavor["root_gb"])


def _loading(spec: bool) -> list[Any]:
    """What the conductor loads of an instance: its metadata only to spawn it, never tags."""
    metadata = selectinload(Instance.metadata_items) if spec else raiseload(Instance.metadata_items)
    return [metadata, raiseload(Instance.tags)]


async def live_instance(session: AsyncSession, uuid: str, *, spec: bool = False) -> Instance | None:
    """The instance with this uuid, unless it is deleted (with its metadata when ``spec``)."""
    instance = await session.get(Instance, uuid, options=_loading(spec))
    if instance is None or instance.deleted:
        return None
    return instance


async def live_instances(session: AsyncSession, uuids: list[str]) -> list[Instance]:
    """The instances of ``uuids`` that are not deleted, in that order, in one query."""
    found = {
        i.uuid: i
        for i in await session.scalars(
            select(Instance)
            .where(Instance.uuid.in_(uuids), Instance.deleted.is_(False))
            .options(*_loading(False))
        )
    }
    return [found[u] for u in uuids if u in found]


def record_fault(
    session: AsyncSession,
    instance: Instance,
    message: str,
    now: datetime,
    *,
    code: int = 500,
    details: str = "",
    host: str | None = None,
) -> None:
    session.add(
        InstanceFault(
            instance_uuid=instance.uuid,
            code=code,
            message=message[:255],
            details=details,
            host=host,
            created_at=now,
        )
    )


def start_action(
    session: AsyncSession,
    instance: Instance,
    action: str,
    request_id: str,
    now: datetime,
    *,
    user_id: str | None,
    project_id: str | None,
) -> InstanceAction:
    record = InstanceAction(
        instance_uuid=instance.uuid,
        action=action,
        request_id=request_id,
        user_id=user_id,
        project_id=project_id,
        start_time=now,
        updated_at=now,
        events=[],
    )
    session.add(record)
    return record


async def latest_action_id(session: AsyncSession, uuid: str) -> int | None:
    found: int | None = await session.scalar(
        select(InstanceAction.id)
        .where(InstanceAction.instance_uuid == uuid)
        .order_by(InstanceAction.id.desc())
        .limit(1)
    )
    return found


async def record_event(
    session: AsyncSession,
    uuid: str,
    event: str,
    now: datetime,
    *,
    host: str | None,
    result: str | None = "Success",
    traceback: str | None = None,
    started: datetime | None = None,
) -> None:
    """An event of the instance's latest action, finished now (or started, with no result).

    Two statements, neither of which loads the action: the event is inserted from
    a select of the latest action's id (nothing, when the instance has no action),
    and that action is updated by the same id.
    """
    latest = (
        select(InstanceAction.id)
        .where(InstanceAction.instance_uuid == uuid)
        .order_by(InstanceAction.id.desc())
        .limit(1)
    )
    columns = InstanceActionEvent.__table__.c
    values = {
        "event": event,
        "result": result,
        "traceback": traceback,
        "host": host,
        "start_time": started or now,
        "finish_time": now if result is not None else None,
    }
    await session.execute(
        insert(InstanceActionEvent).from_select(
            ["action_id", *values],
            latest.add_columns(*(literal(v, columns[k].type) for k, v in values.items())),
        )
    )
    changes: dict[str, Any] = {"updated_at": now}
    if result == "Error":
        changes["message"] = "Error"
    if result is not None:
        changes["finish_time"] = now
    await session.execute(
        update(InstanceAction)
        .where(InstanceAction.id == latest.scalar_subquery())
        .values(**changes)
        .execution_options(synchronize_session=False)
    )


async def mark_deleted(
    session: AsyncSession, instance: Instance, now: datetime
) -> placement.Released | None:
    """Delete ``instance`` for good; returns the provider and resources it gave back."""
    instance.vm_state = VmState.DELETED
    instance.task_state = None
    instance.deleted = True
    instance.deleted_at = now
    instance.terminated_at = now
    instance.updated_at = now
    await session.execute(
        delete(ServerGroupMember).where(ServerGroupMember.instance_uuid == instance.uuid)
    )
    return await placement.release(session, instance.uuid)


async def migration_by_uuid(session: AsyncSession, uuid: str) -> Migration | None:
    found: Migration | None = await session.scalar(select(Migration).where(Migration.uuid == uuid))
    return found


async def latest_migration(session: AsyncSession, uuid: str, status: str) -> Migration | None:
    """The instance's newest migration in ``status``."""
    found: Migration | None = await session.scalar(
        select(Migration)
        .where(Migration.instance_uuid == uuid, Migration.status == status)
        .order_by(Migration.id.desc())
        .limit(1)
    )
    return found
