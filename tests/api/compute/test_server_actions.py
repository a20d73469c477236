"""Server actions through the agent: power, lock, rescue, console, and illegal transitions."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.compute.models import Instance
from tests.api.compute.conductor_helpers import boot, wait_for_status, wait_gone
from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.identity.conftest import Api


async def act(api: Api, server_id: str, body: dict[str, Any]) -> Any:
    return await api.post(f"/v2.1/servers/{server_id}/action", json=body)


async def test_stop_then_start(tenant: Api, compute_cloud: ComputeCloud) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"os-stop": None})).status_code == 202
    stopped = await wait_for_status(tenant, server["id"], "SHUTOFF")
    assert stopped["OS-EXT-STS:vm_state"] == "stopped"
    assert stopped["OS-EXT-STS:power_state"] == 4
    assert (await act(tenant, server["id"], {"os-start": None})).status_code == 202
    started = await wait_for_status(tenant, server["id"], "ACTIVE")
    assert started["OS-EXT-STS:power_state"] == 1


@pytest.mark.parametrize(
    ("there", "state", "back"),
    [("pause", "PAUSED", "unpause"), ("suspend", "SUSPENDED", "resume")],
)
async def test_pause_and_suspend_round_trips(
    tenant: Api, compute_cloud: ComputeCloud, there: str, state: str, back: str
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {there: None})).status_code == 202
    await wait_for_status(tenant, server["id"], state)
    assert (await act(tenant, server["id"], {back: None})).status_code == 202
    await wait_for_status(tenant, server["id"], "ACTIVE")


async def test_soft_and_hard_reboot_are_recorded_as_actions(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    for kind in ("SOFT", "hard"):
        assert (await act(tenant, server["id"], {"reboot": {"type": kind}})).status_code == 202
        await wait_for_status(tenant, server["id"], "ACTIVE")
    bad = await act(tenant, server["id"], {"reboot": {"type": "gentle"}})
    assert bad.status_code == 400
    assert "field/attribute type. Value: gentle" in bad.json()["badRequest"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"resume": None},
        {"unpause": None},
        {"os-start": None},
        {"unrescue": None},
        {"confirmResize": None},
        {"revertResize": None},
        {"unshelve": None},
    ],
)
async def test_an_action_the_state_does_not_allow_is_a_409_naming_it(
    tenant: Api, compute_cloud: ComputeCloud, body: dict[str, Any]
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(tenant, server["id"], body)
    assert response.status_code == 409
    key = next(iter(body))
    assert response.json()["conflictingRequest"]["message"] == (
        f"Cannot '{key}' instance {server['id']} while it is in vm_state active"
    )


async def test_an_action_while_another_runs_is_a_409_on_the_task_state(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    async with compute_cloud.compute.db.write() as session:
        instance = await session.get(Instance, server["id"])
        assert instance is not None
        instance.task_state = "powering-off"
    response = await act(tenant, server["id"], {"pause": None})
    assert response.status_code == 409
    assert "task_state powering-off" in response.json()["conflictingRequest"]["message"]
    async with compute_cloud.compute.db.write() as session:
        instance = await session.get(Instance, server["id"])
        assert instance is not None
        instance.task_state = None


async def test_unknown_and_malformed_actions_are_400(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    unknown = await act(tenant, server["id"], {"levitate": None})
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "There is no such action: levitate"
    two = await act(tenant, server["id"], {"pause": None, "suspend": None})
    assert two.status_code == 400
    ignored = await act(tenant, server["id"], {"pause": {}})  # Nova ignores the value
    assert ignored.status_code == 202
    await wait_for_status(tenant, server["id"], "PAUSED")
    listing = await tenant.post(f"/v2.1/servers/{server['id']}/action", json=[1])
    assert listing.status_code == 400


async def test_another_project_cannot_act_on_a_server(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(other, server["id"], {"os-stop": None})
    assert response.status_code == 404
    shown = await tenant.get(f"/v2.1/servers/{server['id']}")
    assert shown.json()["server"]["status"] == "ACTIVE"


async def test_a_locked_server_refuses_its_owner_but_not_an_admin(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"lock": None})).status_code == 202
    shown = (await latest(tenant).get(f"/v2.1/servers/{server['id']}")).json()["server"]
    assert shown["locked"] is True
    refused = await act(tenant, server["id"], {"os-stop": None})
    assert refused.status_code == 409
    assert refused.json()["conflictingRequest"]["message"] == f"Instance {server['id']} is locked"
    assert (await tenant.delete(f"/v2.1/servers/{server['id']}")).status_code == 409
    assert (await act(admin, server["id"], {"os-stop": None})).status_code == 202
    await wait_for_status(tenant, server["id"], "SHUTOFF")
    assert (await act(tenant, server["id"], {"unlock": None})).status_code == 202
    assert (await act(tenant, server["id"], {"os-start": None})).status_code == 202
    await wait_for_status(tenant, server["id"], "ACTIVE")


async def test_an_owner_cannot_unlock_what_an_admin_locked(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    reason = {"lock": {"locked_reason": "maintenance"}}
    assert (await act(latest(admin), server["id"], reason)).status_code == 202
    shown = (await latest(tenant).get(f"/v2.1/servers/{server['id']}")).json()["server"]
    assert shown["locked_reason"] == "maintenance"
    assert (await act(tenant, server["id"], {"unlock": None})).status_code == 403
    assert (await act(admin, server["id"], {"unlock": None})).status_code == 202
    bad = await act(latest(tenant), server["id"], {"lock": {"locked_reason": ""}})
    assert bad.status_code == 400


async def test_rescue_answers_a_password_and_unrescue_returns_to_active(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(tenant, server["id"], {"rescue": {"adminPass": "s3cret"}})
    assert response.status_code == 200
    assert response.json() == {"adminPass": "s3cret"}
    await wait_for_status(tenant, server["id"], "RESCUE")
    assert (await act(tenant, server["id"], {"unrescue": None})).status_code == 202
    await wait_for_status(tenant, server["id"], "ACTIVE")


async def test_console_output_comes_from_the_guest(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(tenant, server["id"], {"os-getConsoleOutput": {"length": None}})
    assert response.status_code == 200
    assert server["name"] in response.json()["output"]
    last = await act(tenant, server["id"], {"os-getConsoleOutput": {"length": "3"}})
    assert len(last.json()["output"].split("\n")) == 3
    bad = await act(tenant, server["id"], {"os-getConsoleOutput": {"length": -2}})
    assert bad.status_code == 400


async def test_reset_state_is_for_admins(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    body = {"os-resetState": {"state": "error"}}
    assert (await act(tenant, server["id"], body)).status_code == 403
    assert (await act(admin, server["id"], body)).status_code == 202
    await wait_for_status(tenant, server["id"], "ERROR")
    bad = await act(admin, server["id"], {"os-resetState": {"state": "sleepy"}})
    assert bad.status_code == 400
    assert (
        await act(admin, server["id"], {"os-resetState": {"state": "active"}})
    ).status_code == 202
    await wait_for_status(tenant, server["id"], "ACTIVE")


async def test_force_delete_deletes_and_restore_needs_a_soft_deleted_server(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    restore = await act(tenant, server["id"], {"restore": None})
    assert restore.status_code == 409
    assert (await act(tenant, server["id"], {"forceDelete": None})).status_code == 202
    await wait_gone(tenant, server["id"])
