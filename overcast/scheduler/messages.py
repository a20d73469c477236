"""What the scheduler hears and answers on the bus (topic ``scheduler``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from overcast.common.bus import Message
from overcast.scheduler.hosts import HostState, Inventory, RequestSpec

TOPIC = "scheduler"


class InventoryRecord(Message):
    KIND: ClassVar[str] = "scheduler.inventory"
    total: int = Field(ge=0)
    reserved: int = Field(default=0, ge=0)
    allocation_ratio: float = Field(default=1.0, gt=0)
    max_unit: int | None = None


class HostReport(Message):
    """A compute node as its agent (or the conductor, after a claim) sees it now."""

    KIND: ClassVar[str] = "scheduler.host_report"
    name: str
    inventories: dict[str, InventoryRecord]
    used: dict[str, int] = {}
    availability_zone: str = "nova"
    aggregates: list[str] = []
    traits: list[str] = []
    up: bool = True
    enabled: bool = True

    def host_state(self) -> HostState:
        return HostState(
            self.name,
            {
                rc: Inventory(i.total, i.reserved, i.allocation_ratio, i.max_unit)
                for rc, i in self.inventories.items()
            },
            dict(self.used),
            self.availability_zone,
            frozenset(self.aggregates),
            frozenset(self.traits),
            self.up,
            self.enabled,
        )


class HostUsage(Message):
    """What a compute node has in use after a claim or a release, as the database counts it.

    Cheaper than a whole :class:`HostReport`: the rest of the host (zone,
    aggregates, state) did not change.
    """

    KIND: ClassVar[str] = "scheduler.host_usage"
    name: str
    used: dict[str, int]


class HostGone(Message):
    KIND: ClassVar[str] = "scheduler.host_gone"
    name: str


class SelectDestinations(Message):
    """Hosts for ``count`` instances of one request, their resources counted as taken."""

    KIND: ClassVar[str] = "scheduler.select_destinations"
    resources: dict[str, int]
    count: int = Field(default=1, ge=1)
    availability_zone: str | None = None
    required_traits: list[str] = []
    forbidden_traits: list[str] = []
    aggregates: list[str] = []
    group_policy: str | None = None
    group_hosts: list[str] = []
    max_server_per_host: int = Field(default=1, ge=1)
    group_host_counts: dict[str, int] = {}
    ignore_hosts: list[str] = []
    force_hosts: list[str] = []

    def spec(self) -> RequestSpec:
        return RequestSpec(
            resources=dict(self.resources),
            availability_zone=self.availability_zone,
            required_traits=frozenset(self.required_traits),
            forbidden_traits=frozenset(self.forbidden_traits),
            aggregates=frozenset(self.aggregates),
            group_policy=self.group_policy,
            group_hosts=frozenset(self.group_hosts),
            max_server_per_host=self.max_server_per_host,
            group_host_counts=tuple(sorted(self.group_host_counts.items())),
            ignore_hosts=frozenset(self.ignore_hosts),
            force_hosts=frozenset(self.force_hosts),
        )


class Destinations(Message):
    KIND: ClassVar[str] = "scheduler.destinations"
    hosts: list[str]
    scheduler: str
    """The scheduler that chose them: the one whose index counts them as taken."""
    zones: dict[str, str] = {}
    """The availability zone of each chosen host, as the scheduler knows it."""


class ReleaseResources(Message):
    """Resources taken by a selection that will not be used (a failed claim or spawn)."""

    KIND: ClassVar[str] = "scheduler.release"
    host: str
    resources: dict[str, int]
