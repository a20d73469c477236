"""What the scheduler knows of a host and what a request asks for, in Placement's terms.

A host is one resource provider (its compute node) with an inventory per resource
class: ``total``, ``reserved`` and an ``allocation_ratio``, so that its capacity
is ``(total - reserved) * allocation_ratio``, less what is allocated. Requests ask
for amounts of resource classes, plus placement constraints (availability zone,
aggregates, traits, server-group affinity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

VCPU, MEMORY_MB, DISK_GB = "VCPU", "MEMORY_MB", "DISK_GB"
RESOURCE_CLASSES = (VCPU, MEMORY_MB, DISK_GB)


@dataclass(frozen=True, slots=True)
class Inventory:
    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0
    max_unit: int | None = None
    """The largest amount one consumer may take (default: the whole capacity)."""

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)


@dataclass(slots=True)
class HostState:
    name: str
    inventories: dict[str, Inventory]
    used: dict[str, int] = field(default_factory=dict)
    availability_zone: str = "nova"
    aggregates: frozenset[str] = frozenset()
    traits: frozenset[str] = frozenset()
    up: bool = True
    """Its agent heartbeats; a down host is not scheduled to."""
    enabled: bool = True
    """Its compute service is not disabled by an operator."""

    def free(self, resource_class: str) -> int:
        inventory = self.inventories.get(resource_class)
        if inventory is None:
            return 0
        return inventory.capacity - self.used.get(resource_class, 0)

    def fits(self, resources: dict[str, int]) -> bool:
        for resource_class, amount in resources.items():
            if amount <= 0:
                continue
            inventory = self.inventories.get(resource_class)
            if inventory is None or amount > self.free(resource_class):
                return False
            if inventory.max_unit is not None and amount > inventory.max_unit:
                return False
        return True


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One instance to place."""

    resources: dict[str, int]
    availability_zone: str | None = None
    required_traits: frozenset[str] = frozenset()
    forbidden_traits: frozenset[str] = frozenset()
    aggregates: frozenset[str] = frozenset()
    """Hosts must be in at least one of these (empty: anywhere)."""
    group_policy: str | None = None
    """``affinity``, ``anti-affinity``, ``soft-affinity`` or ``soft-anti-affinity``."""
    group_hosts: frozenset[str] = frozenset()
    """Hosts that already run members of the server group."""
    max_server_per_host: int = 1
    """For ``anti-affinity``: the group's ``max_server_per_host`` rule."""
    group_host_counts: tuple[tuple[str, int], ...] = ()
    """Members of the group per host, for ``max_server_per_host`` above 1."""
    ignore_hosts: frozenset[str] = frozenset()
    """Hosts already tried for this instance (rescheduling) or excluded by a hint."""
    force_hosts: frozenset[str] = frozenset()
    """An admin's ``availability_zone=az:host``: only these."""
