"""Metadata definitions in the database: namespaces and what they hold.

A private namespace is seen only by its owner and by admins; a protected one
(and what it holds) cannot be deleted until it is unprotected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import Conflict, Forbidden, NotFound
from overcast.common.auth.context import RequestContext
from overcast.image.access import Caller
from overcast.image.models import (
    MetadefObject,
    MetadefProperty,
    MetadefTag,
    Namespace,
    ResourceType,
    ResourceTypeAssociation,
)

Item = TypeVar("Item", MetadefObject, MetadefProperty, MetadefTag)
KINDS: dict[type[Any], str] = {
    MetadefObject: "object",
    MetadefProperty: "property",
    MetadefTag: "tag",
}


def can_see(caller: Caller, namespace: Namespace) -> bool:
    return (
        caller.is_admin
        or namespace.visibility == "public"
        or (namespace.owner == caller.project_id)
    )


async def find_namespace(
    session: AsyncSession, context: RequestContext, name: str, rule: str
) -> Namespace:
    """The namespace called ``name``, if the caller may see it and do ``rule``.

    :raises NotFound: when there is none the caller may see.
    :raises Forbidden: when policy denies ``rule``.
    """
    caller = Caller.of(context)
    namespace = await session.scalar(select(Namespace).where(Namespace.namespace == name))
    if namespace is None or not can_see(caller, namespace):
        raise NotFound(f"Metadata definition namespace={name} was not found.")
    context.enforce(rule, {"project_id": caller.project_id, "owner": namespace.owner})
    return namespace


def unprotected(namespace: Namespace, what: str) -> None:
    """:raises Forbidden: when the namespace is protected."""
    if namespace.protected:
        raise Forbidden(
            f"{what} in namespace {namespace.namespace} cannot be deleted: "
            "the namespace is protected."
        )


async def name_free(session: AsyncSession, name: str, current: Namespace | None = None) -> None:
    found = await session.scalar(select(Namespace).where(Namespace.namespace == name))
    if found is not None and found is not current:
        raise Conflict(f"A metadata definition namespace with name={name} already exists.")


async def items(session: AsyncSession, kind: type[Item], namespace: Namespace) -> list[Item]:
    return list(
        await session.scalars(
            select(kind).where(kind.namespace_id == namespace.id).order_by(kind.name)
        )
    )


async def find_item(
    session: AsyncSession, kind: type[Item], namespace: Namespace, name: str
) -> Item:
    """:raises NotFound: when the namespace holds no such item."""
    found = await session.scalar(
        select(kind).where(kind.namespace_id == namespace.id, kind.name == name)
    )
    if found is None:
        raise NotFound(
            f"Metadata definition {KINDS[kind]} not found: {name} in namespace "
            f"{namespace.namespace}."
        )
    return found


async def add_item(
    session: AsyncSession, kind: type[Item], namespace: Namespace, now: datetime, **values: Any
) -> Item:
    """:raises Conflict: when an item of that name exists in the namespace."""
    await find_free(session, kind, namespace, values["name"])
    item = kind(namespace_id=namespace.id, created_at=now, updated_at=now, **values)
    session.add(item)
    await session.flush()
    return item


async def rename_item(
    session: AsyncSession, kind: type[Item], namespace: Namespace, item: Item, name: str
) -> None:
    """:raises Conflict: when another item already has ``name``."""
    if name != item.name:
        await find_free(session, kind, namespace, name)
        item.name = name


async def find_free(
    session: AsyncSession, kind: type[Item], namespace: Namespace, name: str
) -> None:
    taken = await session.scalar(
        select(kind).where(kind.namespace_id == namespace.id, kind.name == name)
    )
    if taken is not None:
        raise Conflict(
            f"A metadata definition {KINDS[kind]} with name={name} already exists in "
            f"namespace={namespace.namespace}."
        )


async def resource_type(session: AsyncSession, name: str, now: datetime) -> ResourceType:
    """The resource type called ``name``, created when it is new."""
    found = await session.scalar(select(ResourceType).where(ResourceType.name == name))
    if found is None:
        found = ResourceType(name=name, protected=False, created_at=now, updated_at=now)
        session.add(found)
        await session.flush()
    return found


async def associations(
    session: AsyncSession, namespace: Namespace
) -> list[tuple[ResourceTypeAssociation, ResourceType]]:
    rows = await session.execute(
        select(ResourceTypeAssociation, ResourceType)
        .join(ResourceType, ResourceType.id == ResourceTypeAssociation.resource_type_id)
        .where(ResourceTypeAssociation.namespace_id == namespace.id)
        .order_by(ResourceType.name)
    )
    return [(row[0], row[1]) for row in rows]


async def associate(
    session: AsyncSession, namespace: Namespace, spec: dict[str, Any], now: datetime
) -> tuple[ResourceTypeAssociation, ResourceType]:
    """:raises Conflict: when the namespace is already associated with that type."""
    kind = await resource_type(session, spec["name"], now)
    if await session.get(ResourceTypeAssociation, (namespace.id, kind.id)) is not None:
        raise Conflict(
            f"The metadata definition resource-type association of resource-type={kind.name} "
            f"to namespace={namespace.namespace}, already exists."
        )
    association = ResourceTypeAssociation(
        namespace_id=namespace.id,
        resource_type_id=kind.id,
        prefix=spec.get("prefix"),
        properties_target=spec.get("properties_target"),
        created_at=now,
        updated_at=now,
    )
    session.add(association)
    await session.flush()
    return association, kind


async def delete_namespace(session: AsyncSession, namespace: Namespace) -> None:
    """Delete the namespace and everything it holds."""
    for kind in (MetadefObject, MetadefProperty, MetadefTag, ResourceTypeAssociation):
        await session.execute(delete(kind).where(kind.namespace_id == namespace.id))
    await session.execute(delete(Namespace).where(Namespace.id == namespace.id))
