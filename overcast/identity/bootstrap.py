"""First-start bootstrap: the default domain, the standard roles, admin and demo, the catalog.

Running it again changes nothing that exists, except that catalog URLs follow
the configured ports and an explicitly configured password is (re)applied.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.ids import new_id
from overcast.identity import compliance, models
from overcast.identity.assignments import SYSTEM_TARGET, USER_PROJECT, USER_SYSTEM
from overcast.identity.models import GLOBAL_ROLE, ROOT_DOMAIN
from overcast.identity.service import IdentityService

DEFAULT_DOMAIN = "default"
INTERFACES = ("public", "internal", "admin")
ROLE_CHAIN = ("admin", "manager", "member", "reader")
"""Each role implies the next one."""
EXTRA_ROLES = ("service", "ResellerAdmin")


@dataclass(frozen=True)
class CatalogService:
    type: str
    name: str
    url: str


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    project: str
    role: str
    enforce_password: bool
    """Reset the password when it differs (it was configured, not generated)."""


async def bootstrap(
    service: IdentityService,
    *,
    admin: Account,
    demo: Account,
    region: str,
    catalog: Sequence[CatalogService],
) -> dict[str, str]:
    """Create what is missing; returns the ids of the admin and demo projects by name."""
    projects: dict[str, str] = {}
    async with service.writing() as session:
        await _domain(session, service)
        roles = {name: await _role(session, name) for name in (*ROLE_CHAIN, *EXTRA_ROLES)}
        for prior, implied in itertools.pairwise(ROLE_CHAIN):
            await _implies(session, roles[prior].id, roles[implied].id)
        for account in (admin, demo):
            project = await _project(session, service, account.project)
            projects[account.project] = project.id
            user = await _user(session, service, account)
            await _assign(session, USER_PROJECT, user.id, project.id, roles[account.role].id)
            if account is admin:
                await _assign(session, USER_SYSTEM, user.id, SYSTEM_TARGET, roles["admin"].id)
        await _region(session, region)
        for entry in catalog:
            await _service(session, entry, region)
    return projects


async def _domain(session: AsyncSession, service: IdentityService) -> None:
    if await session.get(models.Project, DEFAULT_DOMAIN) is None:
        session.add(
            models.Project(
                id=DEFAULT_DOMAIN,
                name="Default",
                domain_id=ROOT_DOMAIN,
                parent_id=None,
                is_domain=True,
                enabled=True,
                description="The default domain",
                extra={},
                options={},
                created_at=service.clock.now(),
            )
        )
        await session.flush()


async def _role(session: AsyncSession, name: str) -> models.Role:
    row = await session.scalar(
        select(models.Role).where(models.Role.name == name, models.Role.domain_id == GLOBAL_ROLE)
    )
    if row is None:
        row = models.Role(
            id=new_id(),
            name=name,
            domain_id=GLOBAL_ROLE,
            description=None,
            extra={},
            options={"immutable": True} if name in ROLE_CHAIN else {},
        )
        session.add(row)
        await session.flush()
    return row


async def _implies(session: AsyncSession, prior_id: str, implied_id: str) -> None:
    if await session.get(models.ImpliedRole, (prior_id, implied_id)) is None:
        session.add(models.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))


async def _project(session: AsyncSession, service: IdentityService, name: str) -> models.Project:
    row = await session.scalar(
        select(models.Project).where(
            models.Project.domain_id == DEFAULT_DOMAIN, models.Project.name == name
        )
    )
    if row is None:
        row = models.Project(
            id=new_id(),
            name=name,
            domain_id=DEFAULT_DOMAIN,
            parent_id=DEFAULT_DOMAIN,
            is_domain=False,
            enabled=True,
            description="Bootstrap project for initializing the cloud.",
            extra={},
            options={},
            created_at=service.clock.now(),
        )
        session.add(row)
        await session.flush()
    return row


async def _user(session: AsyncSession, service: IdentityService, account: Account) -> models.User:
    row = await session.scalar(
        select(models.User).where(
            models.User.domain_id == DEFAULT_DOMAIN, models.User.name == account.username
        )
    )
    if row is None:
        row = models.User(
            id=new_id(),
            domain_id=DEFAULT_DOMAIN,
            name=account.username,
            enabled=True,
            default_project_id=None,
            description=None,
            extra={},
            options={},
            created_at=service.clock.now(),
            failed_auth_count=0,
        )
        session.add(row)
        await session.flush()
        new = await compliance.prepare(service, account.password, user_id=None, self_service=False)
        await compliance.store(service, session, row, new, revoke=False)
    elif account.enforce_password:
        current = await session.scalar(
            select(models.Password)
            .where(models.Password.user_id == row.id)
            .order_by(models.Password.id.desc())
            .limit(1)
        )
        if current is None or not await service.hasher.verify(account.password, current.hash):
            new = await compliance.prepare(
                service, account.password, user_id=None, self_service=False
            )
            await compliance.store(service, session, row, new)
    return row


async def _assign(session: AsyncSession, kind: str, actor: str, target: str, role_id: str) -> None:
    key = (kind, actor, target, role_id, False)
    if await session.get(models.Assignment, key) is None:
        session.add(
            models.Assignment(
                kind=kind, actor_id=actor, target_id=target, role_id=role_id, inherited=False
            )
        )


async def _region(session: AsyncSession, region: str) -> None:
    if await session.get(models.Region, region) is None:
        session.add(models.Region(id=region, parent_region_id=None, description="", extra={}))
        await session.flush()


async def _service(session: AsyncSession, entry: CatalogService, region: str) -> None:
    row = await session.scalar(select(models.Service).where(models.Service.type == entry.type))
    if row is None:
        row = models.Service(id=new_id(), type=entry.type, enabled=True, extra={"name": entry.name})
        session.add(row)
        await session.flush()
    endpoints = {
        e.interface: e
        for e in await session.scalars(
            select(models.Endpoint).where(
                models.Endpoint.service_id == row.id, models.Endpoint.region_id == region
            )
        )
    }
    for interface in INTERFACES:
        endpoint = endpoints.get(interface)
        if endpoint is None:
            session.add(
                models.Endpoint(
                    id=new_id(),
                    service_id=row.id,
                    region_id=region,
                    interface=interface,
                    url=entry.url,
                    enabled=True,
                    extra={},
                )
            )
        elif endpoint.url != entry.url:
            endpoint.url = entry.url
