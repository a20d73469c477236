"""How a server looks in the API, at each microversion."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request

from overcast.common.auth.context import RequestContext
from overcast.common.clock import isotime
from overcast.compute.api_versions import (
    V2_3,
    V2_9,
    V2_16,
    V2_19,
    V2_26,
    V2_47,
    V2_63,
    V2_71,
    V2_73,
    V2_75,
)
from overcast.compute.handlers.common import base_url, links
from overcast.compute.models import Instance, InstanceFault
from overcast.compute.states import FAULT_STATES, status

PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}

# What update and rebuild leave out of their answer before 2.75, where Nova shows the server
# without its extensions (rebuild keeps key_name from 2.54, when it learnt to change it).
EXTENSION_FIELDS = (
    "OS-EXT-AZ:availability_zone",
    "config_drive",
    "key_name",
    "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state",
    "os-extended-volumes:volumes_attached",
    "host_status",
)


def host_id(project_id: str, host: str | None) -> str:
    """Nova's ``hostId``: the host, hashed with the project so projects cannot compare hosts."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def _time(moment: Any) -> str | None:
    return isotime(moment, subsecond=False) if moment else None


def naive_time(moment: Any) -> str | None:
    return isotime(moment).removesuffix("Z") if moment else None


def summary(request: Request, instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.uuid,
        "name": instance.display_name,
        "links": links(request, "servers", instance.uuid),
    }


def _flavor(request: Request, ctx: RequestContext, instance: Instance) -> dict[str, Any]:
    flavor = instance.flavor
    if ctx.version < V2_47:
        bookmark = f"{base_url(request)}/flavors/{flavor['flavorid']}"
        return {"id": flavor["flavorid"], "links": [{"rel": "bookmark", "href": bookmark}]}
    view = {
        "vcpus": flavor["vcpus"],
        "ram": flavor["memory_mb"],
        "disk": flavor["root_gb"],
        "ephemeral": flavor["ephemeral_gb"],
        "swap": flavor["swap"],
        "original_name": flavor["name"],
    }
    if ctx.can("os_compute_api:os-flavor-extra-specs:index"):
        view["extra_specs"] = flavor.get("extra_specs", {})
    return view


def _image(request: Request, instance: Instance) -> dict[str, Any] | str:
    if not instance.image_ref:
        return ""
    bookmark = f"{base_url(request)}/images/{instance.image_ref}"
    return {"id": instance.image_ref, "links": [{"rel": "bookmark", "href": bookmark}]}


def _fault(ctx: RequestContext, fault: InstanceFault) -> dict[str, Any]:
    view: dict[str, Any] = {
        "code": fault.code,
        "created": _time(fault.created_at),
        "message": fault.message,
    }
    if fault.code != 500 or ctx.can("context_is_admin"):
        view["details"] = fault.details
    return view


def detail(
    request: Request,
    ctx: RequestContext,
    instance: Instance,
    *,
    fault: InstanceFault | None = None,
    groups: list[str] | None = None,
    host_status: str | None = None,
) -> dict[str, Any]:
    shown = status(instance.vm_state, instance.task_state)
    target = {"project_id": instance.project_id, "user_id": instance.user_id}
    view: dict[str, Any] = {
        **summary(request, instance),
        "status": shown,
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "metadata": instance.metadata_dict,
        "hostId": host_id(instance.project_id, instance.host),
        "image": _image(request, instance),
        "flavor": _flavor(request, ctx, instance),
        "created": _time(instance.created_at),
        "updated": _time(instance.updated_at),
        "addresses": {},
        "accessIPv4": instance.access_ip_v4 or "",
        "accessIPv6": instance.access_ip_v6 or "",
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": instance.availability_zone or "",
        "config_drive": instance.config_drive,
        "key_name": instance.key_name,
        "OS-SRV-USG:launched_at": naive_time(instance.launched_at),
        "OS-SRV-USG:terminated_at": naive_time(instance.terminated_at),
        "OS-EXT-STS:task_state": instance.task_state,
        "OS-EXT-STS:vm_state": instance.vm_state,
        "OS-EXT-STS:power_state": instance.power_state,
        "os-extended-volumes:volumes_attached": [],
    }
    if shown in PROGRESS_STATUSES:
        view["progress"] = instance.progress
    if ctx.can("os_compute_api:os-extended-server-attributes", target):
        view.update(_extended(ctx, instance))
    if ctx.version >= V2_9:
        view["locked"] = instance.locked
    if ctx.version >= V2_16 and host_status is not None:
        view["host_status"] = host_status
    if ctx.version >= V2_19:
        view["description"] = instance.display_description
    if ctx.version >= V2_26:
        view["tags"] = [t.tag for t in instance.tags]
    if ctx.version >= V2_63:
        view["trusted_image_certificates"] = None
    if ctx.version >= V2_71 and groups is not None:
        view["server_groups"] = groups
    if ctx.version >= V2_73:
        view["locked_reason"] = instance.locked_reason
    if fault is not None and instance.vm_state in FAULT_STATES:
        view["fault"] = _fault(ctx, fault)
    return view


def after_change(
    ctx: RequestContext, view: dict[str, Any], *, keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The answer of update and rebuild: the whole server from 2.75, the core of it before."""
    if ctx.version >= V2_75:
        return view
    return {
        field: value
        for field, value in view.items()
        if field in keep
        or (field not in EXTENSION_FIELDS and not field.startswith("OS-EXT-SRV-ATTR:"))
    }


def _extended(ctx: RequestContext, instance: Instance) -> dict[str, Any]:
    view: dict[str, Any] = {
        "OS-EXT-SRV-ATTR:host": instance.host,
        "OS-EXT-SRV-ATTR:instance_name": f"instance-{int(instance.uuid[:8], 16):08x}",
        "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.node,
    }
    if ctx.version >= V2_3:
        view.update(
            {
                "OS-EXT-SRV-ATTR:reservation_id": instance.reservation_id,
                "OS-EXT-SRV-ATTR:launch_index": instance.launch_index,
                "OS-EXT-SRV-ATTR:hostname": instance.hostname,
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:root_device_name": instance.root_device_name,
                "OS-EXT-SRV-ATTR:user_data": instance.user_data,
            }
        )
    return view
