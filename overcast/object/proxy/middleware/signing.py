"""HMAC signatures of temp URLs and form posts, checked against an account's or a
container's secret keys (``X-Account-Meta-Temp-URL-Key[-2]``, ``X-Container-Meta-...``).

A signature is hex (its length names the digest: SHA-1, SHA-256 or SHA-512) or
``<digest>:<base64url>``, as Swift accepts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

from overcast.object.proxy.info import AccountInfo, ContainerInfo

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
KEY_NAMES = ("temp-url-key", "temp-url-key-2")


class BadSignature(ValueError):
    pass


def decode(signature: str) -> tuple[str, bytes]:
    """(digest name, raw signature).

    :raises BadSignature: when it is neither hex nor ``<digest>:<base64>``.
    """
    if ":" in signature:
        name, _, encoded = signature.partition(":")
        if name not in DIGESTS:
            raise BadSignature(f"unsupported digest {name!r}")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise BadSignature("signature is not base64") from exc
        return name, raw
    hex_name = HEX_LENGTHS.get(len(signature))
    if hex_name is None:
        raise BadSignature("signature has an unknown length")
    try:
        return hex_name, bytes.fromhex(signature)
    except ValueError as exc:
        raise BadSignature("signature is not hex") from exc


def keys_of(account: AccountInfo | None, container: ContainerInfo | None) -> list[str]:
    """The secret keys an account and a container hold (either may sign)."""
    found = []
    for holder in (account, container):
        if holder is not None:
            found += [key for name in KEY_NAMES if (key := holder.meta(name))]
    return found


def valid(signature: str, bodies: Iterable[str], keys: list[str]) -> bool:
    """Whether any key signed any of ``bodies`` as ``signature``."""
    try:
        name, raw = decode(signature)
    except BadSignature:
        return False
    digest = DIGESTS[name]
    for body in bodies:
        for key in keys:
            expected = hmac.new(key.encode(), body.encode(), digest).digest()
            if hmac.compare_digest(expected, raw):
                return True
    return False
