"""What a token means *now*: its user, scope, roles and catalog, read from the database.

Tokens carry only ids. Each validation works out the rest, so that disabling a
user or taking a role away shows in the very next validation. The result for a
given (user, scope, trust, application credential) is cached per generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.identity import assignments, catalog, models
from overcast.identity.assignments import RoleGraph
from overcast.identity.models import ROOT_DOMAIN
from overcast.identity.service import IdentityService


class TokenInvalid(Exception):
    """The token (or what it refers to) is no longer valid."""


@dataclass(frozen=True)
class Ref:
    id: str
    name: str
    domain_id: str | None = None
    domain_name: str | None = None


@dataclass(frozen=True)
class TrustRef:
    id: str
    impersonation: bool
    trustor_user_id: str
    trustee_user_id: str
    expires_at: datetime | None
    remaining_uses: int | None


@dataclass(frozen=True)
class AppCredRef:
    id: str
    name: str
    restricted: bool
    access_rules: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class ScopeData:
    user: Ref
    """The user the token presents (the trustor, for an impersonating trust)."""
    password_expires_at: datetime | None
    project: Ref | None = None
    domain: Ref | None = None
    system: str | None = None
    roles: tuple[Ref, ...] = ()
    catalog: Sequence[dict[str, Any]] = field(default_factory=tuple)
    trust: TrustRef | None = None
    app_cred: AppCredRef | None = None

    @property
    def role_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.roles)


@dataclass(frozen=True)
class ScopeKey:
    user_id: str
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    trust_id: str | None = None
    app_cred_id: str | None = None


async def resolve(service: IdentityService, key: ScopeKey) -> ScopeData:
    """The scope data for ``key``, from the cache or the database.

    :raises TokenInvalid: when the user, scope, trust or credential no longer allow it.
    """

    async def load() -> ScopeData | TokenInvalid:
        # Shared pieces first: never hold a connection while asking the pool for another.
        graph = await service.role_graph()
        scoped = bool(key.project_id or key.domain_id or key.system)
        entries = await service.catalog_entries() if scoped else []
        async with service.db.read() as session:
            try:
                return await _load(service, session, key, graph, entries)
            except TokenInvalid as exc:
                return exc

    result = await service.cache.get_or_load(("scope", key), load)
    if isinstance(result, TokenInvalid):
        raise result
    return result


async def _load(
    service: IdentityService,
    session: AsyncSession,
    key: ScopeKey,
    graph: RoleGraph,
    entries: Sequence[catalog.CatalogEntry],
) -> ScopeData:
    now = service.clock.now()
    user = await _enabled_user(session, key.user_id)
    presented = user
    trust_ref: TrustRef | None = None
    role_filter: set[str] | None = None
    if key.trust_id:
        trust = await session.get(models.Trust, key.trust_id)
        if trust is None or trust.deleted_at is not None:
            raise TokenInvalid("the trust is gone")
        if trust.expires_at is not None and trust.expires_at <= now:
            raise TokenInvalid("the trust has expired")
        trustor = await _enabled_user(session, trust.trustor_user_id)
        trust_ref = TrustRef(
            trust.id,
            trust.impersonation,
            trust.trustor_user_id,
            trust.trustee_user_id,
            trust.expires_at,
            trust.remaining_uses,
        )
        role_filter = set(trust.role_ids.get("ids", []))
        if trust.impersonation:
            presented = trustor
        roles_of = trustor
    else:
        roles_of = user
    app_ref: AppCredRef | None = None
    if key.app_cred_id:
        app_ref, app_roles = await _app_cred(session, key.app_cred_id, now)
        role_filter = app_roles
    project_ref = domain_ref = None
    role_rows: list[models.Role] = []
    if key.project_id:
        project = await _enabled_project(session, key.project_id)
        domain = await session.get(models.Project, project.domain_id)
        project_ref = Ref(
            project.id, project.name, project.domain_id, domain.name if domain else None
        )
        direct = await assignments.direct_role_ids(session, roles_of.id, project=project)
        role_rows = graph.effective(direct)
    elif key.domain_id:
        domain = await _enabled_domain(session, key.domain_id)
        domain_ref = Ref(domain.id, domain.name)
        direct = await assignments.direct_role_ids(session, roles_of.id, domain_id=domain.id)
        role_rows = graph.effective(direct)
    elif key.system:
        direct = await assignments.direct_role_ids(session, roles_of.id, system=True)
        role_rows = graph.effective(direct)
    if role_filter is not None:
        role_rows = [r for r in role_rows if r.id in graph.expand(role_filter)]
    scoped = bool(key.project_id or key.domain_id or key.system)
    if scoped and not role_rows:
        raise TokenInvalid("the user has no roles on the scope")
    user_domain = await session.get(models.Project, presented.domain_id)
    return ScopeData(
        user=Ref(
            presented.id,
            presented.name,
            presented.domain_id,
            user_domain.name if user_domain else None,
        ),
        password_expires_at=await password_expires_at(session, presented),
        project=project_ref,
        domain=domain_ref,
        system=key.system,
        roles=tuple(Ref(r.id, r.name) for r in role_rows),
        catalog=catalog.render(entries, project_id=key.project_id, user_id=presented.id),
        trust=trust_ref,
        app_cred=app_ref,
    )


async def _enabled_user(session: AsyncSession, user_id: str) -> models.User:
    user = await session.get(models.User, user_id)
    if user is None or not user.enabled:
        raise TokenInvalid("the user is gone or disabled")
    domain = await session.get(models.Project, user.domain_id)
    if domain is None or not domain.enabled:
        raise TokenInvalid("the user's domain is gone or disabled")
    return user


async def _enabled_project(session: AsyncSession, project_id: str) -> models.Project:
    project = await session.get(models.Project, project_id)
    if project is None or not project.enabled:
        raise TokenInvalid("the project is gone or disabled")
    if project.domain_id != ROOT_DOMAIN:
        domain = await session.get(models.Project, project.domain_id)
        if domain is None or not domain.enabled:
            raise TokenInvalid("the project's domain is gone or disabled")
    return project


async def _enabled_domain(session: AsyncSession, domain_id: str) -> models.Project:
    domain = await session.get(models.Project, domain_id)
    if domain is None or not domain.is_domain or not domain.enabled:
        raise TokenInvalid("the domain is gone or disabled")
    return domain


async def _app_cred(
    session: AsyncSession, app_cred_id: str, now: datetime
) -> tuple[AppCredRef, set[str]]:
    cred = await session.get(models.ApplicationCredential, app_cred_id)
    if cred is None:
        raise TokenInvalid("the application credential is gone")
    if cred.expires_at is not None and cred.expires_at <= now:
        raise TokenInvalid("the application credential has expired")
    rules = await session.scalars(
        select(models.AccessRule)
        .join(models.AppCredAccessRule)
        .where(models.AppCredAccessRule.application_credential_id == cred.id)
    )
    access_rules = tuple(
        {"id": r.id, "service": r.service, "path": r.path, "method": r.method} for r in rules
    )
    ref = AppCredRef(cred.id, cred.name, not cred.unrestricted, access_rules)
    return ref, set(cred.role_ids.get("ids", []))


async def password_expires_at(session: AsyncSession, user: models.User) -> datetime | None:
    if user.options.get("ignore_password_expiry"):
        return None
    current = await session.scalar(
        select(models.Password)
        .where(models.Password.user_id == user.id)
        .order_by(models.Password.id.desc())
        .limit(1)
    )
    return current.expires_at if current else None
