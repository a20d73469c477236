from __future__ import annotations

import pytest

from overcast.identity.catalog import _substitute
from overcast.identity.passwords import PasswordHasher


@pytest.mark.parametrize("algorithm", ["bcrypt", "argon2"])
async def test_hash_and_verify(algorithm: str) -> None:
    hasher = PasswordHasher(algorithm, rounds=4)  # type: ignore[arg-type]
    hashed = await hasher.hash("correct horse")
    assert "correct horse" not in hashed
    assert await hasher.verify("correct horse", hashed)
    assert not await hasher.verify("wrong", hashed)
    assert not await hasher.verify("anything", None)


async def test_long_passwords_use_every_byte() -> None:
    hasher = PasswordHasher("bcrypt", rounds=4)
    long = "x" * 100
    hashed = await hasher.hash(long)
    assert await hasher.verify(long, hashed)
    assert not await hasher.verify("x" * 99 + "y", hashed)


def test_verify_a_hash_of_the_other_algorithm() -> None:
    argon = PasswordHasher("argon2", rounds=1).hash_sync("pw")
    assert PasswordHasher("bcrypt", rounds=4).verify_sync("pw", argon)
    assert not PasswordHasher("bcrypt", rounds=4).verify_sync("pw", "garbage")


def test_catalog_url_substitution() -> None:
    values = {"tenant_id": "p1", "project_id": "p1", "user_id": "u1"}
    assert _substitute("http://h/v1/AUTH_$(project_id)s", values) == "http://h/v1/AUTH_p1"
    assert _substitute("http://h/v2/%(tenant_id)s/x", values) == "http://h/v2/p1/x"
    assert _substitute("http://h/v1/AUTH_%(project_id)s", {**values, "project_id": None}) is None
