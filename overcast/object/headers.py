"""Header names the proxy and the storage nodes agree on."""

from __future__ import annotations

CONTAINER_SETTINGS = (
    "x-container-read",
    "x-container-write",
    "x-container-sync-to",
    "x-container-sync-key",
    "x-versions-location",
    "x-history-location",
)
"""Container headers that are kept like metadata (ACLs, sync, versioning)."""

OBJECT_SETTINGS = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-robots-tag",
    "x-object-manifest",
)
"""Object headers kept like metadata, which a POST may change (Swift's allowed_headers)."""
