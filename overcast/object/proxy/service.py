"""The proxy's state: the rings, the storage policies, Swift's limits and a client to the nodes."""

from __future__ import annotations

import httpx

from overcast.common.config import Settings, StoragePolicy
from overcast.object.bootstrap import load_rings
from overcast.object.proxy.backend import Backend
from overcast.object.proxy.constraints import Limits


class UnknownPolicy(ValueError):
    pass


class ObjectService:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        conf = settings.object
        rings = load_rings(settings)
        self.account_ring = rings.account
        self.container_ring = rings.container
        self.object_rings = rings.objects
        self.policies = {p.index: p for p in conf.policies}
        self.default_policy = next(p for p in conf.policies if p.default)
        self.limits = Limits()
        self.client = client or httpx.AsyncClient(limits=httpx.Limits(max_connections=256))
        self.backend = Backend(self.client, timeout=conf.node_timeout)

    def policy_named(self, name: str) -> StoragePolicy:
        """:raises UnknownPolicy: when no storage policy has this name."""
        for policy in self.policies.values():
            if policy.name.lower() == name.strip().lower():
                return policy
        raise UnknownPolicy(f"Invalid X-Storage-Policy {name!r}")

    def policy_of(self, index: str | int | None) -> StoragePolicy:
        try:
            return self.policies[int(index or 0)]
        except (KeyError, ValueError):
            return self.default_policy

    async def close(self) -> None:
        await self.client.aclose()
