"""The in-memory host index: a host for a request in milliseconds among a million.

Schedulable hosts (up and enabled) sit in lists sorted by free memory: one for
all, one per availability zone, per trait and per aggregate. A request is
answered from its smallest source of candidates:

* forced hosts, or the hosts of an ``affinity`` group, when it has them;
* else the smallest of the lists it must be in (its zone, each required trait,
  its aggregates merged), walked from the end the RAM weigher prefers: most free
  memory to spread, or the least that still fits (found by bisection) to pack.
  No host past the first without enough memory can fit, so the walk stops there.

The filters run on the candidates until ``candidates`` of them pass; the weighers
pick the best of those. Every change (a claim, a release, a host going down) moves
one host in the lists: O(log n), never a rebuild.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from sortedcontainers import SortedKeyList

from overcast.common.bus import ExpectedError
from overcast.scheduler.hosts import MEMORY_MB, HostState, RequestSpec
from overcast.scheduler.plugins import Filter, RAMWeigher, Weigher

Key = tuple[str, str]
ALL: Key = ("all", "")


def _free_ram(host: HostState) -> tuple[int, str]:
    return host.free(MEMORY_MB), host.name


def _keys(host: HostState) -> list[Key]:
    """The sorted lists ``host`` belongs in."""
    return [
        ALL,
        ("zone", host.availability_zone),
        *(("trait", trait) for trait in host.traits),
        *(("aggregate", aggregate) for aggregate in host.aggregates),
    ]


class HostIndex:
    def __init__(
        self,
        filters: Sequence[Filter],
        weighers: Sequence[tuple[Weigher, float]],
        *,
        candidates: int = 8,
    ) -> None:
        self.filters = list(filters)
        self.weighers = list(weighers)
        self.candidates = candidates
        self.pack = any(isinstance(w, RAMWeigher) and m < 0 for w, m in self.weighers)
        self.hosts: dict[str, HostState] = {}
        self._lists: dict[Key, Any] = {ALL: SortedKeyList(key=_free_ram)}

    def __len__(self) -> int:
        return len(self.hosts)

    # -- changes --------------------------------------------------------------------

    def upsert(self, host: HostState) -> None:
        """Add ``host``, or replace what the index knew of it."""
        self.remove(host.name)
        self.hosts[host.name] = host
        self._list(host)

    def load(self, hosts: Iterable[HostState]) -> None:
        """Add many hosts at once (start-up): one sort per list instead of one insertion each."""
        fresh = [host for host in hosts if host.name not in self.hosts]
        groups: dict[Key, list[HostState]] = {}
        for host in fresh:
            self.hosts[host.name] = host
            if _schedulable(host):
                for key in _keys(host):
                    groups.setdefault(key, []).append(host)
        for key, members in groups.items():
            self._sorted(key).update(members)

    def remove(self, name: str) -> None:
        host = self.hosts.pop(name, None)
        if host is not None:
            self._unlist(host)

    def consume(self, name: str, resources: dict[str, int]) -> None:
        """Count ``resources`` as allocated on ``name`` (a claim made)."""
        self._change_usage(name, resources, 1)

    def release(self, name: str, resources: dict[str, int]) -> None:
        """Count ``resources`` as free again on ``name`` (an instance gone, a claim undone)."""
        self._change_usage(name, resources, -1)

    def set_usage(self, name: str, used: dict[str, int]) -> None:
        """What ``name`` has in use now, by resource class (the database's count after a change)."""
        host = self.hosts[name]
        self._unlist(host)
        host.used.update(used)
        self._list(host)

    def set_state(self, name: str, *, up: bool | None = None, enabled: bool | None = None) -> None:
        host = self.hosts[name]
        self._unlist(host)
        if up is not None:
            host.up = up
        if enabled is not None:
            host.enabled = enabled
        self._list(host)

    def _change_usage(self, name: str, resources: dict[str, int], sign: int) -> None:
        host = self.hosts[name]
        self._unlist(host)
        for resource_class, amount in resources.items():
            host.used[resource_class] = max(0, host.used.get(resource_class, 0) + sign * amount)
        self._list(host)

    def _sorted(self, key: Key) -> Any:
        if key not in self._lists:
            self._lists[key] = SortedKeyList(key=_free_ram)
        return self._lists[key]

    def _list(self, host: HostState) -> None:
        if _schedulable(host):
            for key in _keys(host):
                self._sorted(key).add(host)

    def _unlist(self, host: HostState) -> None:
        if _schedulable(host):
            for key in _keys(host):
                self._sorted(key).discard(host)

    # -- selection ------------------------------------------------------------------

    def select(self, spec: RequestSpec) -> HostState | None:
        """The best host for ``spec``, or None when no host passes every filter."""
        passing = []
        for host in self._candidates(spec):
            if all(f.host_passes(host, spec) for f in self.filters):
                passing.append(host)
                if len(passing) >= self.candidates:
                    break
        if not passing:
            return None
        return max(passing, key=lambda host: self._weight(host, spec))

    def _weight(self, host: HostState, spec: RequestSpec) -> float:
        return sum(multiplier * w.weigh(host, spec) for w, multiplier in self.weighers)

    def _candidates(self, spec: RequestSpec) -> Iterator[HostState]:
        named = self._named(spec)
        if named is not None:
            yield from (self.hosts[name] for name in sorted(named) if name in self.hosts)
            return
        memory = spec.resources.get(MEMORY_MB, 0)
        zone = ALL if spec.availability_zone is None else ("zone", spec.availability_zone)
        required = [zone, *(("trait", trait) for trait in spec.required_traits)]
        sources = [[self._lists.get(key)] for key in required]
        if spec.aggregates:
            sources.append([self._lists.get(("aggregate", a)) for a in sorted(spec.aggregates)])
        lists = [[one for one in source if one] for source in sources]
        if not all(lists):
            return  # a zone, trait or aggregates without any schedulable host
        smallest = min(lists, key=lambda source: sum(len(one) for one in source))
        if len(smallest) == 1:
            yield from self._walk(smallest[0], memory)
            return
        seen: set[str] = set()  # a host in two of the aggregates comes once
        walks = [self._walk(one, memory) for one in smallest]
        for host in heapq.merge(*walks, key=_free_ram, reverse=not self.pack):
            if host.name not in seen:
                seen.add(host.name)
                yield host

    def _named(self, spec: RequestSpec) -> frozenset[str] | None:
        if spec.force_hosts:
            return spec.force_hosts
        if spec.group_policy == "affinity" and spec.group_hosts:
            return spec.group_hosts
        return None

    def _walk(self, ordered: Any, memory: int) -> Iterator[HostState]:
        start = ordered.bisect_key_left((memory, ""))
        if self.pack:
            yield from ordered.islice(start)
        else:
            yield from ordered.islice(start, reverse=True)


def _schedulable(host: HostState) -> bool:
    return host.up and host.enabled


class NoValidHost(ExpectedError):
    """Nova's words: no host passes the filters for (one of) the instances."""


def place(index: HostIndex, spec: RequestSpec, count: int = 1) -> list[str]:
    """Hosts for ``count`` instances of ``spec``, their resources counted as taken.

    Each instance sees the ones placed before it (resources, group members), as
    Nova's scheduler does for a multi-create.

    :raises NoValidHost: when one of them finds no host; then nothing stays taken.
    """
    chosen: list[str] = []
    counts = dict(spec.group_host_counts)
    try:
        for _ in range(count):
            host = index.select(spec)
            if host is None:
                raise NoValidHost("No valid host was found. There are not enough hosts available.")
            index.consume(host.name, spec.resources)
            chosen.append(host.name)
            if spec.group_policy is not None:
                counts[host.name] = counts.get(host.name, 0) + 1
                spec = replace(
                    spec,
                    group_hosts=spec.group_hosts | {host.name},
                    group_host_counts=tuple(sorted(counts.items())),
                )
    except NoValidHost:
        for name in chosen:
            index.release(name, spec.resources)
        raise
    return chosen
