"""``POST /servers/{id}/action``: one body key names the action (``{"os-stop": null}``).

This module holds the dispatcher and the actions that only change power or
flags; those that move or copy a guest (rebuild, resize, shelve, createImage)
register themselves from :mod:`server_moves`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Conflict
from overcast.common.auth.context import RequestContext
from overcast.common.bus import BusError
from overcast.compute import instances
from overcast.compute.api_versions import V2_73
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.handlers.servers import delete_server
from overcast.compute.models import Instance
from overcast.compute.rpcapi import AgentClient
from overcast.compute.servers import actions as a
from overcast.compute.servers.lookup import visible_server
from overcast.compute.service import ComputeService
from overcast.compute.validation import validate

router = Router(prefix=f"{PREFIX}/servers")


@dataclass
class Call:
    """One action request: who asks, for which server, with what arguments."""

    request: Request
    ctx: RequestContext
    service: ComputeService
    server_id: str
    name: str
    args: Any

    async def begin(self, policy: str, rule: str, *, on_host: bool = True) -> Instance:
        """Check and record the action (see :func:`actions.begin`); committed on return.

        :raises Conflict: with ``on_host``, when the server has no host to do it on.
        """
        async with self.service.db.write() as session:
            return await self.begin_in(session, policy, rule, on_host=on_host)

    async def begin_in(
        self, session: AsyncSession, policy: str, rule: str, *, on_host: bool = False
    ) -> Instance:
        """:func:`actions.begin` inside the caller's transaction (see :meth:`begin`)."""
        now = self.service.clock.now()
        transition = a.TRANSITIONS[rule]
        instance = await a.begin(
            session, self.ctx, self.server_id, policy, self.name, transition, now
        )
        if on_host and not instance.host:
            raise Conflict(f"Instance {instance.uuid} is not ready")
        return instance


Handler = Callable[[Call], Awaitable[Response]]
ACTIONS: dict[str, tuple[dict[str, Any], Handler]] = {}


def action(name: str, schema: dict[str, Any] = a.NOTHING) -> Callable[[Handler], Handler]:
    """Register ``handler`` for body key ``name``, its value checked against ``schema``."""

    def register(handler: Handler) -> Handler:
        ACTIONS[name] = (schema, handler)
        return handler

    return register


@router.post("/{server_id}/action")
async def server_action(
    server_id: str, request: Request, ctx: Context, service: Compute
) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not body:
        raise BadRequest("Malformed request body")
    if len(body) > 1:
        raise BadRequest("Too many body keys")
    name, args = next(iter(body.items()))
    if name not in ACTIONS:
        raise BadRequest(f"There is no such action: {name}")
    schema, handler = ACTIONS[name]
    validate({"type": "object", "properties": {name: schema}}, body)
    return await handler(Call(request, ctx, service, server_id, name, args))


async def _power(call: Call, policy: str, rule: str, operation: str, **extra: Any) -> Response:
    """Set the task state and have the server's agent do ``operation``."""
    instance = await call.begin(policy, rule)
    event = a.TRANSITIONS[rule].event
    await AgentClient(call.service.bus).operate(
        instance.host or "", instance.uuid, operation, event, **extra
    )
    return empty_response(202)


POWER: dict[str, tuple[str, str, str]] = {
    "os-stop": ("os_compute_api:servers:stop", "stop", "stop"),
    "os-start": ("os_compute_api:servers:start", "start", "start"),
    "pause": ("os_compute_api:os-pause-server:pause", "pause", "pause"),
    "unpause": ("os_compute_api:os-pause-server:unpause", "unpause", "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", "suspend", "suspend"),
    "resume": ("os_compute_api:os-suspend-server:resume", "resume", "resume"),
    "unrescue": ("os_compute_api:os-unrescue", "unrescue", "unrescue"),
}
"""Body key -> (policy, transition, agent operation) of the actions with no arguments."""


def _power_action(policy: str, rule: str, operation: str) -> Handler:
    async def handler(call: Call) -> Response:
        return await _power(call, policy, rule, operation)

    return handler


for _key, (_policy, _rule, _operation) in POWER.items():
    action(_key)(_power_action(_policy, _rule, _operation))


@action("reboot", a.REBOOT)
async def reboot(call: Call) -> Response:
    hard = call.args["type"].upper() == "HARD"
    rule = "reboot_hard" if hard else "reboot"
    return await _power(call, "os_compute_api:servers:reboot", rule, "reboot", hard=hard)


@action("rescue", a.RESCUE)
async def rescue(call: Call) -> JSONResponse:
    """Boot the server from a rescue image; answers the rescue password."""
    args = call.args or {}
    image_ref = args.get("rescue_image_ref")
    image: dict[str, Any] | None = None
    if image_ref:
        image = await call.service.images.get(call.ctx.token or "", image_ref)
        if image is None:
            raise BadRequest(f"Image {image_ref} could not be found.")
    password = args.get("adminPass") or secrets.token_urlsafe(9)
    instance = await call.begin("os_compute_api:os-rescue", "rescue")
    await AgentClient(call.service.bus).operate(
        instance.host or "",
        instance.uuid,
        "rescue",
        a.TRANSITIONS["rescue"].event,
        rescue_image=image or instance.image,
    )
    return json_response({"adminPass": password})


@action("lock")
async def lock(call: Call) -> Response:
    """Lock the server: changes are refused (409) to all but admins until it is unlocked."""
    reason = None
    if call.ctx.version >= V2_73:
        validate({"type": "object", "properties": {"lock": a.LOCK}}, {"lock": call.args})
        reason = (call.args or {}).get("locked_reason")
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await visible_server(
            session, call.ctx, call.server_id, "os_compute_api:os-lock-server:lock"
        )
        _record(session, call, instance, "lock", now)
        instance.locked = True
        instance.locked_by = "owner" if call.ctx.project_id == instance.project_id else "admin"
        instance.locked_reason = reason
        instance.updated_at = now
    return empty_response(202)


@action("unlock")
async def unlock(call: Call) -> Response:
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await visible_server(
            session, call.ctx, call.server_id, "os_compute_api:os-lock-server:unlock"
        )
        mine = "owner" if call.ctx.project_id == instance.project_id else "admin"
        if instance.locked_by and instance.locked_by != mine:
            call.ctx.enforce("os_compute_api:os-lock-server:unlock:unlock_override")
        _record(session, call, instance, "unlock", now)
        instance.locked = False
        instance.locked_by = instance.locked_reason = None
        instance.updated_at = now
    return empty_response(202)


def _record(session: Any, call: Call, instance: Instance, name: str, now: Any) -> None:
    auth = call.ctx.require_auth()
    instances.start_action(
        session,
        instance,
        name,
        call.ctx.request_id,
        now,
        user_id=auth.user_id,
        project_id=auth.project_id,
    )


@action("os-getConsoleOutput", a.CONSOLE)
async def console_output(call: Call) -> JSONResponse:
    raw = (call.args or {}).get("length")
    length = None if raw is None else int(raw)
    if length is not None and length < -1:
        raise BadRequest(
            f"Invalid input for field/attribute length. Value: {raw}. "
            f"{raw} is less than the minimum of -1"
        )
    async with call.service.db.read() as session:
        instance = await visible_server(
            session, call.ctx, call.server_id, "os_compute_api:os-console-output"
        )
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not ready")
    try:
        text = await AgentClient(call.service.bus).console_output(
            instance.host, instance.uuid, None if length == -1 else length
        )
    except BusError:
        raise Conflict(f"Instance {instance.uuid} is not ready") from None
    return json_response({"output": text})


@action("os-resetState", a.RESET_STATE)
async def reset_state(call: Call) -> Response:
    """Admins only: force the server's vm_state (active or error) and clear its task."""
    now = call.service.clock.now()
    async with call.service.db.write() as session:
        instance = await visible_server(
            session, call.ctx, call.server_id, "os_compute_api:os-admin-actions:reset_state"
        )
        instance.vm_state = call.args["state"]
        instance.task_state = None
        instance.updated_at = now
    return empty_response(202)


@action("forceDelete")
async def force_delete(call: Call) -> Response:
    async with call.service.db.read() as session:
        await visible_server(
            session, call.ctx, call.server_id, "os_compute_api:os-deferred-delete:force"
        )
    await delete_server(call.server_id, call.ctx, call.service)
    return empty_response(202)


@action("restore")
async def restore(call: Call) -> Response:
    """Undelete a soft-deleted server (there are none while deletes are immediate: a 409)."""
    instance = await call.begin("os_compute_api:os-deferred-delete:restore", "restore")
    await AgentClient(call.service.bus).operate(
        instance.host or "", instance.uuid, "start", a.TRANSITIONS["restore"].event
    )
    return empty_response(202)
