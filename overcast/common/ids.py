"""Identifiers for resources."""

from __future__ import annotations

import base64
import secrets
import uuid


def new_id() -> str:
    """A resource id as OpenStack writes them: 32 lowercase hex digits."""
    return uuid.uuid4().hex


def random_urlsafe(nbytes: int = 16) -> str:
    """Random bytes as unpadded URL-safe base64 (``audit_ids``, secrets)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode()
