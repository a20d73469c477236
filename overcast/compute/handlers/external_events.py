"""``/os-server-external-events``: what other services tell compute about its servers.

The network and block storage services send these (a port plugged, a volume
extended); until they exist nothing here waits on one, so such events are
acknowledged. ``power-update`` (2.76) records that a guest was powered on or
off behind compute's back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import NotFound
from overcast.compute import validation as v
from overcast.compute.api_versions import V2_51, V2_76
from overcast.compute.handlers.common import PREFIX, Compute, json_body
from overcast.compute.models import Instance
from overcast.compute.states import PowerState, VmState

router = Router(prefix=PREFIX)

NAMES = {
    "network-changed": (2, 1),
    "network-vif-plugged": (2, 1),
    "network-vif-unplugged": (2, 1),
    "network-vif-deleted": (2, 1),
    "volume-extended": V2_51,
    "power-update": V2_76,
}
POWER = {
    "POWER_ON": (VmState.ACTIVE, PowerState.RUNNING),
    "POWER_OFF": (VmState.STOPPED, PowerState.SHUTDOWN),
}


def _schema(version: tuple[int, int]) -> dict[str, Any]:
    event = v.object_of(
        {
            "name": {
                "type": "string",
                "enum": [n for n, first in NAMES.items() if version >= first],
            },
            "server_uuid": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
            "tag": {"type": "string", "maxLength": 255},
        },
        required=("name", "server_uuid"),
    )
    return v.wrapped("events", {"type": "array", "minItems": 1, "items": event})


@router.post("/os-server-external-events")
async def create_events(request: Request, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-server-external-events:create")
    events = (await json_body(request, _schema(ctx.version)))["events"]
    answered = []
    async with service.db.write() as session:
        for event in events:
            instance = await session.get(Instance, event["server_uuid"])
            code = _apply(instance, event)
            status = event.get("status", "completed") if code == 200 else "failed"
            answered.append({**event, "status": status, "code": code})
    if all(e["code"] == 404 for e in answered):
        raise NotFound("No instances found for any event")
    accepted = all(e["code"] == 200 for e in answered)
    return json_response({"events": answered}, status=200 if accepted else 207)


def _apply(instance: Instance | None, event: dict[str, Any]) -> int:
    """The event's code: 404 for no such server, 422 when it cannot take the event."""
    if instance is None or instance.deleted:
        return 404
    if not instance.host:
        return 422  # not on a host: nothing there to tell
    if event["name"] != "power-update":
        return 200
    states = POWER.get(event.get("tag", ""))
    if states is None or instance.task_state is not None:
        return 422
    instance.vm_state, instance.power_state = states
    return 200
