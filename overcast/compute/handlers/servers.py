"""``/servers``: create, list, show, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.auth.context import RequestContext
from overcast.compute import instances
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_19
from overcast.compute.conductor.nodes import is_up, service_by_host, usage_of
from overcast.compute.handlers.common import PREFIX, Compute, json_body, next_link
from overcast.compute.models import Instance
from overcast.compute.rpcapi import AgentClient, ConductorClient
from overcast.compute.servers import create as creating
from overcast.compute.servers import listing, views
from overcast.compute.servers.actions import check_locked
from overcast.compute.servers.lookup import (
    group_of,
    latest_fault,
    latest_faults,
    visible_server,
)
from overcast.compute.servers.schemas import UPDATE
from overcast.compute.states import TaskState
from overcast.scheduler.manager import SchedulerClient

router = Router(prefix=f"{PREFIX}/servers")


@router.post("", status=202)
async def create_server(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    """Record the server(s) and start building them; the answer does not wait for the build."""
    ctx.enforce("os_compute_api:servers:create", {"project_id": ctx.project_id or ""})
    server, hints = creating.parse(ctx, await json_body(request))
    resolved = await creating.resolve(service, ctx, server, hints)
    created = await creating.create(service, ctx, resolved)
    await ConductorClient(service.bus).build_instances(created.uuids)
    if resolved.return_reservation_id:
        return json_response({"reservation_id": created.reservation_id}, status=202)
    body: dict[str, Any] = {
        **views.summary(request, created.first),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": "default"}],
        "adminPass": created.admin_pass,
    }
    body.pop("name")
    location = body["links"][0]["href"]
    return json_response({"server": body}, status=202, headers={"Location": location})


async def _listing(request: Request, ctx: RequestContext, service: Compute) -> listing.Page:
    rule = "detail" if request.url.path.endswith("/detail") else "index"
    ctx.enforce(f"os_compute_api:servers:{rule}", {"project_id": ctx.project_id or ""})
    async with service.db.read() as session:
        return await listing.page(session, request, ctx, service.conf.max_limit)


def _page_body(
    request: Request, items: list[dict[str, Any]], page: listing.Page, path: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"servers": items}
    if page.full and items:
        body["servers_links"] = [next_link(request, path, items[-1]["id"])]
    return body


@router.get("")
async def list_servers(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    page = await _listing(request, ctx, service)
    items = [views.summary(request, i) for i in page.servers]
    return json_response(_page_body(request, items, page, "servers"))


@router.get("/detail")
async def list_servers_detail(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    page = await _listing(request, ctx, service)
    async with service.db.read() as session:
        faults = await latest_faults(session, page.servers)
    items = [views.detail(request, ctx, i, fault=faults.get(i.uuid)) for i in page.servers]
    return json_response(_page_body(request, items, page, "servers/detail"))


async def show(
    request: Request, ctx: RequestContext, service: Compute, instance: Instance
) -> dict[str, Any]:
    async with service.db.read() as session:
        fault = await latest_fault(session, instance.uuid)
        groups = await group_of(session, instance.uuid)
        host_status = await _host_status(session, service, instance)
    return views.detail(request, ctx, instance, fault=fault, groups=groups, host_status=host_status)


async def _host_status(session: Any, service: Compute, instance: Instance) -> str:
    if not instance.host:
        return ""
    compute = await service_by_host(session, instance.host)
    if compute is None:
        return "UNKNOWN"
    if not is_up(compute, service.clock.now(), service.conf.service_down_time):
        return "DOWN"
    return "MAINTENANCE" if compute.disabled else "UP"


@router.get("/{server_id}")
async def show_server(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    async with service.db.read() as session:
        instance = await visible_server(session, ctx, server_id)
    return json_response({"server": await show(request, ctx, service, instance)})


@router.put("/{server_id}")
async def update_server(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> JSONResponse:
    """Rename a server, or change its description or access addresses."""
    body = (await json_body(request, UPDATE))["server"]
    v.introduced(ctx.version, body, {"description": V2_19})
    async with service.db.write() as session:
        instance = await visible_server(session, ctx, server_id, "os_compute_api:servers:update")
        if "name" in body:
            instance.display_name = body["name"]
        if "description" in body:
            instance.display_description = body["description"]
        if "accessIPv4" in body:
            instance.access_ip_v4 = creating.access_ip(body["accessIPv4"])
        if "accessIPv6" in body:
            instance.access_ip_v6 = creating.access_ip(body["accessIPv6"])
        instance.updated_at = service.clock.now()
    view = await show(request, ctx, service, instance)
    return json_response({"server": views.after_change(ctx, view)})


@router.delete("/{server_id}", status=204)
async def delete_server(server_id: str, ctx: Context, service: Compute) -> Response:
    """Delete a server: its agent destroys the guest; with no (live) agent, at once."""
    now = service.clock.now()
    async with service.db.write() as session:
        instance = await visible_server(session, ctx, server_id, "os_compute_api:servers:delete")
        check_locked(ctx, instance)
        auth = ctx.require_auth()
        instances.start_action(
            session,
            instance,
            "delete",
            ctx.request_id,
            now,
            user_id=auth.user_id,
            project_id=auth.project_id,
        )
        compute = await service_by_host(session, instance.host) if instance.host else None
        agent_up = compute is not None and is_up(compute, now, service.conf.service_down_time)
        if agent_up and instance.task_state != TaskState.SCHEDULING:
            instance.task_state = TaskState.DELETING
            instance.updated_at = now
            host = instance.host
        else:
            released = await instances.mark_deleted(session, instance, now)
            host = None
            report = await usage_of(session, released)
    if host is not None:
        await AgentClient(service.bus).destroy(host, server_id)
    else:
        await SchedulerClient(service.bus).report(report)
    return empty_response(204)
