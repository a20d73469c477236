"""Server metadata, tags, and instance actions."""

from __future__ import annotations

from tests.api.compute.conductor_helpers import boot, wait_gone
from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.compute.test_server_actions import act
from tests.api.identity.conftest import Api


async def test_metadata_merge_replace_item_and_delete(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud, metadata={"a": "1"})
    base = f"/v2.1/servers/{server['id']}/metadata"
    merged = await tenant.post(base, json={"metadata": {"b": "2"}})
    assert merged.status_code == 200
    assert merged.json() == {"metadata": {"a": "1", "b": "2"}}
    replaced = await tenant.put(base, json={"metadata": {"c": "3"}})
    assert replaced.json() == {"metadata": {"c": "3"}}
    assert (await tenant.get(base)).json() == {"metadata": {"c": "3"}}
    item = await tenant.put(f"{base}/d", json={"meta": {"d": "4"}})
    assert item.status_code == 200
    assert (await tenant.get(f"{base}/d")).json() == {"meta": {"d": "4"}}
    assert (await tenant.delete(f"{base}/d")).status_code == 204
    missing = await tenant.get(f"{base}/d")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Metadata item was not found"
    assert (await tenant.delete(f"{base}/d")).status_code == 404


async def test_metadata_refuses_bad_bodies_and_too_many_items(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    base = f"/v2.1/servers/{server['id']}/metadata"
    mismatch = await tenant.put(f"{base}/x", json={"meta": {"y": "1"}})
    assert mismatch.status_code == 400
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"
    two = await tenant.put(f"{base}/x", json={"meta": {"x": "1", "y": "2"}})
    assert two.json()["badRequest"]["message"] == "Request body contains too many items"
    assert (await tenant.post(base, json={"metadata": {"": "v"}})).status_code == 400
    assert (await tenant.post(base, json={"metadata": {"k": "v" * 256}})).status_code == 400
    assert (await tenant.post(base, json={"meta": {}})).status_code == 400
    many = {f"k{i}": "v" for i in range(129)}
    assert (await tenant.post(base, json={"metadata": many})).status_code == 403
    assert (await tenant.get(base)).json() == {"metadata": {}}


async def test_another_project_cannot_read_or_change_metadata(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud, metadata={"a": "1"})
    base = f"/v2.1/servers/{server['id']}/metadata"
    assert (await other.get(base)).status_code == 404
    assert (await other.post(base, json={"metadata": {"b": "2"}})).status_code == 404
    assert (await tenant.get(base)).json() == {"metadata": {"a": "1"}}


async def test_metadata_of_a_locked_server_cannot_change(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    await act(tenant, server["id"], {"lock": None})
    base = f"/v2.1/servers/{server['id']}/metadata"
    assert (await tenant.post(base, json={"metadata": {"b": "2"}})).status_code == 409
    await act(tenant, server["id"], {"unlock": None})


async def test_tags_from_2_26(tenant: Api, compute_cloud: ComputeCloud) -> None:
    server = await boot(tenant, compute_cloud)
    api = latest(tenant)
    base = f"/v2.1/servers/{server['id']}/tags"
    assert (await tenant.get(base)).status_code == 404  # 2.1 has no tags
    assert (await api.put(base, json={"tags": ["x", "y", "x"]})).json() == {"tags": ["x", "y"]}
    added = await api.put(f"{base}/z")
    assert added.status_code == 201
    assert added.headers["Location"].endswith(f"{base}/z")
    assert (await api.put(f"{base}/z")).status_code == 204
    assert (await api.get(f"{base}/z")).status_code == 204
    assert (await api.get(f"{base}/nope")).status_code == 404
    assert (await api.get(base)).json() == {"tags": ["x", "y", "z"]}
    assert (await api.delete(f"{base}/x")).status_code == 204
    assert (await api.delete(f"{base}/x")).status_code == 404
    assert (await api.put(base, json={"tags": ["a/b"]})).status_code == 400
    assert (await api.put(base, json={"tags": [f"t{i}" for i in range(51)]})).status_code == 400
    assert (await api.delete(base)).status_code == 204
    assert (await api.get(base)).json() == {"tags": []}
    listed = await api.get("/v2.1/servers", params={"tags": "z"})
    assert listed.json()["servers"] == []


async def test_instance_actions_record_what_was_done_and_by_whom(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    await act(tenant, server["id"], {"lock": None})
    base = f"/v2.1/servers/{server['id']}/os-instance-actions"
    actions = (await tenant.get(base)).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["lock", "create"]
    assert actions[1]["user_id"] == tenant.user_id
    create = (await tenant.get(f"{base}/{actions[1]['request_id']}")).json()["instanceAction"]
    assert "events" not in create  # events are for admins before 2.51
    detailed = (await admin.get(f"{base}/{actions[1]['request_id']}")).json()["instanceAction"]
    events = [e["event"] for e in detailed["events"]]
    assert events == [
        "conductor_schedule_and_build_instances",
        "compute__do_build_and_run_instance",
    ]
    assert all(e["result"] == "Success" for e in detailed["events"])
    assert (await tenant.get(f"{base}/req-nope")).status_code == 404
    paged = await latest(tenant).get(base, params={"limit": 1})
    assert len(paged.json()["instanceActions"]) == 1
    assert "marker=" in paged.json()["links"][0]["href"]


async def test_actions_of_a_deleted_server_stay_readable_from_2_21(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    await tenant.delete(f"/v2.1/servers/{server['id']}")
    await wait_gone(tenant, server["id"])
    base = f"/v2.1/servers/{server['id']}/os-instance-actions"
    assert (await tenant.get(base)).status_code == 404
    actions = (await latest(tenant).get(base)).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["delete", "create"]


async def test_another_project_sees_no_tags_actions_or_migrations(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    base = f"/v2.1/servers/{server['id']}"
    assert (await latest(other).get(f"{base}/tags")).status_code == 404
    assert (await latest(other).put(f"{base}/tags/x")).status_code == 404
    assert (await other.get(f"{base}/os-instance-actions")).status_code == 404
    assert (await other.get("/v2.1/os-migrations")).status_code == 403
    assert (await latest(tenant).get(f"{base}/tags")).json() == {"tags": []}
