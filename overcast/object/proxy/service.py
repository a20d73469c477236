"""The proxy's state: the rings, the storage policies, Swift's limits, a client to the
nodes and what it learnt of accounts and containers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable

import httpx

from overcast.common.coherence import CoherentCache, FileCounter
from overcast.common.config import Settings, StoragePolicy
from overcast.object.bootstrap import load_rings
from overcast.object.proxy.backend import Backend
from overcast.object.proxy.constraints import Limits

INFO_CACHE_SIZE = 10_000
"""Accounts and containers whose headers a proxy process keeps."""
Headers = dict[str, str]


class UnknownPolicy(ValueError):
    pass


class InfoCache:
    """Accounts' and containers' headers, kept ``seconds`` and only while no account or
    container write went through a proxy of the host (:meth:`changed`).

    What does not exist is never kept: a new container is seen at once.
    """

    def __init__(
        self,
        counter: FileCounter | None,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counter = counter
        self.seconds = seconds
        self.clock = clock
        self._cache = CoherentCache(counter, INFO_CACHE_SIZE)

    async def headers(
        self, key: Hashable, load: Callable[[], Awaitable[Headers | None]]
    ) -> Headers | None:
        if self.seconds <= 0:
            return await load()

        async def timed() -> tuple[float, Headers | None]:
            return self.clock(), await load()

        loaded_at, found = await self._cache.get_or_load(key, timed)
        if self.clock() - loaded_at >= self.seconds:  # kept too long: ask again
            self._cache.forget(key)
            loaded_at, found = await self._cache.get_or_load(key, timed)
        if found is None:
            self._cache.forget(key)
        return found

    async def changed(self) -> None:
        """An account or a container changed: every proxy process of the host forgets all."""
        if self.counter is not None:
            await self.counter.bump()

    def close(self) -> None:
        if self.counter is not None:
            self.counter.close()


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
        counter = FileCounter(settings.data_dir / "run" / "object-info.generation")
        self.info_cache = InfoCache(counter, conf.info_cache_seconds)

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
        self.info_cache.close()
        await self.client.aclose()
