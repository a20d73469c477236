"""Compute services and nodes: registration, heartbeats, and what the scheduler is told of them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.config import ComputeSettings
from overcast.compute import messages as m
from overcast.compute import placement
from overcast.compute.models import Aggregate, AggregateHost, ComputeNode, Service
from overcast.compute.service import ComputeService
from overcast.scheduler.messages import HostReport, HostUsage, InventoryRecord

COMPUTE_BINARY = "nova-compute"
CONTROL_BINARIES = {"nova-conductor": m.CONDUCTOR, "nova-scheduler": "scheduler"}
"""The services a control process (``start_control``) runs, and their topics."""


def is_up(service: Service, now: datetime, down_after: float) -> bool:
    if service.forced_down or service.last_seen_up is None:
        return False
    return now - service.last_seen_up <= timedelta(seconds=down_after)


async def service_by_host(
    session: AsyncSession, host: str, binary: str = COMPUTE_BINARY
) -> Service | None:
    found: Service | None = await session.scalar(
        select(Service).where(Service.host == host, Service.binary == binary)
    )
    return found


async def seen(session: AsyncSession, host: str, binary: str, topic: str, now: datetime) -> Service:
    """The service ``binary`` on ``host``, created if new, marked as seen up now."""
    service = await service_by_host(session, host, binary)
    if service is None:
        service = Service(
            uuid=str(uuid.uuid4()),
            host=host,
            binary=binary,
            topic=topic,
            disabled=False,
            forced_down=False,
            created_at=now,
        )
        session.add(service)
    service.last_seen_up = now
    service.updated_at = now
    return service


async def register(
    session: AsyncSession, conf: ComputeSettings, request: m.RegisterNode, now: datetime
) -> tuple[Service, ComputeNode]:
    """Create or refresh a compute host's service and node (with its inventory)."""
    service = await seen(session, request.host, COMPUTE_BINARY, m.COMPUTE, now)
    info = request.node
    node: ComputeNode | None = await session.scalar(
        select(ComputeNode).where(ComputeNode.hypervisor_hostname == info.hypervisor_hostname)
    )
    if node is None:
        node = ComputeNode(
            uuid=str(uuid.uuid4()),
            hypervisor_hostname=info.hypervisor_hostname,
            generation=0,
            created_at=now,
            inventories=[],
        )
        session.add(node)
    node.host = request.host
    node.hypervisor_type = info.hypervisor_type
    node.hypervisor_version = info.hypervisor_version
    node.host_ip = info.host_ip
    node.cpu_info = info.cpu_info
    placement.touched(node, now)
    placement.set_inventories(
        node, placement.inventories(conf, info.vcpus, info.memory_mb, info.local_gb)
    )
    await session.flush()
    return service, node


async def host_aggregates(session: AsyncSession, host: str) -> list[Aggregate]:
    return list(
        await session.scalars(
            select(Aggregate)
            .join(AggregateHost, AggregateHost.aggregate_id == Aggregate.id)
            .where(AggregateHost.host == host)
            .order_by(Aggregate.id)
        )
    )


def zone_of(aggregates: list[Aggregate], default: str) -> str:
    for aggregate in aggregates:
        for item in aggregate.metadata_items:
            if item.key == "availability_zone":
                return item.value
    return default


async def zone_of_host(session: AsyncSession, conf: ComputeSettings, host: str) -> str:
    """The availability zone of ``host``: its aggregates', else the default one."""
    return zone_of(await host_aggregates(session, host), conf.default_availability_zone)


async def host_report(
    session: AsyncSession,
    conf: ComputeSettings,
    node: ComputeNode,
    service: Service | None,
    now: datetime,
) -> HostReport:
    aggregates = await host_aggregates(session, node.host)
    return HostReport(
        name=node.host,
        inventories={
            inv.resource_class: InventoryRecord(
                total=inv.total,
                reserved=inv.reserved,
                allocation_ratio=inv.allocation_ratio,
                max_unit=inv.max_unit,
            )
            for inv in node.inventories
        },
        used={inv.resource_class: inv.used for inv in node.inventories},
        availability_zone=zone_of(aggregates, conf.default_availability_zone),
        aggregates=[a.uuid for a in aggregates],
        up=service is not None and is_up(service, now, conf.service_down_time),
        enabled=service is not None and not service.disabled,
    )


async def all_reports(
    session: AsyncSession, conf: ComputeSettings, now: datetime
) -> list[HostReport]:
    services = {
        s.host: s
        for s in await session.scalars(select(Service).where(Service.binary == COMPUTE_BINARY))
    }
    nodes = list(await session.scalars(select(ComputeNode).order_by(ComputeNode.id)))
    return [await host_report(session, conf, n, services.get(n.host), now) for n in nodes]


async def usage_of(session: AsyncSession, released: placement.Released | None) -> HostUsage | None:
    """What the host that ``released`` gave resources back on has in use now (None: nothing)."""
    if released is None:
        return None
    host = await session.scalar(
        select(ComputeNode.host).where(ComputeNode.id == released.provider_id)
    )
    return None if host is None else HostUsage(name=host, used=released.used)


async def report_of_host(
    session: AsyncSession, service: ComputeService, host: str | None
) -> HostReport | None:
    """The current report of ``host`` (None when it has no node)."""
    node = await placement.node_by_host(session, host) if host else None
    if node is None:
        return None
    fresh = await placement.fresh_node(session, node.id)
    compute = await service_by_host(session, node.host)
    return await host_report(session, service.conf, fresh or node, compute, service.clock.now())
