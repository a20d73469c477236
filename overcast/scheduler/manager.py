"""The scheduler service: a host index kept current from the bus, answering selections.

Every scheduler process keeps its own index. Host reports come by fanout, so all
of them see every change; a selection counts its resources as taken in the index
of the scheduler that made it (so a release goes back to that one alone), and the
claim the conductor then makes in the database is what really guards against two
schedulers filling one host.
"""

from __future__ import annotations

from overcast.common.bus import Bus, Consumer, Endpoint, Target
from overcast.scheduler.index import HostIndex, place
from overcast.scheduler.messages import (
    TOPIC,
    Destinations,
    HostGone,
    HostReport,
    HostUsage,
    ReleaseResources,
    SelectDestinations,
)
from overcast.scheduler.plugins import FILTERS, WEIGHERS

DEFAULT_FILTERS = tuple(FILTERS)
DEFAULT_WEIGHERS = {"RAMWeigher": 1.0, "ServerGroupSoftAffinityWeigher": 1.0}


class SchedulerManager:
    def __init__(
        self,
        name: str,
        *,
        filters: tuple[str, ...] = DEFAULT_FILTERS,
        weighers: dict[str, float] | None = None,
        topic: str = TOPIC,
    ) -> None:
        self.name = name
        self.topic = topic
        weights = DEFAULT_WEIGHERS if weighers is None else weighers
        self.index = HostIndex(
            [FILTERS[f]() for f in filters],
            [(WEIGHERS[w](), multiplier) for w, multiplier in weights.items()],
        )
        self.endpoint = Endpoint()
        self.endpoint.on(HostReport)(self.host_report)
        self.endpoint.on(HostUsage)(self.host_usage)
        self.endpoint.on(HostGone)(self.host_gone)
        self.endpoint.on(SelectDestinations)(self.select_destinations)
        self.endpoint.on(ReleaseResources)(self.release)

    async def serve(self, bus: Bus) -> Consumer:
        return await bus.serve(self.topic, self.endpoint, server=self.name)

    async def host_report(self, report: HostReport) -> None:
        self.index.upsert(report.host_state())

    async def host_usage(self, usage: HostUsage) -> None:
        if usage.name in self.index.hosts:  # else its first report is still to come
            self.index.set_usage(usage.name, usage.used)

    async def host_gone(self, message: HostGone) -> None:
        self.index.remove(message.name)

    async def select_destinations(self, request: SelectDestinations) -> Destinations:
        hosts = place(self.index, request.spec(), request.count)
        zones = {host: self.index.hosts[host].availability_zone for host in hosts}
        return Destinations(hosts=hosts, scheduler=self.name, zones=zones)

    async def release(self, message: ReleaseResources) -> None:
        if message.host in self.index.hosts:
            self.index.release(message.host, message.resources)


class SchedulerClient:
    """What the conductor and the agents call (nova's scheduler rpcapi)."""

    def __init__(self, bus: Bus, topic: str = TOPIC) -> None:
        self.bus = bus
        self.topic = topic

    async def report(self, *reports: HostReport | HostUsage | None) -> None:
        """Tell every scheduler of these hosts' state (a None, for "no host", is skipped)."""
        for report in reports:
            if report is not None:
                await self.bus.fanout(self.topic, report)

    async def gone(self, name: str) -> None:
        await self.bus.fanout(self.topic, HostGone(name=name))

    async def select_destinations(self, request: SelectDestinations) -> Destinations:
        """:raises NoValidHost: when an instance of the request finds no host."""
        return await self.bus.call(Target(self.topic), request, Destinations)

    async def release(self, chosen: Destinations, host: str, resources: dict[str, int]) -> None:
        """Give back what ``chosen`` took on ``host``, to the scheduler that counted it."""
        message = ReleaseResources(host=host, resources=resources)
        await self.bus.cast(Target(self.topic, chosen.scheduler), message)
