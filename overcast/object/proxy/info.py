"""What the proxy learns about an account or a container before it acts: existence,
policy, ACLs, counts and metadata (tempurl keys, quotas, versioning...).

The answer is kept in the request's environ, which its middlewares share, and in
the proxy's :class:`~overcast.object.proxy.service.InfoCache` for a few seconds,
as Swift keeps it in memcache: any account or container write through a proxy of
the host empties that cache in every process, so only the counts it holds may
lag. Quotas, which need the counts, ask with ``fresh=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overcast.common.config import StoragePolicy
from overcast.object.proxy.backend import node_path
from overcast.object.proxy.service import ObjectService


@dataclass(frozen=True)
class ContainerInfo:
    policy: StoragePolicy
    read_acl: str | None
    write_acl: str | None
    object_count: int
    bytes_used: int
    headers: dict[str, str]
    """Every header the container server gave (lower-case names), sysmeta included."""

    def meta(self, name: str) -> str | None:
        """``X-Container-Meta-<name>``."""
        return self.headers.get(f"x-container-meta-{name.lower()}")


@dataclass(frozen=True)
class AccountInfo:
    container_count: int
    object_count: int
    bytes_used: int
    headers: dict[str, str]

    def meta(self, name: str) -> str | None:
        """``X-Account-Meta-<name>``."""
        return self.headers.get(f"x-account-meta-{name.lower()}")


async def _head(
    service: ObjectService, ring: Any, *names: str, fresh: bool = False
) -> dict[str, str] | None:
    if fresh:
        return await _ask(service, ring, *names)
    return await service.info_cache.headers(names, lambda: _ask(service, ring, *names))


async def _ask(service: ObjectService, ring: Any, *names: str) -> dict[str, str] | None:
    part, nodes = ring.get_nodes(*names)
    reply = await service.backend.first(
        nodes, lambda node: node_path(node, part, *names), {}, method="HEAD"
    )
    if reply is None or reply.status >= 300:
        return None
    return {name.lower(): value for name, value in reply.headers.items()}


async def container_info(
    service: ObjectService,
    environ: dict[str, Any],
    account: str,
    container: str,
    *,
    fresh: bool = False,
) -> ContainerInfo | None:
    """The container, or None when it does not exist (``fresh``: its counts as of now)."""
    key = f"container_info/{account}/{container}" + ("/fresh" if fresh else "")
    if key not in environ:
        ring = service.container_ring
        headers = await _head(service, ring, account, container, fresh=fresh)
        environ[key] = None if headers is None else ContainerInfo(
            policy=service.policy_of(headers.get("x-backend-storage-policy-index")),
            read_acl=headers.get("x-container-read"),
            write_acl=headers.get("x-container-write"),
            object_count=int(headers.get("x-container-object-count", "0")),
            bytes_used=int(headers.get("x-container-bytes-used", "0")),
            headers=headers,
        )  # fmt: skip
    found: ContainerInfo | None = environ[key]
    return found


async def account_info(
    service: ObjectService, environ: dict[str, Any], account: str, *, fresh: bool = False
) -> AccountInfo | None:
    """The account, or None when it does not exist yet (``fresh``: its counts as of now)."""
    key = f"account_info/{account}" + ("/fresh" if fresh else "")
    if key not in environ:
        headers = await _head(service, service.account_ring, account, fresh=fresh)
        environ[key] = None if headers is None else AccountInfo(
            container_count=int(headers.get("x-account-container-count", "0")),
            object_count=int(headers.get("x-account-object-count", "0")),
            bytes_used=int(headers.get("x-account-bytes-used", "0")),
            headers=headers,
        )  # fmt: skip
    found: AccountInfo | None = environ[key]
    return found
