"""``/os-networks`` before 2.36: Nova's proxy to the network service.

There is no network service yet, so there are no networks to list and none to
show; once there is, these read it through its client.
"""

from __future__ import annotations

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import NotFound
from overcast.common.auth.context import RequestContext
from overcast.compute.api_versions import V2_36
from overcast.compute.handlers.common import PREFIX, removed_in

router = Router(prefix=PREFIX)


def _proxy_exists(ctx: RequestContext, rule: str) -> None:
    removed_in(ctx, V2_36)
    ctx.enforce(f"os_compute_api:os-networks:{rule}", {"project_id": ctx.require_auth().project_id})


@router.get("/os-networks")
async def list_networks(ctx: Context) -> JSONResponse:
    _proxy_exists(ctx, "list")
    return json_response({"networks": []})


@router.get("/os-networks/{network_id}")
async def show_network(network_id: str, ctx: Context) -> JSONResponse:
    _proxy_exists(ctx, "view")
    raise NotFound(f"Network {network_id} could not be found.")
