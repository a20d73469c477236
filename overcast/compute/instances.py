"""Database steps on instances that the API and the conductor share: faults, actions, deletes."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, Update, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload, selectinload

from overcast.common.db import table_of
from overcast.compute import placement
from overcast.compute.models import (
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    InstanceMetadata,
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


def _live(spec: bool) -> Select[Instance]:
    return (
        select(Instance)
        .where(Instance.uuid == bindparam("uuid"), Instance.deleted.is_(False))
        .options(*_loading(spec))
    )


_LIVE = {spec: _live(spec) for spec in (False, True)}
"""Built once: a statement built per call spent more on its cache key than on the read."""

_LIVE_MANY = (
    select(Instance)
    .where(Instance.uuid.in_(bindparam("uuids", expanding=True)), Instance.deleted.is_(False))
    .options(*_loading(False))
)

_METADATA_ITEMS = table_of(InstanceMetadata).c


async def live_instance(session: AsyncSession, uuid: str, *, spec: bool = False) -> Instance | None:
    """The instance with this uuid, unless it is deleted (with its metadata when ``spec``)."""
    found: Instance | None = await session.scalar(_LIVE[spec], {"uuid": uuid})
    return found


_INSTANCES = table_of(Instance)
_ROW = select(_INSTANCES).where(
    _INSTANCES.c.uuid == bindparam("b_uuid"), _INSTANCES.c.deleted.is_(False)
)


async def live_snapshot(session: AsyncSession, uuid: str) -> Instance | None:
    """The instance, unless deleted, read with one Core select into an instance no
    session tracks: change its row with :func:`set_columns`.

    The conductor's hot paths read this way: loading an instance through the ORM
    (identity map, attribute instrumentation, a flush to write it back) cost
    several times the SQL.
    """
    row = (await session.execute(_ROW, {"b_uuid": uuid})).mappings().first()
    return None if row is None else Instance(**row)


async def set_columns(session: AsyncSession, uuid: str, **values: Any) -> None:
    """Set columns of an instance's row (one Core UPDATE, compiled once per set of columns)."""
    await session.execute(
        _column_update(tuple(sorted(values))),
        {"b_uuid": uuid, **{f"v_{name}": value for name, value in values.items()}},
    )


@functools.cache
def _column_update(names: tuple[str, ...]) -> Update:
    return (
        update(_INSTANCES)
        .where(_INSTANCES.c.uuid == bindparam("b_uuid"))
        .values({name: bindparam(f"v_{name}", type_=_INSTANCES.c[name].type) for name in names})
    )


@functools.cache
def _claiming_update(names: tuple[str, ...], states: tuple[str, ...]) -> Update:
    return _column_update(names).where(
        _INSTANCES.c.deleted.is_(False), _INSTANCES.c.task_state.in_(states)
    )


async def set_columns_if_waiting(
    session: AsyncSession, uuid: str, states: tuple[str, ...], **values: Any
) -> bool:
    """:func:`set_columns` if the instance is not deleted and its task state is one of
    ``states``; whether it was (one conditional UPDATE: no read needed before it)."""
    result = await session.execute(
        _claiming_update(tuple(sorted(values)), states),
        {"b_uuid": uuid, **{f"v_{name}": value for name, value in values.items()}},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def metadata_of(session: AsyncSession, uuid: str) -> dict[str, str]:
    """An instance's metadata, read without loading it into the instance (one Core select)."""
    return (await metadata_of_many(session, [uuid])).get(uuid, {})


_METADATA_MANY = (
    select(_METADATA_ITEMS.instance_uuid, _METADATA_ITEMS.key, _METADATA_ITEMS.value)
    .where(_METADATA_ITEMS.instance_uuid.in_(bindparam("uuids", expanding=True)))
    .order_by(_METADATA_ITEMS.instance_uuid, _METADATA_ITEMS.key)
)


async def metadata_of_many(session: AsyncSession, uuids: list[str]) -> dict[str, dict[str, str]]:
    """The metadata of each of ``uuids`` (one Core select); instances without any are left out."""
    found: dict[str, dict[str, str]] = {}
    for row in await session.execute(_METADATA_MANY, {"uuids": uuids}):
        found.setdefault(row.instance_uuid, {})[row.key] = row.value
    return found


async def live_instances(session: AsyncSession, uuids: list[str]) -> list[Instance]:
    """The instances of ``uuids`` that are not deleted, in that order, in one query."""
    found = {i.uuid: i for i in await session.scalars(_LIVE_MANY, {"uuids": uuids})}
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


async def start_actions(
    session: AsyncSession,
    uuids: list[str],
    action: str,
    request_id: str,
    now: datetime,
    *,
    user_id: str | None,
    project_id: str | None,
) -> None:
    """The same action started on each of ``uuids`` (one Core insert, however many)."""
    row = {
        "action": action,
        "request_id": request_id,
        "user_id": user_id,
        "project_id": project_id,
        "start_time": now,
        "updated_at": now,
    }
    await session.execute(_INSERT_ACTION, [{**row, "instance_uuid": u} for u in uuids])


_INSERT_ACTION = insert(table_of(InstanceAction))


async def latest_action_id(session: AsyncSession, uuid: str) -> int | None:
    found: int | None = await session.scalar(
        select(InstanceAction.id)
        .where(InstanceAction.instance_uuid == uuid)
        .order_by(InstanceAction.id.desc())
        .limit(1)
    )
    return found


def _latest_action() -> Select[int]:
    return (
        select(InstanceAction.id)
        .where(InstanceAction.instance_uuid == bindparam("uuid"))
        .order_by(InstanceAction.id.desc())
        .limit(1)
    )


def _event_statements() -> tuple[Insert, dict[tuple[bool, bool], Update]]:
    """The two statements of :func:`record_event`, built once (SQLAlchemy then caches their SQL).

    The event is inserted from a select of the latest action's id (nothing, when
    the instance has no action); that action is updated by the same id, setting
    ``finish_time`` when the event finished and ``message`` when it failed. They
    are Core statements on the tables: the ORM would take a dict of parameters
    for a bulk insert.
    """
    columns = InstanceActionEvent.__table__.c
    names = ("event", "result", "traceback", "host", "start_time", "finish_time")
    values = [bindparam(name, type_=columns[name].type) for name in names]
    add_event = insert(table_of(InstanceActionEvent)).from_select(
        ["action_id", *names], _latest_action().add_columns(*values)
    )
    updates = {}
    for finished in (False, True):
        for failed in (False, True):
            changes: dict[str, Any] = {"updated_at": bindparam("now")}
            if finished:
                changes["finish_time"] = bindparam("now")
            if failed:
                changes["message"] = "Error"
            updates[finished, failed] = (
                update(table_of(InstanceAction))
                .where(InstanceAction.id == _latest_action().scalar_subquery())
                .values(**changes)
            )
    return add_event, updates


_ADD_EVENT, _FINISH_ACTION = _event_statements()


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

    Two statements, neither of which loads the action (see :func:`_event_statements`).
    """
    await session.execute(
        _ADD_EVENT,
        {
            "uuid": uuid,
            "event": event,
            "result": result,
            "traceback": traceback,
            "host": host,
            "start_time": started or now,
            "finish_time": now if result is not None else None,
        },
    )
    finish = _FINISH_ACTION[result is not None, result == "Error"]
    await session.execute(finish, {"uuid": uuid, "now": now})


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
