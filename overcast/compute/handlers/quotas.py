"""``/os-quota-sets``, ``/os-quota-class-sets`` and ``/limits``.

Before 2.36 Nova also shows the network quotas it used to proxy (floating
IPs, security groups ...), and before 2.57 the injected-file ones; they are
kept and settable for those versions, and enforce nothing here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest
from overcast.compute import quotas
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_36, V2_57
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import KeyPair, Quota, QuotaClass, ServerGroup
from overcast.compute.service import ComputeService

router = Router(prefix=PREFIX)
NETWORK = {"floating_ips": 10, "fixed_ips": -1, "security_groups": 10, "security_group_rules": 20}
"""Nova's network quotas of old (shown, and settable, before 2.36)."""
FILES = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _shown(version: tuple[int, int]) -> list[str]:
    """The resources a quota set has at ``version``."""
    names = [r for r in quotas.RESOURCES if version < V2_57 or r not in FILES]
    if version < V2_36:
        names += list(NETWORK)
    return names


async def _limits(
    session: AsyncSession, service: ComputeService, project_id: str, user_id: str = ""
) -> dict[str, int]:
    found = await quotas.project_limits(session, service.conf.quota, project_id, user_id)
    return {**NETWORK, **found}


async def _class_limits(
    session: AsyncSession, service: ComputeService, class_name: str = quotas.DEFAULT_CLASS
) -> dict[str, int]:
    return {**NETWORK, **await quotas.class_limits(session, service.conf.quota, class_name)}


async def _usage(session: AsyncSession, project_id: str, user_id: str) -> dict[str, int]:
    """What the project holds; key pairs belong to users, so those of ``user_id``."""
    used = await quotas.instance_usage(session, project_id)
    groups = await session.scalar(select(func.count()).where(ServerGroup.project_id == project_id))
    keys = select(func.count()).where(KeyPair.user_id == user_id)
    return {
        **used,
        "server_groups": int(groups or 0),
        "key_pairs": int(await session.scalar(keys) or 0),
    }


@router.get("/os-quota-sets/{project_id}")
async def show_quota_set(
    project_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-quota-sets:show", {"project_id": project_id})
    user_id = request.query_params.get("user_id", "")
    async with service.db.read() as session:
        limits = await _limits(session, service, project_id, user_id)
    body = {"id": project_id, **{r: limits[r] for r in _shown(ctx.version)}}
    return json_response({"quota_set": body})


@router.get("/os-quota-sets/{project_id}/detail")
async def show_quota_detail(
    project_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-quota-sets:detail", {"project_id": project_id})
    user_id = request.query_params.get("user_id", "")
    async with service.db.read() as session:
        limits = await _limits(session, service, project_id, user_id)
        used = await _usage(session, project_id, user_id or ctx.user_id or "")
    body: dict[str, Any] = {"id": project_id}
    for resource in _shown(ctx.version):
        body[resource] = {"limit": limits[resource], "in_use": used.get(resource, 0), "reserved": 0}
    return json_response({"quota_set": body})


@router.get("/os-quota-sets/{project_id}/defaults")
async def show_quota_defaults(project_id: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-quota-sets:defaults", {"project_id": project_id})
    async with service.db.read() as session:
        limits = await _class_limits(session, service)
    body = {"id": project_id, **{r: limits[r] for r in _shown(ctx.version)}}
    return json_response({"quota_set": body})


def _update_schema(version: tuple[int, int], key: str, force: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {r: v.integer(-1) for r in _shown(version)}
    if force:
        fields["force"] = v.BOOLEAN
    return v.wrapped(key, v.object_of(fields))


@router.put("/os-quota-sets/{project_id}")
async def update_quota_set(
    project_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """Set a project's (or, with ``user_id``, a user's) limits; below usage needs ``force``."""
    ctx.enforce("os_compute_api:os-quota-sets:update", {"project_id": project_id})
    body = (await json_body(request, _update_schema(ctx.version, "quota_set", True)))["quota_set"]
    force = v.to_bool(body.pop("force", False))
    wanted = {r: v.to_int(r, val, -1) for r, val in body.items()}
    user_id = request.query_params.get("user_id", "")
    async with service.changing_reference() as session:
        used = await _usage(session, project_id, user_id or ctx.user_id or "")
        for resource, limit in wanted.items():
            if not force and 0 <= limit < used.get(resource, 0):
                raise BadRequest(
                    f"Quota limit {limit} for {resource} must be greater than or equal to "
                    f"already used and reserved {used[resource]}."
                )
            await session.merge(
                Quota(project_id=project_id, user_id=user_id, resource=resource, hard_limit=limit)
            )
        await session.flush()
        limits = await _limits(session, service, project_id, user_id)
    return json_response({"quota_set": {r: limits[r] for r in _shown(ctx.version)}})


@router.delete("/os-quota-sets/{project_id}", status=202)
async def revert_quota_set(
    project_id: str, request: Request, ctx: Context, service: Compute
) -> Response:
    """Back to the defaults: the project's (or user's) own limits go."""
    ctx.enforce("os_compute_api:os-quota-sets:delete", {"project_id": project_id})
    user_id = request.query_params.get("user_id")
    query = delete(Quota).where(Quota.project_id == project_id)
    if user_id is not None:
        query = query.where(Quota.user_id == user_id)
    async with service.changing_reference() as session:
        await session.execute(query)
    return empty_response(202)


@router.get("/os-quota-class-sets/{class_name}")
async def show_quota_class(class_name: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-quota-class-sets:show", {"quota_class": class_name})
    async with service.db.read() as session:
        limits = await _class_limits(session, service, class_name)
    body = {"id": class_name, **{r: limits[r] for r in _shown(ctx.version)}}
    return json_response({"quota_class_set": body})


@router.put("/os-quota-class-sets/{class_name}")
async def update_quota_class(
    class_name: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    ctx.enforce("os_compute_api:os-quota-class-sets:update", {"quota_class": class_name})
    schema = _update_schema(ctx.version, "quota_class_set", False)
    body = (await json_body(request, schema))["quota_class_set"]
    async with service.changing_reference() as session:
        for resource, raw in body.items():
            limit = v.to_int(resource, raw, -1)
            await session.merge(
                QuotaClass(class_name=class_name, resource=resource, hard_limit=limit)
            )
        await session.flush()
        limits = await _class_limits(session, service, class_name)
    return json_response({"quota_class_set": {r: limits[r] for r in _shown(ctx.version)}})


@router.get("/limits")
async def show_limits(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    """The caller's project limits and usage (``tenant_id``: another project's, for admins)."""
    ctx.enforce("os_compute_api:limits")
    project_id = ctx.project_id or ""
    other = request.query_params.get("tenant_id")
    if other and other != project_id:
        ctx.enforce("os_compute_api:limits:other_project", {"project_id": other})
        project_id = other
    async with service.db.read() as session:
        limits = await _limits(session, service, project_id)
        used = await _usage(session, project_id, ctx.user_id or "")
    absolute = {
        "maxServerMeta": limits["metadata_items"],
        "maxTotalKeypairs": limits["key_pairs"],
        "maxServerGroups": limits["server_groups"],
        "maxServerGroupMembers": limits["server_group_members"],
        "maxTotalCores": limits["cores"],
        "maxTotalInstances": limits["instances"],
        "maxTotalRAMSize": limits["ram"],
        "totalCoresUsed": used["cores"],
        "totalInstancesUsed": used["instances"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if ctx.version < V2_57:
        absolute["maxPersonality"] = limits["injected_files"]
        absolute["maxPersonalitySize"] = limits["injected_file_content_bytes"]
    if ctx.version < V2_36:
        absolute |= {
            "maxImageMeta": 128,
            "maxSecurityGroupRules": limits["security_group_rules"],
            "maxSecurityGroups": limits["security_groups"],
            "maxTotalFloatingIps": limits["floating_ips"],
            "totalFloatingIpsUsed": 0,
            "totalSecurityGroupsUsed": 0,
        }
    return json_response({"limits": {"rate": [], "absolute": absolute}})
