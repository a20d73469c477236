"""Password hashing with bcrypt or argon2; plaintext is never stored or logged.

Hashing is CPU-bound and deliberately slow, so it runs in a worker thread (both
libraries release the GIL) and never blocks the event loop. bcrypt reads only
the first 72 bytes of a password; longer passwords are first reduced with
SHA-256 so that every byte counts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Literal

import bcrypt
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

BCRYPT_MAX_BYTES = 72


class PasswordHasher:
    def __init__(self, algorithm: Literal["bcrypt", "argon2"] = "bcrypt", rounds: int = 12) -> None:
        self.algorithm = algorithm
        self.rounds = rounds
        self._argon2 = Argon2Hasher(time_cost=max(1, rounds))
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash_sync, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches ``hashed``. With no hash, spend the same time and fail."""
        if hashed is None:
            hashed = await self._dummy_hash()
            await asyncio.to_thread(self.verify_sync, password, hashed)
            return False
        return await asyncio.to_thread(self.verify_sync, password, hashed)

    def hash_sync(self, password: str) -> str:
        if self.algorithm == "argon2":
            return self._argon2.hash(password)
        return bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(self.rounds)).decode()

    def verify_sync(self, password: str, hashed: str) -> bool:
        if hashed.startswith("$argon2"):
            try:
                return self._argon2.verify(hashed, password)
            except (VerificationError, InvalidHashError):
                return False
        try:
            return bcrypt.checkpw(_bcrypt_input(password), hashed.encode())
        except ValueError:
            return False

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash("not a password anybody has")
        return self._dummy


def _bcrypt_input(password: str) -> bytes:
    raw = password.encode()
    if len(raw) <= BCRYPT_MAX_BYTES:
        return raw
    return base64.b64encode(hashlib.sha256(raw).digest())
