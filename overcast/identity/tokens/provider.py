"""Issuing and validating tokens.

Validation of a token already seen in this generation is a dictionary lookup
plus an expiry check: no database, no decryption. Otherwise it decrypts the
token, resolves its scope (cached per generation), checks it against the
in-memory revocation list and renders the body once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import orjson
from cryptography.fernet import InvalidToken

from overcast.common.auth.context import AuthInfo
from overcast.common.clock import isotime
from overcast.common.ids import random_urlsafe
from overcast.identity import models
from overcast.identity.service import IdentityService
from overcast.identity.tokens.payload import MalformedToken, TokenPayload, pack, unpack
from overcast.identity.tokens.revocation import TokenFacts
from overcast.identity.tokens.scope import ScopeData, ScopeKey, TokenInvalid, resolve


@dataclass(frozen=True)
class ValidToken:
    token: str
    payload: TokenPayload
    data: ScopeData
    body: dict[str, Any]
    """``{"token": {...}}`` as the identity API returns it."""
    info: AuthInfo

    @cached_property
    def json(self) -> bytes:
        """The body serialised, once: a cached token is served as these bytes."""
        return orjson.dumps(self.body)


class TokenProvider:
    def __init__(self, service: IdentityService) -> None:
        self.service = service

    def new_payload(
        self,
        *,
        user_id: str,
        methods: tuple[str, ...],
        key: ScopeKey,
        expires_at: datetime | None = None,
        parent_audit_id: str | None = None,
    ) -> TokenPayload:
        now = self.service.clock.now()
        if expires_at is None:
            expires_at = (now + timedelta(seconds=self.service.conf.token_expiration)).replace(
                microsecond=0
            )
        audit_ids = (random_urlsafe(),) + ((parent_audit_id,) if parent_audit_id else ())
        return TokenPayload(
            user_id=user_id,
            methods=methods,
            expires_at=expires_at,
            issued_at=now,
            audit_ids=audit_ids,
            project_id=key.project_id,
            domain_id=key.domain_id,
            system=key.system,
            trust_id=key.trust_id,
            app_cred_id=key.app_cred_id,
        )

    def encode(self, payload: TokenPayload) -> str:
        return self.service.token_keys.encrypt(pack(payload)).decode()

    def decode(self, token: str) -> TokenPayload:
        """:raises TokenInvalid: when no key decrypts ``token`` or it is not a token."""
        try:
            return unpack(self.service.token_keys.decrypt(token.encode()))
        except (InvalidToken, MalformedToken, UnicodeEncodeError) as exc:
            raise TokenInvalid("Could not recognize Fernet token") from exc

    async def issue(self, payload: TokenPayload) -> ValidToken:
        """Encrypt ``payload`` and render the new token.

        :raises TokenInvalid: when the scope does not hold (no roles, disabled ...).
        """
        data = await resolve(self.service, key_of(payload))
        token = self.encode(payload)
        return _valid(token, payload, data)

    async def validate(self, token: str, *, allow_expired: bool = False) -> ValidToken:
        """The token's current meaning.

        :raises TokenInvalid: when it is malformed, expired, revoked or no longer applies.
        """
        service = self.service
        generation = await service.cache.sync()
        now = service.clock.now()
        cached: ValidToken | None = service.cache.tokens.get(token)
        if cached is not None and (allow_expired or cached.payload.expires_at > now):
            return cached
        payload = self.decode(token)
        if payload.expires_at <= now:
            window = timedelta(seconds=service.conf.allow_expired_window)
            if not allow_expired or payload.expires_at + window <= now:
                raise TokenInvalid("The token has expired")
        data = await resolve(service, key_of(payload))
        revocations = await service.revocations()
        if revocations.count and revocations.is_revoked(facts(payload, data)):
            raise TokenInvalid("The token has been revoked")
        valid = _valid(token, payload, data)
        service.cache.remember_token(token, valid, generation)
        return valid


def key_of(payload: TokenPayload) -> ScopeKey:
    return ScopeKey(
        user_id=payload.user_id,
        project_id=payload.project_id,
        domain_id=payload.domain_id,
        system=payload.system,
        trust_id=payload.trust_id,
        app_cred_id=payload.app_cred_id,
    )


def facts(payload: TokenPayload, data: ScopeData) -> TokenFacts:
    return TokenFacts(
        issued_at=payload.issued_at,
        user_id=payload.user_id,
        audit_id=payload.audit_id,
        audit_chain_id=payload.audit_chain_id,
        user_domain_id=data.user.domain_id,
        project_id=payload.project_id,
        project_domain_id=data.project.domain_id if data.project else None,
        domain_id=payload.domain_id,
        trust_id=payload.trust_id,
        trustor_id=data.trust.trustor_user_id if data.trust else None,
        trustee_id=data.trust.trustee_user_id if data.trust else None,
        role_ids=data.role_ids,
    )


def render(payload: TokenPayload, data: ScopeData) -> dict[str, Any]:
    token: dict[str, Any] = {
        "methods": list(payload.methods),
        "user": {
            "domain": {"id": data.user.domain_id, "name": data.user.domain_name},
            "id": data.user.id,
            "name": data.user.name,
            "password_expires_at": (
                isotime(data.password_expires_at) if data.password_expires_at else None
            ),
        },
        "audit_ids": list(payload.audit_ids),
        "expires_at": isotime(payload.expires_at),
        "issued_at": isotime(payload.issued_at),
    }
    if data.project is not None:
        token["project"] = {
            "domain": {"id": data.project.domain_id, "name": data.project.domain_name},
            "id": data.project.id,
            "name": data.project.name,
        }
        token["is_domain"] = False
    elif data.domain is not None:
        token["domain"] = {"id": data.domain.id, "name": data.domain.name}
    elif data.system is not None:
        token["system"] = {data.system: True}
    if data.project or data.domain or data.system:
        token["roles"] = [{"id": r.id, "name": r.name} for r in data.roles]
        token["catalog"] = list(data.catalog)
    if data.trust is not None:
        token["OS-TRUST:trust"] = {
            "id": data.trust.id,
            "impersonation": data.trust.impersonation,
            "trustee_user": {"id": data.trust.trustee_user_id},
            "trustor_user": {"id": data.trust.trustor_user_id},
            "expires_at": isotime(data.trust.expires_at) if data.trust.expires_at else None,
            "remaining_uses": data.trust.remaining_uses,
        }
    if data.app_cred is not None:
        app: dict[str, Any] = {
            "id": data.app_cred.id,
            "name": data.app_cred.name,
            "restricted": data.app_cred.restricted,
        }
        if data.app_cred.access_rules:
            app["access_rules"] = list(data.app_cred.access_rules)
        token["application_credential"] = app
    return {"token": token}


def _valid(token: str, payload: TokenPayload, data: ScopeData) -> ValidToken:
    body = render(payload, data)
    project, domain = data.project, data.domain
    info = AuthInfo(
        user_id=data.user.id,
        user_name=data.user.name,
        user_domain_id=data.user.domain_id or "",
        user_domain_name=data.user.domain_name or "",
        expires_at=payload.expires_at,
        issued_at=payload.issued_at,
        methods=payload.methods,
        audit_ids=payload.audit_ids,
        roles=tuple(r.name for r in data.roles),
        role_ids=data.role_ids,
        project_id=project.id if project else None,
        project_name=project.name if project else None,
        project_domain_id=project.domain_id if project else None,
        project_domain_name=project.domain_name if project else None,
        domain_id=domain.id if domain else None,
        domain_name=domain.name if domain else None,
        system_scope=data.system,
        trust_id=payload.trust_id,
        application_credential_id=payload.app_cred_id,
        token_body=body["token"],
    ).with_creds()
    return ValidToken(token, payload, data, body, info)


def revocation(now: datetime, **match: str | None) -> models.RevocationEvent:
    """A revocation event for every token matching ``match`` issued up to now."""
    return models.RevocationEvent(issued_before=now, revoked_at=now, **match)
