"""Deleting identity rows together with everything that hangs off them.

Foreign keys cascade what they can (tags, passwords, memberships, implied
roles); assignments, credentials and the like refer to actors and targets of
several kinds, so they are removed here, and the tokens that depended on the
deleted rows are revoked.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.identity import models
from overcast.identity.tokens.provider import revocation


async def delete_users(session: AsyncSession, user_ids: Collection[str], now: datetime) -> None:
    if not user_ids:
        return
    ids = list(user_ids)
    await session.execute(delete(models.Assignment).where(models.Assignment.actor_id.in_(ids)))
    await session.execute(delete(models.Credential).where(models.Credential.user_id.in_(ids)))
    await session.execute(
        delete(models.ApplicationCredential).where(models.ApplicationCredential.user_id.in_(ids))
    )
    await session.execute(delete(models.AccessRule).where(models.AccessRule.user_id.in_(ids)))
    await session.execute(
        delete(models.Trust).where(
            or_(models.Trust.trustor_user_id.in_(ids), models.Trust.trustee_user_id.in_(ids))
        )
    )
    await session.execute(delete(models.User).where(models.User.id.in_(ids)))
    for user_id in ids:
        session.add(revocation(now, user_id=user_id))


async def delete_groups(session: AsyncSession, group_ids: Collection[str]) -> None:
    if not group_ids:
        return
    ids = list(group_ids)
    await session.execute(delete(models.Assignment).where(models.Assignment.actor_id.in_(ids)))
    await session.execute(delete(models.Group).where(models.Group.id.in_(ids)))


async def delete_projects(
    session: AsyncSession, project_ids: Collection[str], now: datetime
) -> None:
    if not project_ids:
        return
    ids = list(project_ids)
    await session.execute(delete(models.Assignment).where(models.Assignment.target_id.in_(ids)))
    await session.execute(
        delete(models.ApplicationCredential).where(models.ApplicationCredential.project_id.in_(ids))
    )
    await session.execute(
        delete(models.ProjectEndpoint).where(models.ProjectEndpoint.project_id.in_(ids))
    )
    await session.execute(
        delete(models.ProjectEndpointGroup).where(models.ProjectEndpointGroup.project_id.in_(ids))
    )
    await session.execute(delete(models.Project).where(models.Project.id.in_(ids)))
    for project_id in ids:
        session.add(revocation(now, project_id=project_id))


async def delete_domain(session: AsyncSession, domain_id: str, now: datetime) -> None:
    """The domain, its projects, users, groups, domain-specific roles and configuration."""
    projects = set(
        await session.scalars(
            select(models.Project.id).where(models.Project.domain_id == domain_id)
        )
    )
    users = set(
        await session.scalars(select(models.User.id).where(models.User.domain_id == domain_id))
    )
    groups = set(
        await session.scalars(select(models.Group.id).where(models.Group.domain_id == domain_id))
    )
    await delete_projects(session, projects, now)
    await delete_users(session, users, now)
    await delete_groups(session, groups)
    await session.execute(delete(models.Role).where(models.Role.domain_id == domain_id))
    await session.execute(
        delete(models.DomainConfig).where(models.DomainConfig.domain_id == domain_id)
    )
    await delete_projects(session, [domain_id], now)
    session.add(revocation(now, domain_id=domain_id))
