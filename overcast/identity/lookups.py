"""Fetching identity rows by id or name, with Keystone's "Could not find ..." errors."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import Conflict, NotFound
from overcast.identity import models

M = TypeVar("M", bound=models.Base)


async def get(session: AsyncSession, model: type[M], key: Any, kind: str) -> M:
    """The row of ``model`` with primary key ``key``.

    :raises NotFound: ``Could not find <kind>: <key>.``
    """
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"Could not find {kind}: {key}.")
    return row


async def find(session: AsyncSession, model: type[M], key: Any) -> M | None:
    return await session.get(model, key)


async def domain(session: AsyncSession, domain_id: str) -> models.Project:
    row = await session.get(models.Project, domain_id)
    if row is None or not row.is_domain:
        raise NotFound(f"Could not find domain: {domain_id}.")
    return row


async def project(session: AsyncSession, project_id: str) -> models.Project:
    row = await session.get(models.Project, project_id)
    if row is None:
        raise NotFound(f"Could not find project: {project_id}.")
    return row


async def user(session: AsyncSession, user_id: str) -> models.User:
    return await get(session, models.User, user_id, "user")


async def group(session: AsyncSession, group_id: str) -> models.Group:
    return await get(session, models.Group, group_id, "group")


async def role(session: AsyncSession, role_id: str) -> models.Role:
    return await get(session, models.Role, role_id, "role")


async def tags_of(session: AsyncSession, project_ids: list[str]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return tags
    rows = await session.execute(
        select(models.ProjectTag.project_id, models.ProjectTag.name).where(
            models.ProjectTag.project_id.in_(project_ids)
        )
    )
    for project_id, name in rows:
        tags[project_id].append(name)
    return tags


async def flush_or_conflict(session: AsyncSession, message: str) -> None:
    """Flush pending writes, turning a unique-constraint violation into a 409.

    :raises Conflict: with ``message`` when the flush breaks a unique constraint.
    """
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc
