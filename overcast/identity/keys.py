"""Fernet key repositories, laid out as Keystone lays them out.

Keys are files named by integers in one directory: ``0`` is the *staged* key (it
will be the next primary, and already decrypts), the highest number is the
*primary* key (it encrypts), and the others are *secondary* keys (they only
decrypt tokens issued before a rotation). Rotation promotes the staged key to
primary, stages a new key, and drops the oldest secondaries beyond
``max_active_keys``. A process picks up a rotation made by another process the
next time it sees the directory change.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

RELOAD_INTERVAL = 1.0
"""Seconds between checks for a rotation done by another process."""


class KeyRepository:
    def __init__(self, path: Path, max_active_keys: int = 3) -> None:
        self.path = path
        self.max_active_keys = max_active_keys
        self._fernet: MultiFernet | None = None
        self._stamp = 0
        self._checked_at = 0.0

    def setup(self) -> bool:
        """Create the repository with a staged and a primary key, unless it has keys.

        Returns whether keys were created.
        """
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path, 0o700)
        if self._key_numbers():
            return False
        self._write_key(0, Fernet.generate_key())
        self.rotate()
        return True

    def rotate(self) -> int:
        """Promote the staged key to primary and stage a new one; returns the new primary."""
        numbers = self._key_numbers()
        if 0 not in numbers:
            self._write_key(0, Fernet.generate_key())
            numbers = self._key_numbers()
        new_primary = max(numbers) + 1
        os.replace(self.path / "0", self.path / str(new_primary))
        self._write_key(0, Fernet.generate_key())
        keep = sorted(n for n in self._key_numbers() if n != 0)[-(self.max_active_keys - 1) :]
        for number in self._key_numbers():
            if number != 0 and number not in keep:
                (self.path / str(number)).unlink()
        self._fernet = None
        return new_primary

    def encrypt(self, data: bytes) -> bytes:
        return self._current().encrypt(data)

    def decrypt(self, token: bytes, ttl: int | None = None) -> bytes:
        """Decrypt with any active key.

        :raises cryptography.fernet.InvalidToken: when no key decrypts ``token``.
        """
        try:
            return self._current().decrypt(token, ttl=ttl)
        except InvalidToken:
            if not self._reload_if_changed(force=True):
                raise
            return self._current().decrypt(token, ttl=ttl)

    def _current(self) -> MultiFernet:
        self._reload_if_changed()
        if self._fernet is None:
            raise RuntimeError(f"no keys in {self.path}; run the bootstrap first")
        return self._fernet

    def _reload_if_changed(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and self._fernet is not None and now - self._checked_at < RELOAD_INTERVAL:
            return False
        self._checked_at = now
        stamp = os.stat(self.path).st_mtime_ns
        if self._fernet is not None and stamp == self._stamp:
            return False
        self._stamp = stamp
        self._fernet = self._load()
        return True

    def _load(self) -> MultiFernet | None:
        numbers = self._key_numbers()
        if not numbers:
            return None
        # Primary (highest) first: MultiFernet encrypts with the first key.
        order = [*sorted((n for n in numbers if n != 0), reverse=True), 0]
        keys = [Fernet((self.path / str(n)).read_bytes().strip()) for n in order if n in numbers]
        return MultiFernet(keys)

    def _key_numbers(self) -> set[int]:
        if not self.path.is_dir():
            return set()
        return {int(p.name) for p in self.path.iterdir() if p.name.isdigit()}

    def _write_key(self, number: int, key: bytes) -> None:
        tmp = self.path / f".{number}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path / str(number))
