"""Actions that copy or move a guest: createImage, shelve/unshelve, rebuild, resize.

Images (snapshots, shelved servers) are created in the image service by the
API with the caller's token, queued; the agent uploads the disk with that
token, so the image service applies the same policy it would to the user.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from starlette.responses import Response

from overcast.common.api import empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden
from overcast.common.clients import ImageServiceError
from overcast.compute import flavors, instances, placement, quotas
from overcast.compute import messages as m
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_19, V2_45, V2_54, V2_56, V2_57, V2_77
from overcast.compute.conductor import nodes
from overcast.compute.conductor.build import spec_of
from overcast.compute.handlers.server_actions import Call, action
from overcast.compute.handlers.servers import show
from overcast.compute.models import Instance, InstanceMetadata, Migration
from overcast.compute.rpcapi import AgentClient, ConductorClient
from overcast.compute.servers import actions as a
from overcast.compute.servers import views
from overcast.compute.servers.create import access_ip, image_for, key_data_of
from overcast.compute.servers.lookup import visible_server
from overcast.compute.states import PowerState, VmState
from overcast.scheduler.manager import SchedulerClient


async def _new_image(
    call: Call, instance: Instance, name: str, extra: dict[str, Any], image_type: str
) -> str:
    """A queued private image in the caller's project for a copy of ``instance``'s disk."""
    base = instance.image
    body = {
        **{k: str(val) for k, val in extra.items()},
        "name": name,
        "disk_format": "qcow2",
        "container_format": "bare",
        "visibility": "private",
        "min_disk": int(base.get("min_disk") or 0),
        "min_ram": int(base.get("min_ram") or 0),
        "instance_uuid": instance.uuid,
        "image_type": image_type,
        "base_image_ref": instance.image_ref,
        "user_id": instance.user_id,
    }
    try:
        image = await call.service.images.create(call.ctx.token or "", body)
    except ImageServiceError as exc:
        raise BadRequest(f"The image service refused the snapshot: {exc}") from None
    image_id: str = image["id"]
    return image_id


async def _peek(call: Call, policy: str, rule: str) -> Instance:
    """The server, checked for policy, lock and state before anything is created elsewhere."""
    async with call.service.db.read() as session:
        instance = await visible_server(session, call.ctx, call.server_id, policy)
    a.check_locked(call.ctx, instance)
    a.check_state(instance, call.name, a.TRANSITIONS[rule])
    return instance


async def _snapshot(
    call: Call,
    policy: str,
    rule: str,
    peeked: Instance,
    name: str,
    extra: dict[str, Any],
    rotation: m.Rotation | None = None,
) -> str:
    """Create the image, then start the action; the image goes again if the action cannot.

    ``peeked`` is the server as :func:`_peek` found it; the action checks it again.
    """
    image_type = "backup" if rotation is not None else "snapshot"
    image_id = await _new_image(call, peeked, name, extra, image_type)
    try:
        async with call.service.db.write() as session:
            instance = await call.begin_in(session, policy, rule, on_host=True)
            if rule == "shelve":
                instance.system_metadata = {
                    **instance.system_metadata,
                    "shelved_image_id": image_id,
                }
    except Exception:
        await call.service.images.delete(call.ctx.token or "", image_id)
        raise
    transition = a.TRANSITIONS[rule]
    await AgentClient(call.service.bus).send(
        instance.host or "",
        m.SnapshotInstance(
            uuid=instance.uuid,
            image_id=image_id,
            token=call.ctx.token or "",
            event=transition.event,
            expected_task_state=transition.task_state or "",
            offload=rule == "shelve",
            rotation=rotation,
        ),
    )
    return image_id


@action("createImage", a.CREATE_IMAGE)
async def create_image(call: Call) -> Response:
    policy = "os_compute_api:servers:create_image"
    peeked = await _peek(call, policy, "createImage")
    metadata = dict(call.args.get("metadata", {}))
    image_id = await _snapshot(call, policy, "createImage", peeked, call.args["name"], metadata)
    return _image_answer(call, image_id)


@action("createBackup", a.CREATE_BACKUP)
async def create_backup(call: Call) -> Response:
    """A snapshot of kind ``backup_type``; only the newest ``rotation`` of that kind are kept."""
    policy = "os_compute_api:os-create-backup"
    peeked = await _peek(call, policy, "createBackup")
    args = call.args
    extra = {**args.get("metadata", {}), "backup_type": args["backup_type"]}
    rotation = m.Rotation(backup_type=args["backup_type"], keep=int(args["rotation"]))
    image_id = await _snapshot(call, policy, "createBackup", peeked, args["name"], extra, rotation)
    return _image_answer(call, image_id)


def _image_answer(call: Call, image_id: str) -> Response:
    """Where the new image is: a ``Location`` header before 2.45, ``image_id`` after."""
    if call.ctx.version >= V2_45:
        return json_response({"image_id": image_id}, status=202)
    location = f"{call.request.url.scheme}://{call.request.url.netloc}/v2/images/{image_id}"
    return empty_response(202, headers={"Location": location})


@action("shelve")
async def shelve(call: Call) -> Response:
    """Store the server as an image and free its host (Nova's ``shelved_offload_time = 0``)."""
    policy = "os_compute_api:os-shelve:shelve"
    peeked = await _peek(call, policy, "shelve")
    await _snapshot(call, policy, "shelve", peeked, f"{peeked.display_name}-shelved", {})
    return empty_response(202)


@action("shelveOffload")
async def shelve_offload(call: Call) -> Response:
    """Free the host of a shelved server (servers here are offloaded when shelved: a 409)."""
    async with call.service.db.write() as session:
        instance = await call.begin_in(
            session, "os_compute_api:os-shelve:shelve_offload", "shelveOffload"
        )
        released = await placement.release(session, instance.uuid)
        instance.host = instance.node = None
        instance.vm_state = VmState.SHELVED_OFFLOADED
        instance.task_state = None
        report = await nodes.usage_of(session, released)
    await SchedulerClient(call.service.bus).report(report)
    return empty_response(202)


@action("unshelve", a.UNSHELVE)
async def unshelve(call: Call) -> Response:
    """Schedule the shelved server again; it boots from its shelved image."""
    args = call.args or {}
    if args and call.ctx.version < V2_77:
        raise v.unexpected(next(iter(args)))
    async with call.service.db.write() as session:
        instance = await call.begin_in(session, "os_compute_api:os-shelve:unshelve", "unshelve")
        spec = {**instance.request_spec, "tried_hosts": []}
        if args.get("availability_zone"):
            spec["availability_zone"] = args["availability_zone"]
        instance.request_spec = spec
    await ConductorClient(call.service.bus).build_instances([instance.uuid], call.ctx.token or "")
    return empty_response(202)


@action("rebuild", a.REBUILD)
async def rebuild(call: Call) -> Response:
    """Recreate the guest from an image (the same or another), with new name or metadata."""
    args = call.args
    v.introduced(
        call.ctx.version,
        args,
        {"description": V2_19, "key_name": V2_54, "user_data": V2_57},
    )
    if "personality" in args and call.ctx.version >= V2_57:
        raise v.unexpected("personality")
    current = await _peek(call, "os_compute_api:servers:rebuild", "rebuild")
    image_ref, image = await image_for(call.service, call.ctx, args, current.flavor)
    password = args.get("adminPass") or secrets.token_urlsafe(9)
    async with call.service.db.write() as session:
        key_data = (
            await key_data_of(session, call.ctx, args["key_name"]) if args.get("key_name") else None
        )
        instance = await call.begin_in(session, "os_compute_api:servers:rebuild", "rebuild")
        stopped = instance.vm_state == VmState.STOPPED
        instance.image_ref, instance.image = image_ref, image
        _apply_rebuild(instance, args, key_data)
        if "metadata" in args:
            instance.metadata_items = [
                InstanceMetadata(key=k, value=val) for k, val in args["metadata"].items()
            ]
        spec = spec_of(instance)
        host = instance.host
    if host:
        await AgentClient(call.service.bus).send(
            host, m.RebuildInstance(instance=spec, stopped=stopped)
        )
    view = await show(call.request, call.ctx, call.service, instance)
    keep = ("key_name",) if call.ctx.version >= V2_54 else ()
    body = views.after_change(call.ctx, view, keep=keep)
    if call.ctx.version >= V2_57:  # user_data itself, not as the extended attribute
        body.pop("OS-EXT-SRV-ATTR:user_data", None)
        body["user_data"] = instance.user_data
    body["adminPass"] = password
    return json_response({"server": body}, status=202)


def _apply_rebuild(instance: Instance, args: dict[str, Any], key_data: str | None) -> None:
    if "name" in args:
        instance.display_name = args["name"]
    if "description" in args:
        instance.display_description = args["description"]
    for field, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if field in args:
            setattr(instance, column, access_ip(args[field]))
    if "key_name" in args:
        instance.key_name = args["key_name"]
        instance.key_data = key_data
    if "user_data" in args:
        instance.user_data = args["user_data"]


@action("resize", a.RESIZE)
async def resize(call: Call) -> Response:
    """Give the server another flavor; it waits in VERIFY_RESIZE for confirm or revert."""
    await _peek(call, "os_compute_api:servers:resize", "resize")
    flavorid = str(call.args["flavorRef"]).rstrip("/").rsplit("/", 1)[-1]
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        found = await flavors.find_flavor(session, flavorid)
        if found is None or not await flavors.may_use(session, call.ctx, found):
            raise BadRequest(f"Unable to find flavor: Flavor {flavorid} could not be found.")
        new = flavors.snapshot(found)
        instance = await call.begin_in(session, "os_compute_api:servers:resize", "resize")
        if new["flavorid"] == instance.flavor.get("flavorid"):
            raise BadRequest("When resizing, instances must change flavor!")
        await _check_resize_quota(session, call, instance, new)
        migration = _migration(session, instance, new, "resize", now)
    await ConductorClient(call.service.bus).resize_instance(instance.uuid, migration.uuid)
    return empty_response(202)


@action("migrate", a.MIGRATE)
async def migrate(call: Call) -> Response:
    """Cold-migrate: the same flavor on another host (one the admin names, from 2.56)."""
    host = (call.args or {}).get("host")
    if call.args and call.ctx.version < V2_56:
        raise v.unexpected(next(iter(call.args)))
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await call.begin_in(
            session, "os_compute_api:os-migrate-server:migrate", "migrate"
        )
        if host is not None:
            call.ctx.enforce("os_compute_api:os-migrate-server:migrate:host")
            if await placement.node_by_host(session, host) is None:
                raise BadRequest(f"Compute host {host} could not be found.")
        migration = _migration(session, instance, instance.flavor, "migration", now)
        migration.dest_compute = host
    await ConductorClient(call.service.bus).resize_instance(instance.uuid, migration.uuid)
    return empty_response(202)


def _migration(
    session: Any, instance: Instance, new: dict[str, Any], kind: str, now: Any
) -> Migration:
    """Record a resize or cold migration of ``instance`` to flavor ``new``; the old is kept."""
    migration = Migration(
        uuid=str(uuid.uuid4()),
        instance_uuid=instance.uuid,
        migration_type=kind,
        status="pre-migrating",
        source_compute=instance.host,
        source_node=instance.node,
        old_flavor_id=str(instance.flavor.get("id", "")),
        new_flavor_id=str(new.get("id", "")),
        project_id=instance.project_id,
        user_id=instance.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(migration)
    instance.old_flavor = instance.flavor
    instances.set_flavor(instance, new)
    return migration


async def _check_resize_quota(
    session: Any, call: Call, instance: Instance, new: dict[str, Any]
) -> None:
    limits = await quotas.project_limits(session, call.service.conf.quota, instance.project_id)
    used = await quotas.instance_usage(session, instance.project_id)
    grow = {
        "cores": new["vcpus"] - instance.vcpus,
        "ram": new["memory_mb"] - instance.memory_mb,
    }
    for resource, delta in grow.items():
        if delta > 0 and quotas.exceeded(limits[resource], used[resource], delta):
            raise Forbidden(quotas.over_quota(resource, limits[resource], used[resource], delta))


async def _finished_migration(session: Any, instance: Instance) -> Migration:
    """:raises BadRequest: when the server has no resize waiting for confirm or revert."""
    found = await instances.latest_migration(session, instance.uuid, "finished")
    if found is None:
        raise BadRequest(f"Instance {instance.uuid} has not been resized.")
    return found


@action("confirmResize")
async def confirm_resize(call: Call) -> Response:
    """Keep the new flavor: the source host's allocations (and guest, elsewhere) go."""
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await call.begin_in(
            session, "os_compute_api:servers:confirm_resize", "confirmResize"
        )
        migration = await _finished_migration(session, instance)
        released = await placement.release(session, migration.uuid)
        migration.status = "confirmed"
        migration.updated_at = now
        stopped = instance.power_state == PowerState.SHUTDOWN
        instance.vm_state = VmState.STOPPED if stopped else VmState.ACTIVE
        instance.old_flavor = None
        await instances.record_event(
            session, instance.uuid, a.TRANSITIONS["confirmResize"].event, now, host=instance.host
        )
        report = await nodes.usage_of(session, released)
        source, dest = migration.source_compute, migration.dest_compute
    await SchedulerClient(call.service.bus).report(report)
    if source and source != dest:
        await AgentClient(call.service.bus).send(source, m.DropGuest(uuid=instance.uuid))
    return empty_response(204)


@action("revertResize")
async def revert_resize(call: Call) -> Response:
    """Go back to the old flavor (and host); the agent undoes, the conductor settles."""
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await call.begin_in(
            session, "os_compute_api:servers:revert_resize", "revertResize"
        )
        migration = await _finished_migration(session, instance)
        migration.status = "reverting"
        migration.updated_at = now
        spec = spec_of(instance).model_copy(update={"flavor": instance.old_flavor or {}})
        moved = migration.source_compute != migration.dest_compute
        host, migration_uuid = instance.host or "", migration.uuid
        stopped = instance.power_state == PowerState.SHUTDOWN
    revert = m.RevertResize(
        instance=spec, migration_uuid=migration_uuid, came_from_elsewhere=moved, stopped=stopped
    )
    await AgentClient(call.service.bus).send(host, revert)
    return empty_response(202)
