"""Filters and weighers: small plugin classes, found through an explicit registry.

A filter says whether a host may take a request (``host_passes``); a weigher gives
a passing host a number, higher is better (``weigh``), which the scheduler
multiplies by the weigher's configured multiplier (negative packs instead of
spreading). ``[scheduler] filters`` and ``weighers`` name the plugins to use.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from overcast.scheduler.hosts import DISK_GB, MEMORY_MB, VCPU, HostState, RequestSpec


class Filter(Protocol):
    name: ClassVar[str]

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool: ...


class Weigher(Protocol):
    name: ClassVar[str]

    def weigh(self, host: HostState, spec: RequestSpec) -> float: ...


class ComputeFilter:
    """The host's agent is up and its service enabled."""

    name: ClassVar[str] = "ComputeFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.up and host.enabled


class ResourcesFilter:
    """Room for every resource class asked for (what Placement's allocation candidates check)."""

    name: ClassVar[str] = "ResourcesFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.fits(spec.resources)


class AvailabilityZoneFilter:
    name: ClassVar[str] = "AvailabilityZoneFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return spec.availability_zone in (None, host.availability_zone)


class AggregateFilter:
    """In one of the aggregates the request is tied to (by flavor or image properties)."""

    name: ClassVar[str] = "AggregateFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return not spec.aggregates or bool(spec.aggregates & host.aggregates)


class TraitsFilter:
    """Has every required trait and no forbidden one (e.g. from image properties)."""

    name: ClassVar[str] = "TraitsFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return spec.required_traits <= host.traits and not (spec.forbidden_traits & host.traits)


class ServerGroupAffinityFilter:
    name: ClassVar[str] = "ServerGroupAffinityFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        if spec.group_policy != "affinity" or not spec.group_hosts:
            return True
        return host.name in spec.group_hosts


class ServerGroupAntiAffinityFilter:
    name: ClassVar[str] = "ServerGroupAntiAffinityFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        if spec.group_policy != "anti-affinity" or host.name not in spec.group_hosts:
            return True
        if spec.max_server_per_host <= 1:
            return False
        return dict(spec.group_host_counts).get(host.name, 0) < spec.max_server_per_host


class HostsFilter:
    """Not a host already tried or excluded; one of the forced hosts when there are some."""

    name: ClassVar[str] = "HostsFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        if host.name in spec.ignore_hosts:
            return False
        return not spec.force_hosts or host.name in spec.force_hosts


class _FreeShare:
    resource_class: ClassVar[str]

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        inventory = host.inventories.get(self.resource_class)
        if inventory is None or inventory.capacity <= 0:
            return 0.0
        return host.free(self.resource_class) / inventory.capacity


class RAMWeigher(_FreeShare):
    """More free memory is better: spreads (a negative multiplier packs)."""

    name: ClassVar[str] = "RAMWeigher"
    resource_class: ClassVar[str] = MEMORY_MB


class CPUWeigher(_FreeShare):
    name: ClassVar[str] = "CPUWeigher"
    resource_class: ClassVar[str] = VCPU


class DiskWeigher(_FreeShare):
    name: ClassVar[str] = "DiskWeigher"
    resource_class: ClassVar[str] = DISK_GB


class ServerGroupSoftAffinityWeigher:
    """Soft policies: prefer hosts with (or without) members of the group."""

    name: ClassVar[str] = "ServerGroupSoftAffinityWeigher"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        members = dict(spec.group_host_counts).get(host.name, int(host.name in spec.group_hosts))
        if spec.group_policy == "soft-affinity":
            return float(members)
        if spec.group_policy == "soft-anti-affinity":
            return -float(members)
        return 0.0


FILTERS: dict[str, type[Filter]] = {
    cls.name: cls
    for cls in (
        ComputeFilter,
        ResourcesFilter,
        AvailabilityZoneFilter,
        AggregateFilter,
        TraitsFilter,
        ServerGroupAffinityFilter,
        ServerGroupAntiAffinityFilter,
        HostsFilter,
    )
}
WEIGHERS: dict[str, type[Weigher]] = {
    cls.name: cls for cls in (RAMWeigher, CPUWeigher, DiskWeigher, ServerGroupSoftAffinityWeigher)
}
