"""What a token carries, and its compact binary form.

A token is a Fernet message whose plaintext is a msgpack list::

    [version, user_id, methods, scope_kind, scope_id, expires_us, issued_us,
     audit_ids, trust_id, app_cred_id]

Hex UUIDs travel as 16 raw bytes, methods as a bit mask and times as integer
microseconds, so tokens stay short (about 200 characters). Roles and the
catalog are not in the token: they are worked out when it is validated, so a
role taken away is gone from the next validation.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgpack

VERSION = 1
METHODS = ("password", "token", "application_credential", "totp", "oauth1", "mapped")
SCOPES = ("unscoped", "project", "domain", "system")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class MalformedToken(ValueError):
    """The plaintext is not a token payload this code understands."""


@dataclass(frozen=True)
class TokenPayload:
    user_id: str
    methods: tuple[str, ...]
    expires_at: datetime
    issued_at: datetime
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    trust_id: str | None = None
    app_cred_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def scope(self) -> str:
        if self.project_id:
            return "project"
        if self.domain_id:
            return "domain"
        if self.system:
            return "system"
        return "unscoped"

    @property
    def audit_id(self) -> str:
        return self.audit_ids[0]

    @property
    def audit_chain_id(self) -> str:
        return self.audit_ids[-1]


def pack(payload: TokenPayload) -> bytes:
    scope = payload.scope
    scope_id = {
        "project": payload.project_id,
        "domain": payload.domain_id,
        "system": payload.system,
        "unscoped": None,
    }[scope]
    body = [
        VERSION,
        _pack_id(payload.user_id),
        _methods_mask(payload.methods),
        SCOPES.index(scope),
        _pack_id(scope_id),
        _micros(payload.expires_at),
        _micros(payload.issued_at),
        [base64.urlsafe_b64decode(a + "==") for a in payload.audit_ids],
        _pack_id(payload.trust_id),
        _pack_id(payload.app_cred_id),
    ]
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


def unpack(data: bytes) -> TokenPayload:
    """:raises MalformedToken: when ``data`` is not a payload of this version."""
    try:
        body = msgpack.unpackb(data, raw=False)
        (version, user, mask, scope_index, scope_id, expires, issued, audits, trust, app_cred) = (
            body
        )
        if version != VERSION:
            raise MalformedToken(f"token version {version} is not supported")
        scope = SCOPES[scope_index]
        scope_value = _unpack_id(scope_id)
        return TokenPayload(
            user_id=_required(_unpack_id(user)),
            methods=tuple(m for i, m in enumerate(METHODS) if mask & (1 << i)),
            expires_at=_from_micros(expires),
            issued_at=_from_micros(issued),
            audit_ids=tuple(base64.urlsafe_b64encode(a).rstrip(b"=").decode() for a in audits),
            project_id=scope_value if scope == "project" else None,
            domain_id=scope_value if scope == "domain" else None,
            system=scope_value if scope == "system" else None,
            trust_id=_unpack_id(trust),
            app_cred_id=_unpack_id(app_cred),
        )
    except MalformedToken:
        raise
    except (ValueError, TypeError, IndexError, msgpack.UnpackException) as exc:
        raise MalformedToken(str(exc)) from exc


def _methods_mask(methods: tuple[str, ...]) -> int:
    mask = 0
    for method in methods:
        mask |= 1 << METHODS.index(method)
    return mask


def _pack_id(value: str | None) -> bytes | str | None:
    if value is None:
        return None
    if len(value) == 32:
        try:
            return uuid.UUID(hex=value).bytes if value == value.lower() else value
        except ValueError:
            return value
    return value


def _unpack_id(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value).hex
    return value


def _required(value: str | None) -> str:
    if not value:
        raise MalformedToken("token has no user")
    return value


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _from_micros(value: int) -> datetime:
    return EPOCH + value * MICROSECOND
