"""The salted hash of an account, container or object path, which places it everywhere.

The ring takes a partition from its first bytes; storage nodes name the
object's directory and the container's or account's database after it.
"""

from __future__ import annotations

import hashlib


def hash_path(
    prefix: str, suffix: str, account: str, container: str | None = None, obj: str | None = None
) -> bytes:
    """md5 of ``prefix`` + ``/account[/container[/object]]`` + ``suffix``."""
    path = "/" + "/".join(name for name in (account, container, obj) if name is not None)
    return hashlib.md5(f"{prefix}{path}{suffix}".encode(), usedforsecurity=False).digest()
