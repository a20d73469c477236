"""Creating servers: check the request, record the instances, hand them to the conductor.

The API answers 202 as soon as the instances are in the database (``building``,
``scheduling``); the conductor does the rest. Everything that can be refused is
refused here, synchronously, with Nova's message: a flavor or image the caller
cannot use, a flavor too small for the image, an unknown keypair or zone, quota.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import BadRequest, Forbidden
from overcast.common.auth.context import RequestContext
from overcast.common.db import table_of
from overcast.compute import flavors, groups, quotas
from overcast.compute import instances as instance_steps
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_19, V2_37, V2_52, V2_57, V2_74
from overcast.compute.models import (
    Instance,
    InstanceMetadata,
    InstanceTag,
    KeyPair,
    ServerGroupMember,
)
from overcast.compute.servers.schemas import CREATE
from overcast.compute.service import ComputeService
from overcast.compute.states import PowerState, TaskState, VmState
from overcast.compute.zones import zone_names

HOSTNAME_INVALID = re.compile(r"[^a-z0-9-]+")


@dataclass
class Request:
    """A create request, checked and resolved."""

    name: str
    flavor: dict[str, Any]
    image: dict[str, Any]
    image_ref: str
    min_count: int
    max_count: int
    availability_zone: str | None
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    admin_pass: str = ""
    config_drive: str = ""
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)
    force_host: str | None = None
    return_reservation_id: bool = False
    limits: dict[str, int] = field(default_factory=dict)
    """The project's quota limits, read with the rest: a create reads only usage (the part
    that must agree with its inserts) in its write transaction, so holds SQLite's one
    write lock for less."""


@dataclass(frozen=True)
class Created:
    uuids: list[str]
    first: Instance
    """The first instance made, not attached to a session: what the answer shows of it."""
    reservation_id: str
    admin_pass: str


def parse(ctx: RequestContext, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``server`` object and the scheduler hints of a create body.

    :raises BadRequest: when the body is not a valid create request at this version.
    """
    v.validate(CREATE, body)
    server: dict[str, Any] = body["server"]
    v.introduced(
        ctx.version,
        server,
        {"description": V2_19, "tags": V2_52, "host": V2_74, "hypervisor_hostname": V2_74},
    )
    if "personality" in server and ctx.version >= V2_57:
        raise v.unexpected("personality")
    if ctx.version >= V2_37 and "networks" not in server:
        raise BadRequest("'networks' is a required property")
    if isinstance(server.get("networks"), list) and server["networks"]:
        wanted = server["networks"][0].get("uuid") or server["networks"][0].get("port")
        raise BadRequest(f"Network {wanted} could not be found.")
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    return server, hints


def access_ip(value: str | None) -> str | None:
    """An access address as Nova stores it: canonical (``::babe:dc0c:1602``), or None if blank."""
    return str(ipaddress.ip_address(value)) if value else None


def _counts(server: dict[str, Any]) -> tuple[int, int]:
    min_count = v.to_int("min_count", server.get("min_count", 1), 1)
    max_count = v.to_int("max_count", server.get("max_count", min_count), 1)
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    return min_count, max_count


async def resolve(
    service: ComputeService, ctx: RequestContext, server: dict[str, Any], hints: dict[str, Any]
) -> Request:
    """Look up what the request names and check it all fits together."""
    min_count, max_count = _counts(server)
    flavor = await _flavor(service, ctx, server["flavorRef"])
    key_data: str | None = None
    zone: tuple[str | None, str | None] = (None, None)
    if server.get("key_name") or server.get("availability_zone"):
        async with service.db.read() as session:
            key_data = await key_data_of(session, ctx, server.get("key_name"))
            zone = await _zone(session, service, ctx, server.get("availability_zone"))
    limits = await quotas.cached_limits(service, ctx.project_id or "")
    image_ref, image = await image_for(service, ctx, server, flavor)
    request = Request(
        name=server["name"],
        flavor=flavor,
        image=image,
        image_ref=image_ref,
        min_count=min_count,
        max_count=max_count,
        availability_zone=zone[0],
        key_name=server.get("key_name"),
        key_data=key_data,
        user_data=server.get("user_data"),
        metadata=dict(server.get("metadata", {})),
        tags=list(dict.fromkeys(server.get("tags", []))),
        description=server.get("description"),
        access_ip_v4=access_ip(server.get("accessIPv4")),
        access_ip_v6=access_ip(server.get("accessIPv6")),
        admin_pass=server.get("adminPass") or secrets.token_urlsafe(9),
        config_drive="True" if v.to_bool(server.get("config_drive") or False) else "",
        block_devices=list(server.get("block_device_mapping_v2", [])),
        hints=hints,
        force_host=zone[1] or server.get("host"),
        return_reservation_id=v.to_bool(server.get("return_reservation_id", False)),
        limits=limits,
    )
    if request.force_host and not ctx.can("os_compute_api:servers:create:forced_host"):
        raise Forbidden("Policy doesn't allow os_compute_api:servers:create:forced_host.")
    return request


async def _flavor(service: ComputeService, ctx: RequestContext, ref: Any) -> dict[str, Any]:
    flavorid = str(ref).rstrip("/").rsplit("/", 1)[-1]
    flavor = await flavors.known_flavor(service, flavorid)
    if flavor is None or flavor.disabled or not await flavors.may_create_with(service, ctx, flavor):
        raise BadRequest(f"Flavor {flavorid} could not be found.")
    extra_specs = dict(flavor.snapshot["extra_specs"])
    return {**flavor.snapshot, "extra_specs": extra_specs}  # a copy: the cached one stays


async def key_data_of(session: AsyncSession, ctx: RequestContext, name: str | None) -> str | None:
    if name is None:
        return None
    pair = await session.scalar(
        select(KeyPair).where(KeyPair.user_id == ctx.require_auth().user_id, KeyPair.name == name)
    )
    if pair is None:
        raise BadRequest("Invalid key_name provided.")
    return pair.public_key


async def _zone(
    session: AsyncSession, service: ComputeService, ctx: RequestContext, raw: str | None
) -> tuple[str | None, str | None]:
    """The requested zone, and a host forced with Nova's ``zone:host`` syntax (admins)."""
    if not raw:
        return None, None
    zone, _, host = raw.partition(":")
    if zone and zone not in await zone_names(session, service):
        raise BadRequest("The requested availability zone is not available")
    return zone or None, host.partition(":")[0] or None


async def image_for(
    service: ComputeService, ctx: RequestContext, server: dict[str, Any], flavor: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    image_ref = str(server.get("imageRef") or "").rstrip("/").rsplit("/", 1)[-1]
    boot_volume = any(
        str(bd.get("boot_index", "")) == "0" and bd.get("destination_type") == "volume"
        for bd in server.get("block_device_mapping_v2", [])
    )
    if not image_ref:
        for bd in server.get("block_device_mapping_v2", []):
            if bd.get("source_type") == "image" and str(bd.get("boot_index", "")) == "0":
                image_ref = bd.get("uuid", "")
    if not image_ref:
        if boot_volume:
            raise BadRequest("Block Storage is not available: volume-backed servers cannot boot.")
        raise BadRequest("Missing imageRef attribute")
    try:
        uuid.UUID(image_ref)
    except ValueError:
        raise BadRequest("Invalid imageRef provided.") from None
    image = await service.images.get(ctx.token or "", image_ref)
    if image is None:
        raise BadRequest(f"Image {image_ref} could not be found.")
    if image.get("status") != "active":
        raise BadRequest(f"Image {image_ref} is not active.")
    if int(image.get("min_ram") or 0) > flavor["memory_mb"]:
        raise BadRequest("Flavor's memory is too small for requested image.")
    root_bytes = flavor["root_gb"] << 30
    if flavor["root_gb"] and int(image.get("min_disk") or 0) > flavor["root_gb"]:
        raise BadRequest("Flavor's disk is too small for requested image.")
    if flavor["root_gb"] and int(image.get("size") or 0) > root_bytes:
        raise BadRequest(
            f"Flavor's disk is too small for requested image. Flavor disk is {root_bytes} "
            f"bytes, image is {image.get('size')} bytes."
        )
    keep = ("id", "name", "min_disk", "min_ram", "disk_format", "container_format", "size")
    facts = {key: image.get(key) for key in keep}
    facts["properties"] = {
        k: val
        for k, val in image.items()
        if k.startswith(("hw_", "os_", "img_")) and k != "os_hash_value"
    }
    return image_ref, facts


async def _allowed_count(session: AsyncSession, ctx: RequestContext, request: Request) -> int:
    """How many instances quota allows (at least ``min_count``, at most ``max_count``).

    :raises Forbidden: when not even ``min_count`` fit.
    """
    project_id = ctx.project_id or ""
    limits = request.limits
    per = {"instances": 1, "cores": request.flavor["vcpus"], "ram": request.flavor["memory_mb"]}
    used = await quotas.instance_usage(session, project_id)
    allowed = request.max_count
    for resource, each in per.items():
        limit = limits[resource]
        if limit < 0:
            continue
        room = (limit - used[resource]) // each if each else request.max_count
        if room < request.min_count:
            wanted = each * request.min_count
            raise Forbidden(quotas.over_quota(resource, limit, used[resource], wanted))
        allowed = min(allowed, room)
    if len(request.metadata) > limits["metadata_items"] >= 0:
        raise Forbidden("Quota exceeded for metadata_items: too many metadata items.")
    return allowed


def _hostname(name: str, index: int, count: int) -> str:
    base = HOSTNAME_INVALID.sub("-", name.lower()).strip("-")[:63] or "server"
    return f"{base}-{index + 1}" if count > 1 else base


def _display_name(name: str, index: int, count: int) -> str:
    return f"{name}-{index + 1}" if count > 1 else name


async def create(service: ComputeService, ctx: RequestContext, request: Request) -> Created:
    """Record the instances of ``request``; their uuids (the caller casts the build).

    The rows go in with Core inserts, one statement per table whatever the count.
    Through the ORM's unit of work these inserts were a sixth of a boot's work.
    """
    auth = ctx.require_auth()
    now = service.clock.now()
    reservation_id = f"r-{secrets.token_hex(4)}"
    group_uuid = request.hints.get("group")
    spec = {
        "availability_zone": request.availability_zone,
        "hints": request.hints,
        "force_host": request.force_host,
        "group": group_uuid,
    }
    async with service.db.write() as session:
        count = await _allowed_count(session, ctx, request)
        group = None
        if group_uuid:
            group = await groups.join(
                session, ctx, group_uuid, count, request.limits["server_group_members"]
            )
        rows = [
            {
                "uuid": str(uuid.uuid4()),
                "project_id": auth.project_id or "",
                "user_id": auth.user_id,
                "display_name": _display_name(request.name, index, count),
                "display_description": request.description,
                "hostname": _hostname(request.name, index, count),
                "reservation_id": reservation_id,
                "launch_index": index,
                "availability_zone": request.availability_zone,
                "flavor": request.flavor,
                "vcpus": request.flavor["vcpus"],
                "memory_mb": request.flavor["memory_mb"],
                "root_gb": request.flavor["root_gb"],
                "image_ref": request.image_ref,
                "image": request.image,
                "key_name": request.key_name,
                "key_data": request.key_data,
                "user_data": request.user_data,
                "config_drive": request.config_drive,
                "access_ip_v4": request.access_ip_v4,
                "access_ip_v6": request.access_ip_v6,
                "vm_state": VmState.BUILDING,
                "task_state": TaskState.SCHEDULING,
                "power_state": PowerState.NOSTATE,
                "request_spec": spec,
                "system_metadata": {},
                "block_devices": request.block_devices,
                "root_device_name": "/dev/vda",
                "created_at": now,
                "updated_at": now,
            }
            for index in range(count)
        ]
        uuids = [row["uuid"] for row in rows]
        await session.execute(_INSERT_INSTANCE, rows)
        if request.metadata:
            items = request.metadata.items()
            metadata = [
                {"instance_uuid": u, "key": k, "value": val} for u in uuids for k, val in items
            ]
            await session.execute(_INSERT_METADATA, metadata)
        if request.tags:
            tags = [{"instance_uuid": u, "tag": t} for u in uuids for t in request.tags]
            await session.execute(_INSERT_TAG, tags)
        if group is not None:
            group.members.extend(ServerGroupMember(instance_uuid=u) for u in uuids)
        await instance_steps.start_actions(
            session,
            uuids,
            "create",
            ctx.request_id,
            now,
            user_id=auth.user_id,
            project_id=auth.project_id,
        )
    return Created(uuids, Instance(**rows[0]), reservation_id, request.admin_pass)


_INSERT_INSTANCE = insert(table_of(Instance))
_INSERT_METADATA = insert(table_of(InstanceMetadata))
_INSERT_TAG = insert(table_of(InstanceTag))
