from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from overcast.common.ids import new_id, random_urlsafe
from overcast.identity.keys import KeyRepository
from overcast.identity.tokens.payload import MalformedToken, TokenPayload, pack, unpack
from overcast.identity.tokens.revocation import Revocation, RevocationList, TokenFacts

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)


def payload(**fields: object) -> TokenPayload:
    base: dict[str, object] = {
        "user_id": new_id(),
        "methods": ("password", "token"),
        "expires_at": NOW + timedelta(hours=1),
        "issued_at": NOW,
        "audit_ids": (random_urlsafe(), random_urlsafe()),
    }
    return TokenPayload(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"project_id": new_id()},
        {"domain_id": "default"},
        {"system": "all"},
        {"project_id": new_id(), "trust_id": new_id()},
        {"project_id": "Not-Hex", "app_cred_id": new_id()},
    ],
)
def test_payload_round_trip(scope: dict[str, str]) -> None:
    original = payload(**scope)
    assert unpack(pack(original)) == original


def test_payload_is_compact_and_keeps_microseconds() -> None:
    data = pack(payload(project_id=new_id()))
    assert len(data) < 110
    assert unpack(data).issued_at == NOW


@pytest.mark.parametrize("data", [b"", b"\x93\x01\x02\x03", b"not msgpack \xff"])
def test_malformed_payloads(data: bytes) -> None:
    with pytest.raises(MalformedToken):
        unpack(data)


def test_key_rotation_keeps_recent_tokens_valid(tmp_path: Path) -> None:
    repo = KeyRepository(tmp_path / "keys", max_active_keys=3)
    assert repo.setup() is True
    assert repo.setup() is False
    token = repo.encrypt(b"hello")
    KeyRepository(tmp_path / "keys", 3).rotate()
    other = KeyRepository(tmp_path / "keys", 3)
    assert other.decrypt(token) == b"hello"
    other.rotate()
    other.rotate()
    with pytest.raises(InvalidToken):
        KeyRepository(tmp_path / "keys", 3).decrypt(token)
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["0", "3", "4"]


def facts(**fields: object) -> TokenFacts:
    base: dict[str, object] = {
        "issued_at": NOW,
        "user_id": "u",
        "audit_id": "a1",
        "audit_chain_id": "a0",
    }
    return TokenFacts(**{**base, **fields})  # type: ignore[arg-type]


def test_revocation_matching() -> None:
    later = NOW + timedelta(seconds=1)
    events = RevocationList(
        [
            Revocation(later, audit_id="a1"),
            Revocation(later, user_id="u2", project_id="p1"),
            Revocation(later, domain_id="d9"),
            Revocation(NOW - timedelta(seconds=1), user_id="u3"),
        ]
    )
    assert events.is_revoked(facts())
    assert not events.is_revoked(facts(audit_id="other"))
    assert events.is_revoked(facts(user_id="u2", audit_id="x", project_id="p1"))
    assert not events.is_revoked(facts(user_id="u2", audit_id="x", project_id="p2"))
    assert events.is_revoked(facts(audit_id="x", project_domain_id="d9"))
    assert not events.is_revoked(facts(user_id="u3", audit_id="x"))
    assert not events.is_revoked(facts(audit_id="a1", issued_at=later + timedelta(seconds=1)))
