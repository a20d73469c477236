"""Servers: create to ACTIVE through the conductor, scheduler and a fake-driver agent; list, show,
update, delete; what a caller may not do or see."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from tests.api.compute.conductor_helpers import boot, server_body, wait_for_status, wait_gone
from tests.api.compute.conftest import ComputeCloud, latest, new_tenant
from tests.api.identity.conftest import Api


async def test_a_server_goes_from_build_to_active(tenant: Api, compute_cloud: ComputeCloud) -> None:
    response = await tenant.post("/v2.1/servers", json=server_body(compute_cloud))
    assert response.status_code == 202
    created = response.json()["server"]
    assert created["adminPass"]
    assert created["links"][0]["href"].endswith(f"/v2.1/servers/{created['id']}")
    server = await wait_for_status(tenant, created["id"], "ACTIVE")
    assert server["OS-EXT-STS:vm_state"] == "active"
    assert server["OS-EXT-STS:power_state"] == 1
    assert server["OS-EXT-STS:task_state"] is None
    assert server["tenant_id"] == tenant.project_id
    assert server["image"]["id"] == compute_cloud.image_id
    assert server["flavor"]["id"] == "1"
    assert server["hostId"]
    assert server["addresses"] == {}
    assert server["OS-SRV-USG:launched_at"]
    assert "OS-EXT-SRV-ATTR:host" not in server


async def test_admins_see_the_host_and_latest_shows_the_embedded_flavor(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    shown = (await latest(admin).get(f"/v2.1/servers/{server['id']}")).json()["server"]
    assert shown["OS-EXT-SRV-ATTR:host"] == f"api-{compute_cloud.backend}"
    assert shown["flavor"]["original_name"] == "m1.tiny"
    assert shown["flavor"]["ram"] == 512
    assert shown["locked"] is False
    assert shown["tags"] == []
    assert shown["host_status"] == "UP"


async def test_list_and_detail_show_only_the_projects_servers(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    mine = await boot(tenant, compute_cloud)
    theirs = await boot(other, compute_cloud)
    listed = (await tenant.get("/v2.1/servers")).json()["servers"]
    assert [s["id"] for s in listed] == [mine["id"]]
    detail = (await tenant.get("/v2.1/servers/detail")).json()["servers"]
    assert [s["status"] for s in detail] == ["ACTIVE"]
    assert (await tenant.get(f"/v2.1/servers/{theirs['id']}")).status_code == 404
    assert (await tenant.delete(f"/v2.1/servers/{theirs['id']}")).status_code == 404
    rename = {"server": {"name": "mine-now"}}
    assert (await tenant.put(f"/v2.1/servers/{theirs['id']}", json=rename)).status_code == 404
    assert (await other.get(f"/v2.1/servers/{theirs['id']}")).json()["server"]["name"] != "mine-now"
    assert (await tenant.get("/v2.1/servers?all_tenants=1")).status_code == 403


async def test_admin_lists_every_project_with_all_tenants(
    admin: Api, tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    one, two = await boot(tenant, compute_cloud), await boot(other, compute_cloud)
    listed = (await admin.get("/v2.1/servers?all_tenants=1")).json()["servers"]
    assert {one["id"], two["id"]} <= {s["id"] for s in listed}
    only = (await admin.get(f"/v2.1/servers?all_tenants=1&project_id={tenant.project_id}")).json()
    assert [s["id"] for s in only["servers"]] == [one["id"]]


async def test_min_count_creates_several_with_one_reservation(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    body = server_body(compute_cloud, min_count=3, return_reservation_id=True)
    response = await tenant.post("/v2.1/servers", json=body)
    reservation = response.json()["reservation_id"]
    listed = (await tenant.get(f"/v2.1/servers/detail?reservation_id={reservation}")).json()
    names = sorted(s["name"] for s in listed["servers"])
    base = body["server"]["name"]
    assert names == [f"{base}-1", f"{base}-2", f"{base}-3"]
    for server in listed["servers"]:
        await wait_for_status(tenant, server["id"], "ACTIVE")


async def test_filters_sorting_and_pagination(tenant: Api, compute_cloud: ComputeCloud) -> None:
    first = await boot(tenant, compute_cloud, name="alpha-1")
    second = await boot(tenant, compute_cloud, name="beta-2")
    by_name = (await tenant.get("/v2.1/servers?name=^alph")).json()["servers"]
    assert [s["id"] for s in by_name] == [first["id"]]
    newest = (await tenant.get("/v2.1/servers?limit=1")).json()
    assert [s["id"] for s in newest["servers"]] == [second["id"]]
    assert "marker=" in newest["servers_links"][0]["href"]
    rest = (await tenant.get(f"/v2.1/servers?marker={second['id']}")).json()["servers"]
    assert [s["id"] for s in rest] == [first["id"]]
    ordered = (await tenant.get("/v2.1/servers/detail?sort_key=display_name&sort_dir=asc")).json()
    assert [s["name"] for s in ordered["servers"]] == ["alpha-1", "beta-2"]
    active = (await tenant.get("/v2.1/servers?status=ACTIVE")).json()["servers"]
    assert len(active) == 2
    assert (await tenant.get("/v2.1/servers?status=SHUTOFF")).json()["servers"] == []
    assert (await latest(tenant).get("/v2.1/servers?status=NOPE")).status_code == 400
    assert (await tenant.get("/v2.1/servers?sort_key=nope")).status_code == 400
    assert (await tenant.get("/v2.1/servers?marker=nope")).status_code == 400
    assert (await tenant.get("/v2.1/servers?limit=-1")).status_code == 400


async def test_the_name_filter_is_a_case_sensitive_regular_expression(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    """Names matched as Nova does (``re.search``), whatever the database narrows them with."""
    names = ["web_1", "webX1", "Web-2", "wes%3", "db-1"]
    ids = {n: (await boot(tenant, compute_cloud, name=n))["id"] for n in names}

    async def found(pattern: str, limit: str = "") -> set[str]:
        url = f"/v2.1/servers?name={quote(pattern)}{limit}"
        return {s["name"] for s in (await tenant.get(url)).json()["servers"]}

    assert await found("^web_") == {"web_1"}  # "_" is no wildcard
    assert await found("^web") == {"web_1", "webX1"}  # and no "Web-2": case counts
    assert await found("^Web") == {"Web-2"}
    assert await found("^wes%") == {"wes%3"}
    assert await found("^webs?X") == {"webX1"}  # the "s" may be absent
    assert await found("^we[bs]") == {"web_1", "webX1", "wes%3"}
    assert await found("^db|^Web") == {"db-1", "Web-2"}
    assert await found("1$") == {"web_1", "webX1", "db-1"}
    assert len(await found("^web", "&limit=1")) == 1
    assert len(ids) == 5


async def test_update_renames(tenant: Api, compute_cloud: ComputeCloud) -> None:
    server = await boot(tenant, compute_cloud)
    path = f"/v2.1/servers/{server['id']}"
    response = await latest(tenant).put(
        path, json={"server": {"name": "renamed", "description": "d"}}
    )
    assert response.status_code == 200
    assert response.json()["server"]["name"] == "renamed"
    assert response.json()["server"]["description"] == "d"
    assert response.json()["server"]["OS-EXT-STS:vm_state"] == "active"
    legacy = await tenant.put(path, json={"server": {"name": "again"}})
    assert legacy.json()["server"]["name"] == "again"
    assert "OS-EXT-STS:vm_state" not in legacy.json()["server"]
    assert (await tenant.put(path, json={"server": {"description": "d"}})).status_code == 400
    addresses = {"accessIPv4": "10.0.0.1", "accessIPv6": "0000:0000::babe:220.12.22.2"}
    moved = await tenant.put(path, json={"server": addresses})
    assert moved.json()["server"]["accessIPv6"] == "::babe:dc0c:1602"
    assert moved.json()["server"]["accessIPv4"] == "10.0.0.1"
    bad = await tenant.put(path, json={"server": {"accessIPv4": "10.0.0"}})
    assert bad.status_code == 400
    assert (await tenant.put(path, json={"server": {"name": ""}})).status_code == 400


async def test_delete_goes_through_the_agent(tenant: Api, compute_cloud: ComputeCloud) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await tenant.delete(f"/v2.1/servers/{server['id']}")).status_code == 204
    await wait_gone(tenant, server["id"])
    changed = (await tenant.get("/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z")).json()
    gone = [s for s in changed["servers"] if s["id"] == server["id"]]
    assert gone[0]["status"] == "DELETED"


async def test_boot_refusals(tenant: Api, compute_cloud: ComputeCloud) -> None:
    cases = [
        (server_body(compute_cloud, flavorRef="nope"), "Flavor nope could not be found."),
        (server_body(compute_cloud, imageRef=str(uuid.uuid4())), "could not be found"),
        (server_body(compute_cloud, imageRef="not-a-uuid"), "Invalid imageRef"),
        (server_body(compute_cloud, key_name="missing"), "Invalid key_name provided."),
        (server_body(compute_cloud, availability_zone="mars"), "availability zone"),
        (server_body(compute_cloud, min_count=3, max_count=2), "min_count"),
        (server_body(compute_cloud, user_data="***"), "user_data. Value: ***. '***' is not a"),
        (server_body(compute_cloud, accessIPv4="1.2.3"), "accessIPv4"),
        (server_body(compute_cloud, accessIPv6="1.2.3.4"), "accessIPv6"),
        (server_body(compute_cloud, networks=[{"uuid": str(uuid.uuid4())}]), "Network"),
        ({"server": {"imageRef": compute_cloud.image_id, "flavorRef": "1"}}, "name"),
        ({"server": {"name": "x", "flavorRef": "1", "colour": "red"}}, "colour"),
    ]
    for body, message in cases:
        response = await tenant.post("/v2.1/servers", json=body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["badRequest"]["message"], response.text
    modern = await latest(tenant).post("/v2.1/servers", json=server_body(compute_cloud))
    assert modern.status_code == 400  # networks are required from 2.37
    auto = await latest(tenant).post(
        "/v2.1/servers", json=server_body(compute_cloud, networks="none")
    )
    assert auto.status_code == 202


async def test_quota_limits_instances(admin: Api, compute_cloud: ComputeCloud) -> None:
    tenant = await new_tenant(compute_cloud)
    body = server_body(compute_cloud, min_count=11)
    response = await tenant.post("/v2.1/servers", json=body)
    assert response.status_code == 403
    assert "Quota exceeded for instances" in response.json()["forbidden"]["message"]
    partial = server_body(compute_cloud, min_count=1, max_count=50, return_reservation_id=True)
    reservation = (await tenant.post("/v2.1/servers", json=partial)).json()["reservation_id"]
    made = (await tenant.get(f"/v2.1/servers?reservation_id={reservation}")).json()["servers"]
    assert len(made) == 10


async def test_no_valid_host_puts_the_server_in_error_with_a_fault(
    admin: Api, compute_cloud: ComputeCloud
) -> None:
    huge = {
        "flavor": {"name": f"huge-{uuid.uuid4().hex[:6]}", "ram": 64, "vcpus": 1, "disk": 10**6}
    }
    flavor = (await admin.post("/v2.1/flavors", json=huge)).json()["flavor"]
    response = await admin.post(
        "/v2.1/servers", json=server_body(compute_cloud, flavorRef=flavor["id"])
    )
    server = await wait_for_status(admin, response.json()["server"]["id"], "ERROR")
    assert server["fault"]["message"].startswith("No valid host was found.")
    assert server["fault"]["code"] == 500
    assert (await admin.delete(f"/v2.1/servers/{server['id']}")).status_code == 204
    assert (await admin.get(f"/v2.1/servers/{server['id']}")).status_code == 404


async def test_readers_may_look_but_not_boot(reader: Api, compute_cloud: ComputeCloud) -> None:
    assert (await reader.get("/v2.1/servers")).status_code == 200
    response = await reader.post("/v2.1/servers", json=server_body(compute_cloud))
    assert response.status_code == 403
    assert "os_compute_api:servers:create" in response.json()["forbidden"]["message"]
