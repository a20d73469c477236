"""Server groups and the ``group`` scheduler hint (one compute host here)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.compute.conductor_helpers import server_body, wait_for_status
from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.identity.conftest import Api


async def new_group(api: Api, policy: str, name: str = "g1") -> dict[str, Any]:
    body = {"server_group": {"name": name, "policies": [policy]}}
    response = await api.post("/v2.1/os-server-groups", json=body)
    assert response.status_code == 200, response.text
    group: dict[str, Any] = response.json()["server_group"]
    return group


async def boot_in(api: Api, cloud: ComputeCloud, group_id: str) -> str:
    body = {**server_body(cloud), "os:scheduler_hints": {"group": group_id}}
    response = await api.post("/v2.1/servers", json=body)
    assert response.status_code == 202, response.text
    server_id: str = response.json()["server"]["id"]
    return server_id


async def test_create_show_list_delete(tenant: Api, other: Api) -> None:
    group = await new_group(tenant, "anti-affinity")
    assert group["policies"] == ["anti-affinity"]
    assert group["members"] == []
    assert group["metadata"] == {}
    shown = await latest(tenant).get(f"/v2.1/os-server-groups/{group['id']}")
    assert shown.json()["server_group"]["policy"] == "anti-affinity"
    assert shown.json()["server_group"]["rules"] == {}
    assert shown.json()["server_group"]["project_id"] == tenant.project_id
    listed = (await tenant.get("/v2.1/os-server-groups")).json()["server_groups"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert (await other.get("/v2.1/os-server-groups")).json()["server_groups"] == []
    assert (await other.get(f"/v2.1/os-server-groups/{group['id']}")).status_code == 404
    assert (await other.delete(f"/v2.1/os-server-groups/{group['id']}")).status_code == 404
    assert (await tenant.delete(f"/v2.1/os-server-groups/{group['id']}")).status_code == 204
    assert (await tenant.get(f"/v2.1/os-server-groups/{group['id']}")).status_code == 404


async def test_bad_policies_and_rules_are_400(tenant: Api) -> None:
    url = "/v2.1/os-server-groups"
    two = {"server_group": {"name": "g", "policies": ["affinity", "anti-affinity"]}}
    assert (await tenant.post(url, json=two)).status_code == 400
    soft = {"server_group": {"name": "g", "policies": ["soft-affinity"]}}
    assert (await tenant.post(url, json=soft)).status_code == 400  # soft policies from 2.15
    api = latest(tenant)
    rules = {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 2}}
    assert (await api.post(url, json={"server_group": rules})).status_code == 400
    fine = {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}
    made = await api.post(url, json={"server_group": fine})
    assert made.json()["server_group"]["rules"] == {"max_server_per_host": 2}
    assert (await tenant.post(url, json={"server_group": {"name": ""}})).status_code == 400


async def test_anti_affinity_refuses_a_second_member_on_the_only_host(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    group = await new_group(tenant, "anti-affinity")
    first = await boot_in(tenant, compute_cloud, group["id"])
    await wait_for_status(tenant, first, "ACTIVE")
    second = await boot_in(tenant, compute_cloud, group["id"])
    failed = await wait_for_status(tenant, second, "ERROR")
    assert failed["fault"]["message"].startswith("No valid host was found")
    members = (await tenant.get(f"/v2.1/os-server-groups/{group['id']}")).json()
    assert sorted(members["server_group"]["members"]) == sorted([first, second])
    shown = (await latest(tenant).get(f"/v2.1/servers/{first}")).json()["server"]
    assert shown["server_groups"] == [group["id"]]


async def test_affinity_and_soft_anti_affinity_place_every_member(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    for policy, api in (("affinity", tenant), ("soft-anti-affinity", latest(tenant))):
        if policy.startswith("soft"):
            body = {"server_group": {"name": "s", "policy": policy}}
            group = (await api.post("/v2.1/os-server-groups", json=body)).json()["server_group"]
        else:
            group = await new_group(api, policy)
        for _ in range(2):
            await wait_for_status(
                tenant, await boot_in(tenant, compute_cloud, group["id"]), "ACTIVE"
            )


async def test_a_group_of_another_project_cannot_be_joined(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    group = await new_group(other, "affinity")
    body = {**server_body(compute_cloud), "os:scheduler_hints": {"group": group["id"]}}
    response = await tenant.post("/v2.1/servers", json=body)
    assert response.status_code == 400
    bad = {**server_body(compute_cloud), "os:scheduler_hints": {"group": "not-a-uuid"}}
    assert (await tenant.post("/v2.1/servers", json=bad)).status_code == 400


async def test_deleting_a_member_leaves_the_group(tenant: Api, compute_cloud: ComputeCloud) -> None:
    group = await new_group(tenant, "affinity")
    server = await wait_for_status(
        tenant, await boot_in(tenant, compute_cloud, group["id"]), "ACTIVE"
    )
    await tenant.delete(f"/v2.1/servers/{server['id']}")
    for _ in range(500):
        shown = (await tenant.get(f"/v2.1/os-server-groups/{group['id']}")).json()
        if not shown["server_group"]["members"]:
            break
        await asyncio.sleep(0.01)
    assert shown["server_group"]["members"] == []
