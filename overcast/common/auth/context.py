"""Who is asking, and what they may do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from overcast.common.api.errors import APIError, Forbidden, Unauthorized
from overcast.common.policy import Enforcer


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """What a valid token says: the user, the scope, the roles. Immutable and cacheable."""

    user_id: str
    user_name: str
    user_domain_id: str
    user_domain_name: str
    expires_at: datetime
    issued_at: datetime
    methods: tuple[str, ...] = ()
    audit_ids: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system_scope: str | None = None
    trust_id: str | None = None
    application_credential_id: str | None = None
    token_body: Mapping[str, Any] = field(default_factory=dict)
    """The token as the identity API renders it (``token.*`` policy attributes read it)."""
    creds: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The policy credentials; filled by :meth:`with_creds` once per validated token."""

    def with_creds(self) -> AuthInfo:
        """This info with its policy credentials worked out (they never change)."""
        creds = {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": [role.lower() for role in self.roles],
            "is_admin_project": True,
            "token": self.token_body,
        }
        return replace(self, creds=creds)

    @property
    def scope(self) -> str:
        if self.system_scope:
            return "system"
        if self.domain_id:
            return "domain"
        if self.project_id:
            return "project"
        return "unscoped"


@dataclass(slots=True)
class RequestContext:
    """Per-request state: the request id, the caller (if any) and the policy enforcer."""

    request_id: str
    auth: AuthInfo | None = None
    token: str | None = None
    auth_error: APIError | None = None
    enforcer: Enforcer | None = None
    version: tuple[int, int] = (0, 0)
    """The microversion negotiated for this request (APIs without microversions: 0.0)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def require_auth(self) -> AuthInfo:
        """The caller's token info.

        :raises Unauthorized: when the request carries no valid token.
        """
        if self.auth is None:
            raise self.auth_error or Unauthorized()
        return self.auth

    @property
    def user_id(self) -> str | None:
        return self.auth.user_id if self.auth else None

    @property
    def project_id(self) -> str | None:
        return self.auth.project_id if self.auth else None

    @property
    def roles(self) -> tuple[str, ...]:
        return self.auth.roles if self.auth else ()

    def policy_creds(self) -> Mapping[str, Any]:
        auth = self.require_auth()
        return auth.creds or auth.with_creds().creds

    def can(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        """Whether the caller may do ``rule`` on ``target``; never raises for a denial."""
        if self.enforcer is None:
            raise RuntimeError("no policy enforcer is bound to this request")
        if self.auth is None:
            return False
        return self.enforcer.enforce(rule, target or {}, self.policy_creds())

    def enforce(self, rule: str, target: Mapping[str, Any] | None = None) -> None:
        """Like :meth:`can`, but raising.

        :raises Unauthorized: when there is no valid token.
        :raises Forbidden: when policy denies the action.
        """
        self.require_auth()
        if not self.can(rule, target):
            raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")
