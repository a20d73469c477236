"""Container sync, what both ends share: where ``X-Container-Sync-To`` points, and
how a synced write proves it comes from a container that holds the same key.

``X-Container-Sync-To`` is either ``//<realm>/<cluster>/<account>/<container>``
(a realm from the settings names the cluster's URL and a realm key) or a full
URL whose host is allowed. A write from a realm carries
``X-Container-Sync-Auth: <realm> <nonce> <signature>``, an HMAC under the realm
key of the method, path, timestamp, nonce and the containers' shared
``X-Container-Sync-Key``; one to a full URL carries ``X-Container-Sync-Key``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from overcast.common.config import Settings, SyncRealm


class BadSyncTo(ValueError):
    pass


@dataclass(frozen=True)
class SyncTarget:
    url: str
    """The remote container's URL (``http://host:port/v1/<account>/<container>``)."""
    path: str
    """Its unquoted path (``/v1/<account>/<container>``), which a signature covers."""
    realm: str | None = None
    realm_key: str = ""


def _realm(settings: Settings, name: str) -> SyncRealm | None:
    realms = settings.object.sync_realms
    return next((realm for n, realm in realms.items() if n.lower() == name.lower()), None)


def own_url(settings: Settings) -> str:
    return settings.service_url(settings.object.port, "/v1/")


def resolve(value: str, settings: Settings) -> SyncTarget:
    """Where ``X-Container-Sync-To`` points.

    :raises BadSyncTo: naming what is wrong (an unknown realm or cluster, a
        host that is not allowed, a malformed value).
    """
    conf = settings.object
    if value.startswith("//"):
        parts = value[2:].split("/")
        if len(parts) != 4 or not all(parts):
            raise BadSyncTo("X-Container-Sync-To must be //<realm>/<cluster>/<account>/<container>")
        realm_name, cluster, account, container = parts
        realm = _realm(settings, realm_name)
        if realm is None:
            raise BadSyncTo(f"No realm key for {realm_name!r}")
        base = next(
            (url for n, url in realm.clusters.items() if n.lower() == cluster.lower()), None
        )
        if base is None:
            raise BadSyncTo(f"No cluster endpoint for {realm_name!r} {cluster!r}")
        base = (base or own_url(settings)).rstrip("/")
        path = f"/v1/{account}/{container}"
        url = f"{base}/{quote(account, safe='')}/{quote(container, safe='')}"
        return SyncTarget(url, path, realm_name, realm.key)
    split = urlsplit(value)
    if split.scheme not in ("http", "https") or not split.hostname:
        raise BadSyncTo("Invalid scheme in X-Container-Sync-To, must be //, http or https")
    if split.hostname not in conf.sync_hosts:
        raise BadSyncTo(f"Invalid host {split.hostname!r} in X-Container-Sync-To")
    return SyncTarget(value.rstrip("/"), split.path.rstrip("/"))


def signature(realm_key: str, user_key: str, method: str, path: str, ts: str, nonce: str) -> str:
    text = f"{method}\n{path}\n{ts}\n{nonce}\n{user_key}"
    return hmac.new(realm_key.encode(), text.encode(), hashlib.sha1).hexdigest()


def auth_header(
    target: SyncTarget, user_key: str, method: str, path: str, ts: str
) -> dict[str, str]:
    """The header that lets ``method`` on ``path`` (unquoted) into the remote container."""
    if target.realm is None:
        return {"X-Container-Sync-Key": user_key}
    nonce = secrets.token_hex(16)
    signed = signature(target.realm_key, user_key, method, path, ts, nonce)
    return {"X-Container-Sync-Auth": f"{target.realm} {nonce} {signed}"}


def verify(header: str, settings: Settings, user_key: str, method: str, path: str, ts: str) -> bool:
    """Whether an ``X-Container-Sync-Auth`` header was signed for this write."""
    try:
        realm_name, nonce, signed = header.split()
    except ValueError:
        return False
    realm = _realm(settings, realm_name)
    if realm is None or not user_key:
        return False
    expected = signature(realm.key, user_key, method, path, ts, nonce)
    return hmac.compare_digest(expected, signed)
