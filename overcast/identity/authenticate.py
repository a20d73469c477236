"""``POST /v3/auth/tokens``: check who is asking, settle the scope, issue a token.

Wrong user and wrong password give the same 401 and take the same time. With
lockout configured, consecutive failures lock the account for a while.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import APIError, BadRequest, Forbidden, NotFound, Unauthorized
from overcast.identity import assignments, lookups, models
from overcast.identity.models import ROOT_DOMAIN
from overcast.identity.schemas import (
    AppCredMethod,
    AuthRequest,
    DomainRef,
    Identity,
    PasswordMethod,
    ProjectScope,
    Scope,
)
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import TokenProvider, ValidToken
from overcast.identity.tokens.scope import ScopeKey, TokenInvalid

SUPPORTED_METHODS = ("password", "token", "application_credential")
T = TypeVar("T")


@dataclass
class Proof:
    """What the identity methods proved."""

    user_id: str
    methods: tuple[str, ...]
    expires_at: datetime | None = None
    parent_audit_id: str | None = None
    app_cred: models.ApplicationCredential | None = None


class Authenticator:
    def __init__(self, service: IdentityService, provider: TokenProvider) -> None:
        self.service = service
        self.provider = provider

    async def authenticate(self, request: AuthRequest) -> ValidToken:
        """:raises Unauthorized: when the identity or scope does not hold."""
        proof = await self._prove(request.auth.identity)
        key = await self._scope(proof, request.auth.scope)
        expires_at = proof.expires_at
        if proof.app_cred is not None and proof.app_cred.expires_at is not None:
            expires_at = _earliest(expires_at, self._default_expiry(), proof.app_cred.expires_at)
        if key.trust_id:
            expires_at = await self._trust_expiry(key.trust_id, expires_at)
        payload = self.provider.new_payload(
            user_id=proof.user_id,
            methods=proof.methods,
            key=key,
            expires_at=expires_at,
            parent_audit_id=proof.parent_audit_id,
        )
        try:
            return await self.provider.issue(payload)
        except TokenInvalid:
            raise Unauthorized(_no_access(proof.user_id, key)) from None

    # -- identity methods ---------------------------------------------------

    async def _prove(self, identity: Identity) -> Proof:
        methods = list(dict.fromkeys(identity.methods))
        for method in methods:
            if method not in SUPPORTED_METHODS:
                raise Unauthorized("Attempted to authenticate with an unsupported method.")
            if getattr(identity, method) is None:
                raise BadRequest(f"Expecting to find {method} in identity.")
        proofs = []
        for method in methods:
            if method == "password":
                assert identity.password is not None
                proofs.append(await self._password(identity.password))
            elif method == "token":
                assert identity.token is not None
                proofs.append(await self._token(identity.token.id))
            else:
                assert identity.application_credential is not None
                proofs.append(await self._app_cred(identity.application_credential))
        if len({p.user_id for p in proofs}) != 1:
            raise Unauthorized("The methods given identify different users.")
        first = proofs[0]
        all_methods = tuple(dict.fromkeys(m for p in proofs for m in p.methods))
        return Proof(
            user_id=first.user_id,
            methods=all_methods,
            expires_at=next((p.expires_at for p in proofs if p.expires_at), None),
            parent_audit_id=next((p.parent_audit_id for p in proofs if p.parent_audit_id), None),
            app_cred=next((p.app_cred for p in proofs if p.app_cred), None),
        )

    async def _password(self, method: PasswordMethod) -> Proof:
        service = self.service
        spec = method.user
        async with service.db.read() as session:
            user = await _find_user(session, spec.id, spec.name, spec.domain)
            current = None
            if user is not None:
                current = await session.scalar(
                    select(models.Password)
                    .where(models.Password.user_id == user.id)
                    .order_by(models.Password.id.desc())
                    .limit(1)
                )
        if user is None or current is None:
            await service.hasher.verify(spec.password, None)
            raise Unauthorized()
        self._check_lockout(user)
        if not await service.hasher.verify(spec.password, current.hash):
            await self._record_failure(user)
            raise Unauthorized()
        if user.failed_auth_count:
            await self._reset_failures(user)
        if not user.enabled:
            raise Unauthorized(f"The account is disabled for user: {user.id}.")
        now = service.clock.now()
        if (
            current.expires_at is not None
            and current.expires_at <= now
            and not user.options.get("ignore_password_expiry")
        ):
            raise Unauthorized(
                f"The password is expired and needs to be changed for user: {user.id}."
            )
        return Proof(user_id=user.id, methods=("password",))

    def _check_lockout(self, user: models.User) -> None:
        rules = self.service.conf.security_compliance
        if not rules.lockout_failure_attempts or user.options.get(
            "ignore_lockout_failure_attempts"
        ):
            return
        if user.failed_auth_count < rules.lockout_failure_attempts or user.failed_auth_at is None:
            return
        if (
            user.failed_auth_at + timedelta(seconds=rules.lockout_duration)
            > self.service.clock.now()
        ):
            raise Unauthorized(f"The account is locked for user: {user.id}.")

    async def _record_failure(self, user: models.User) -> None:
        rules = self.service.conf.security_compliance
        if not rules.lockout_failure_attempts:
            return
        now = self.service.clock.now()
        expired = user.failed_auth_at is not None and (
            user.failed_auth_at + timedelta(seconds=rules.lockout_duration) <= now
        )
        async with self.service.db.write() as session:
            count = models.User.failed_auth_count + 1
            if expired and user.failed_auth_count >= rules.lockout_failure_attempts:
                count = 1  # type: ignore[assignment]
            await session.execute(
                update(models.User)
                .where(models.User.id == user.id)
                .values(failed_auth_count=count, failed_auth_at=now)
            )

    async def _reset_failures(self, user: models.User) -> None:
        async with self.service.db.write() as session:
            await session.execute(
                update(models.User)
                .where(models.User.id == user.id)
                .values(failed_auth_count=0, failed_auth_at=None)
            )

    async def _token(self, token: str) -> Proof:
        try:
            valid = await self.provider.validate(token)
        except TokenInvalid as exc:
            raise NotFound(f"Failed to validate token: {exc}") from None
        payload = valid.payload
        if payload.trust_id:
            raise Forbidden("A token issued through a trust cannot be used to get another token.")
        if payload.app_cred_id:
            raise Forbidden(
                "A token issued for an application credential cannot be used to get another token."
            )
        return Proof(
            user_id=payload.user_id,
            methods=(*payload.methods, "token"),
            expires_at=payload.expires_at,
            parent_audit_id=payload.audit_chain_id,
        )

    async def _app_cred(self, method: AppCredMethod) -> Proof:
        service = self.service
        async with service.db.read() as session:
            cred = await _find_app_cred(session, method)
            user = await session.get(models.User, cred.user_id) if cred else None
        if cred is None:
            await service.hasher.verify(method.secret, None)
            raise Unauthorized()
        if not await service.hasher.verify(method.secret, cred.secret_hash):
            raise Unauthorized()
        if cred.expires_at is not None and cred.expires_at <= service.clock.now():
            raise Unauthorized("The application credential has expired.")
        if user is None or not user.enabled:
            raise Unauthorized()
        return Proof(user_id=cred.user_id, methods=("application_credential",), app_cred=cred)

    # -- scope ---------------------------------------------------------------

    async def _scope(self, proof: Proof, scope: Scope | str | None) -> ScopeKey:
        user_id = proof.user_id
        if proof.app_cred is not None:
            if isinstance(scope, Scope):
                raise Unauthorized("Application credentials cannot request a scope.")
            cred = proof.app_cred
            return ScopeKey(
                user_id, project_id=cred.project_id, system=cred.system, app_cred_id=cred.id
            )
        if scope == "unscoped":
            return ScopeKey(user_id)
        if scope is None:
            return await self._cached(
                ("default-scope", user_id), lambda s: _default_scope(s, user_id)
            )
        assert isinstance(scope, Scope)
        if scope.project is not None:
            ref = scope.project
            domain = ref.domain or DomainRef()
            project_id = await self._cached(
                ("project-ref", ref.id, ref.name, domain.id, domain.name),
                lambda s: _scope_project(s, ref),
            )
            return ScopeKey(user_id, project_id=project_id)
        if scope.domain is not None:
            domain_ref = scope.domain
            domain_id = await self._cached(
                ("domain-ref", domain_ref.id, domain_ref.name),
                lambda s: _scope_domain(s, domain_ref),
            )
            return ScopeKey(user_id, domain_id=domain_id)
        if scope.system is not None:
            if scope.system != {"all": True}:
                raise BadRequest('The only system scope is {"all": true}.')
            return ScopeKey(user_id, system="all")
        if scope.OS_TRUST_trust is None:
            return ScopeKey(user_id)
        async with self.service.db.read() as session:
            trust = await self._usable_trust(session, user_id, scope.OS_TRUST_trust.id)
        if trust.remaining_uses is not None:
            await self._use_trust(trust)
        return ScopeKey(user_id, project_id=trust.project_id, trust_id=trust.id)

    async def _cached(self, key: Hashable, resolve: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``resolve``'s answer (or its error), kept until the next identity change."""

        async def load() -> T | APIError:
            async with self.service.db.read() as session:
                try:
                    return await resolve(session)
                except APIError as exc:
                    return exc

        result = await self.service.cache.get_or_load(key, load)
        if isinstance(result, APIError):
            raise type(result)(result.message)
        return result

    async def _usable_trust(
        self, session: AsyncSession, user_id: str, trust_id: str
    ) -> models.Trust:
        trust = await session.get(models.Trust, trust_id)
        now = self.service.clock.now()
        if trust is None or trust.deleted_at is not None:
            raise Unauthorized(f"Could not find trust: {trust_id}.")
        if trust.trustee_user_id != user_id:
            raise Forbidden("The user is not the trustee of this trust.")
        if trust.expires_at is not None and trust.expires_at <= now:
            raise Unauthorized(f"The trust {trust_id} has expired.")
        return trust

    async def _use_trust(self, trust: models.Trust) -> None:
        async with self.service.writing() as session:
            result = await session.execute(
                update(models.Trust)
                .where(models.Trust.id == trust.id, models.Trust.remaining_uses > 0)
                .values(remaining_uses=models.Trust.remaining_uses - 1)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise Unauthorized(f"The trust {trust.id} has no uses left.")

    async def _trust_expiry(self, trust_id: str, expires_at: datetime | None) -> datetime | None:
        async with self.service.db.read() as session:
            trust = await session.get(models.Trust, trust_id)
        if trust is None or trust.expires_at is None:
            return expires_at
        return _earliest(expires_at, self._default_expiry(), trust.expires_at)

    def _default_expiry(self) -> datetime:
        expiration = timedelta(seconds=self.service.conf.token_expiration)
        return (self.service.clock.now() + expiration).replace(microsecond=0)


async def _find_user(
    session: AsyncSession, user_id: str | None, name: str | None, domain: DomainRef | None
) -> models.User | None:
    if user_id:
        return await session.get(models.User, user_id)
    if not name or domain is None:
        raise BadRequest("Expecting to find a user id, or a user name and its domain.")
    domain_row = await _find_domain(session, domain)
    if domain_row is None or not domain_row.enabled:
        return None
    return await session.scalar(
        select(models.User).where(models.User.domain_id == domain_row.id, models.User.name == name)
    )


async def _find_domain(session: AsyncSession, ref: DomainRef) -> models.Project | None:
    if ref.id:
        row = await session.get(models.Project, ref.id)
        return row if row is not None and row.is_domain else None
    if ref.name:
        return await session.scalar(
            select(models.Project).where(
                models.Project.domain_id == ROOT_DOMAIN, models.Project.name == ref.name
            )
        )
    raise BadRequest("Expecting to find a domain id or name.")


async def _find_app_cred(
    session: AsyncSession, method: AppCredMethod
) -> models.ApplicationCredential | None:
    if method.id:
        return await session.get(models.ApplicationCredential, method.id)
    if not method.name or method.user is None:
        raise BadRequest("Expecting an application credential id, or its name and user.")
    user = await _find_user(session, method.user.id, method.user.name, method.user.domain)
    if user is None:
        return None
    return await session.scalar(
        select(models.ApplicationCredential).where(
            models.ApplicationCredential.user_id == user.id,
            models.ApplicationCredential.name == method.name,
        )
    )


async def _scope_project(session: AsyncSession, ref: ProjectScope) -> str:
    project: models.Project | None
    if ref.id:
        project = await session.get(models.Project, ref.id)
    elif ref.name and ref.domain is not None:
        domain = await _find_domain(session, ref.domain)
        project = None
        if domain is not None:
            project = await session.scalar(
                select(models.Project).where(
                    models.Project.domain_id == domain.id, models.Project.name == ref.name
                )
            )
    else:
        raise BadRequest("Expecting a project id, or a project name and its domain.")
    if project is None or project.is_domain:
        raise Unauthorized(f"Could not find project: {ref.id or ref.name}.")
    if not project.enabled:
        raise Unauthorized(f"Project is disabled: {project.id}.")
    return project.id


async def _scope_domain(session: AsyncSession, ref: DomainRef) -> str:
    domain = await _find_domain(session, ref)
    if domain is None:
        raise Unauthorized(f"Could not find domain: {ref.id or ref.name}.")
    if not domain.enabled:
        raise Unauthorized(f"Domain is disabled: {domain.id}.")
    return domain.id


async def _default_scope(session: AsyncSession, user_id: str) -> ScopeKey:
    """The user's default project when it is usable, else no scope at all."""
    user = await lookups.find(session, models.User, user_id)
    project_id = user.default_project_id if user else None
    if not project_id:
        return ScopeKey(user_id)
    project = await session.get(models.Project, project_id)
    if project is None or not project.enabled or project.is_domain:
        return ScopeKey(user_id)
    if not await assignments.direct_role_ids(session, user_id, project=project):
        return ScopeKey(user_id)
    return ScopeKey(user_id, project_id=project_id)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _no_access(user_id: str, key: ScopeKey) -> str:
    if key.project_id:
        return f"User {user_id} has no access to project {key.project_id}"
    if key.domain_id:
        return f"User {user_id} has no access to domain {key.domain_id}"
    if key.system:
        return f"User {user_id} has no access to the system"
    return "The request you have made requires authentication."
