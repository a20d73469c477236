"""Which roles a user really has on a project, a domain or the system.

A user's *effective* roles on a project are the union of

* roles given to the user, or to a group the user is in, on the project;
* inherited roles (OS-INHERIT) given on any ancestor project, or on the
  project's domain;

then every role those imply (transitively), minus domain-specific roles, which
never appear in tokens themselves but may imply global roles that do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.identity import models
from overcast.identity.models import GLOBAL_ROLE, ROOT_DOMAIN

USER_PROJECT = "UserProject"
GROUP_PROJECT = "GroupProject"
USER_DOMAIN = "UserDomain"
GROUP_DOMAIN = "GroupDomain"
USER_SYSTEM = "UserSystem"
GROUP_SYSTEM = "GroupSystem"
SYSTEM_TARGET = "system"


@dataclass(frozen=True)
class RoleGraph:
    """Every role and every implication, loaded once per cache generation."""

    roles: Mapping[str, models.Role]
    implies: Mapping[str, frozenset[str]]

    @classmethod
    async def load(cls, session: AsyncSession) -> RoleGraph:
        roles = {r.id: r for r in await session.scalars(select(models.Role))}
        implies: dict[str, set[str]] = {}
        for rule in await session.scalars(select(models.ImpliedRole)):
            implies.setdefault(rule.prior_role_id, set()).add(rule.implied_role_id)
        return cls(roles, {k: frozenset(v) for k, v in implies.items()})

    def expand(self, role_ids: Iterable[str]) -> set[str]:
        """``role_ids`` plus every role they imply, directly or not."""
        seen: set[str] = set()
        todo = [r for r in role_ids if r in self.roles]
        while todo:
            role_id = todo.pop()
            if role_id in seen:
                continue
            seen.add(role_id)
            todo.extend(self.implies.get(role_id, ()))
        return seen

    def effective(self, role_ids: Iterable[str]) -> list[models.Role]:
        """The global roles in the expansion of ``role_ids``, sorted by name."""
        roles = [self.roles[r] for r in self.expand(role_ids)]
        return sorted((r for r in roles if r.domain_id == GLOBAL_ROLE), key=lambda r: r.name)


async def group_ids(session: AsyncSession, user_id: str) -> list[str]:
    rows = await session.scalars(
        select(models.Membership.group_id).where(models.Membership.user_id == user_id)
    )
    return list(rows)


async def ancestors(session: AsyncSession, project: models.Project) -> list[models.Project]:
    """The project's parents up to (not including) its domain, nearest first."""
    chain: list[models.Project] = []
    parent_id = project.parent_id
    while parent_id and parent_id != project.domain_id:
        parent = await session.get(models.Project, parent_id)
        if parent is None or parent.is_domain or parent in chain:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return chain


async def direct_role_ids(
    session: AsyncSession,
    user_id: str,
    *,
    project: models.Project | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> set[str]:
    """Role ids assigned (directly, via groups, or inherited) before implication."""
    actors = [user_id, *await group_ids(session, user_id)]
    clauses: list[tuple[tuple[str, ...], list[str], bool]] = []
    if project is not None:
        lineage = [p.id for p in await ancestors(session, project)]
        clauses.append(((USER_PROJECT, GROUP_PROJECT), [project.id], False))
        if lineage:
            clauses.append(((USER_PROJECT, GROUP_PROJECT), lineage, True))
        if project.domain_id != ROOT_DOMAIN:
            clauses.append(((USER_DOMAIN, GROUP_DOMAIN), [project.domain_id], True))
    elif domain_id is not None:
        clauses.append(((USER_DOMAIN, GROUP_DOMAIN), [domain_id], False))
    elif system:
        clauses.append(((USER_SYSTEM, GROUP_SYSTEM), [SYSTEM_TARGET], False))
    found: set[str] = set()
    for kinds, targets, inherited in clauses:
        rows = await session.scalars(
            select(models.Assignment.role_id).where(
                models.Assignment.kind.in_(kinds),
                models.Assignment.actor_id.in_(actors),
                models.Assignment.target_id.in_(targets),
                models.Assignment.inherited == inherited,
            )
        )
        found.update(rows)
    return found


async def project_ids_with_roles(session: AsyncSession, user_id: str) -> set[str]:
    """Every project on which the user has at least one role (any way it is given)."""
    actors = [user_id, *await group_ids(session, user_id)]
    rows = (
        await session.execute(
            select(
                models.Assignment.kind, models.Assignment.target_id, models.Assignment.inherited
            ).where(models.Assignment.actor_id.in_(actors))
        )
    ).all()
    direct = {t for k, t, inh in rows if k in (USER_PROJECT, GROUP_PROJECT) and not inh}
    inherit_from_projects = {t for k, t, inh in rows if k in (USER_PROJECT, GROUP_PROJECT) and inh}
    inherit_from_domains = {t for k, t, inh in rows if k in (USER_DOMAIN, GROUP_DOMAIN) and inh}
    result = set(direct)
    if inherit_from_projects:
        result |= await descendants(session, inherit_from_projects)
    if inherit_from_domains:
        rows2 = await session.scalars(
            select(models.Project.id).where(
                models.Project.domain_id.in_(inherit_from_domains),
                models.Project.is_domain.is_(False),
            )
        )
        result.update(rows2)
    return result


async def domain_ids_with_roles(session: AsyncSession, user_id: str) -> set[str]:
    actors = [user_id, *await group_ids(session, user_id)]
    rows = await session.scalars(
        select(models.Assignment.target_id).where(
            models.Assignment.kind.in_((USER_DOMAIN, GROUP_DOMAIN)),
            models.Assignment.actor_id.in_(actors),
            models.Assignment.inherited.is_(False),
        )
    )
    return set(rows)


async def descendants(session: AsyncSession, project_ids: set[str]) -> set[str]:
    """All projects below ``project_ids`` (not including them)."""
    found: set[str] = set()
    frontier = set(project_ids)
    while frontier:
        children = set(
            await session.scalars(
                select(models.Project.id).where(models.Project.parent_id.in_(frontier))
            )
        )
        frontier = children - found
        found |= children
    return found
