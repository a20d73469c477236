"""Flavors: the defaults, admin management, private flavors and their access lists, extra specs."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.compute.conftest import latest
from tests.api.identity.conftest import Api


async def make_flavor(admin: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": f"f-{uuid.uuid4().hex[:8]}", "ram": 64, "vcpus": 1, "disk": 1, **fields}
    response = await admin.post("/v2.1/flavors", json={"flavor": body})
    assert response.status_code == 200, response.text
    flavor: dict[str, Any] = response.json()["flavor"]
    return flavor


async def test_default_flavors_are_listed_by_id(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors/detail")
    assert response.status_code == 200
    by_name = {f["name"]: f for f in response.json()["flavors"]}
    small = by_name["m1.small"]
    assert (small["id"], small["ram"], small["vcpus"], small["disk"]) == ("2", 2048, 1, 20)
    assert small["swap"] == ""
    assert small["os-flavor-access:is_public"] is True
    assert small["links"][0]["href"].endswith("/v2.1/flavors/2")


async def test_swap_is_a_number_from_275_and_extra_specs_show_from_261(tenant: Api) -> None:
    flavor = (await latest(tenant).get("/v2.1/flavors/1")).json()["flavor"]
    assert flavor["swap"] == 0
    assert flavor["extra_specs"] == {}
    assert flavor["description"] is None


async def test_min_ram_and_min_disk_filter(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors/detail?minRam=8192&minDisk=100")
    assert {f["name"] for f in response.json()["flavors"]} >= {"m1.xlarge"}
    assert all(f["ram"] >= 8192 and f["disk"] >= 100 for f in response.json()["flavors"])
    assert (await tenant.get("/v2.1/flavors?minRam=lots")).status_code == 400


async def test_pagination_by_marker(tenant: Api) -> None:
    first = (await tenant.get("/v2.1/flavors?limit=2")).json()
    assert len(first["flavors"]) == 2
    assert "marker=" in first["flavors_links"][0]["href"]
    marker = first["flavors"][-1]["id"]
    second = (await tenant.get(f"/v2.1/flavors?limit=2&marker={marker}")).json()
    assert not {f["id"] for f in first["flavors"]} & {f["id"] for f in second["flavors"]}
    assert (await tenant.get("/v2.1/flavors?marker=missing")).status_code == 400


async def test_admin_creates_and_deletes_a_flavor(admin: Api, tenant: Api) -> None:
    flavor = await make_flavor(admin, id="custom-1", swap=512, rxtx_factor=2.0)
    assert flavor["id"] == "custom-1"
    assert flavor["swap"] == 512
    assert (await tenant.get("/v2.1/flavors/custom-1")).status_code == 200
    assert (await admin.delete("/v2.1/flavors/custom-1")).status_code == 202
    assert (await tenant.get("/v2.1/flavors/custom-1")).status_code == 404


async def test_generated_flavor_ids_are_uuids(admin: Api) -> None:
    flavor = await make_flavor(admin)
    assert uuid.UUID(flavor["id"])


async def test_an_integer_id_is_taken_as_its_string(admin: Api) -> None:
    body = {"name": f"int-{uuid.uuid4().hex[:6]}", "ram": 1, "vcpus": 1, "disk": 0}
    number = uuid.uuid4().int % 10**9
    response = await admin.post("/v2.1/flavors", json={"flavor": {**body, "id": number}})
    assert response.status_code == 200, response.text
    assert response.json()["flavor"]["id"] == str(number)
    assert (await admin.get(f"/v2.1/flavors/{number}")).status_code == 200


async def test_duplicates_conflict(admin: Api) -> None:
    flavor = await make_flavor(admin)
    again = {"name": flavor["name"], "ram": 1, "vcpus": 1, "disk": 0}
    response = await admin.post("/v2.1/flavors", json={"flavor": again})
    assert response.status_code == 409
    assert "already exists" in response.json()["conflictingRequest"]["message"]
    same_id = {
        "name": "other-" + flavor["name"],
        "ram": 1,
        "vcpus": 1,
        "disk": 0,
        "id": flavor["id"],
    }
    assert (await admin.post("/v2.1/flavors", json={"flavor": same_id})).status_code == 409


async def test_members_may_not_manage_flavors(tenant: Api) -> None:
    body = {"flavor": {"name": "mine", "ram": 1, "vcpus": 1, "disk": 0}}
    assert (await tenant.post("/v2.1/flavors", json=body)).status_code == 403
    assert (await tenant.delete("/v2.1/flavors/1")).status_code == 403


async def test_bad_flavor_bodies_are_400s(admin: Api) -> None:
    for flavor in (
        {"name": "x", "ram": 0, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": -1, "disk": 0},
        {"name": "x", "ram": "lots", "vcpus": 1, "disk": 0},
        {"name": " padded ", "ram": 1, "vcpus": 1, "disk": 0},
        {"name": "x" * 256, "ram": 1, "vcpus": 1, "disk": 0},
        {"ram": 1, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "colour": "red"},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "maybe"},
    ):
        response = await admin.post("/v2.1/flavors", json={"flavor": flavor})
        assert response.status_code == 400, flavor
        assert response.json()["badRequest"]["message"]
    assert (await admin.post("/v2.1/flavors", content=b"{not json")).status_code == 400


async def test_description_needs_255_and_can_be_updated(admin: Api) -> None:
    body = {"flavor": {"name": "described", "ram": 1, "vcpus": 1, "disk": 0, "description": "d"}}
    assert (await admin.post("/v2.1/flavors", json=body)).status_code == 400
    flavor = await make_flavor(latest(admin), description="first")
    assert flavor["description"] == "first"
    update = {"flavor": {"description": "second"}}
    response = await latest(admin).put(f"/v2.1/flavors/{flavor['id']}", json=update)
    assert response.json()["flavor"]["description"] == "second"
    assert (await admin.put(f"/v2.1/flavors/{flavor['id']}", json=update)).status_code == 404


async def test_private_flavors_are_seen_by_granted_projects_only(
    admin: Api, tenant: Api, other: Api
) -> None:
    flavor = await make_flavor(admin, **{"os-flavor-access:is_public": False})
    path = f"/v2.1/flavors/{flavor['id']}"
    assert (await tenant.get(path)).status_code == 404
    grant = {"addTenantAccess": {"tenant": tenant.project_id}}
    response = await admin.post(f"{path}/action", json=grant)
    assert response.json()["flavor_access"] == [
        {"flavor_id": flavor["id"], "tenant_id": tenant.project_id}
    ]
    assert (await admin.post(f"{path}/action", json=grant)).status_code == 409
    assert (await tenant.get(path)).status_code == 200
    listed = {f["id"] for f in (await tenant.get("/v2.1/flavors")).json()["flavors"]}
    assert flavor["id"] in listed
    assert (await other.get(path)).status_code == 404
    everything = (await admin.get("/v2.1/flavors?is_public=none")).json()["flavors"]
    assert flavor["id"] in {f["id"] for f in everything}
    public_only = (await admin.get("/v2.1/flavors")).json()["flavors"]
    assert flavor["id"] not in {f["id"] for f in public_only}
    revoke = {"removeTenantAccess": {"tenant": tenant.project_id}}
    assert (await admin.post(f"{path}/action", json=revoke)).status_code == 200
    assert (await admin.post(f"{path}/action", json=revoke)).status_code == 404
    assert (await tenant.get(path)).status_code == 404


async def test_public_flavors_have_no_access_list(admin: Api) -> None:
    response = await admin.get("/v2.1/flavors/1/os-flavor-access")
    assert response.status_code == 404
    grant = {"addTenantAccess": {"tenant": "p"}}
    assert (await admin.post("/v2.1/flavors/1/action", json=grant)).status_code == 409


async def test_extra_specs_lifecycle(admin: Api, tenant: Api) -> None:
    flavor = await make_flavor(admin)
    path = f"/v2.1/flavors/{flavor['id']}/os-extra_specs"
    response = await admin.post(path, json={"extra_specs": {"hw:cpu_policy": "shared", "k": 1}})
    assert response.json() == {"extra_specs": {"hw:cpu_policy": "shared", "k": "1"}}
    assert (await tenant.get(path)).json()["extra_specs"]["k"] == "1"
    assert (await tenant.get(f"{path}/k")).json() == {"k": "1"}
    assert (await admin.put(f"{path}/k", json={"k": "2"})).json() == {"k": "2"}
    assert (await admin.put(f"{path}/k", json={"other": "2"})).status_code == 400
    assert (await admin.put(f"{path}/k", json={"k": "2", "j": "3"})).status_code == 400
    assert (await tenant.put(f"{path}/k", json={"k": "3"})).status_code == 403
    assert (await admin.delete(f"{path}/k")).status_code == 200  # as Nova (not 202)
    assert (await admin.get(f"{path}/k")).status_code == 404
    assert (await admin.delete(f"{path}/k")).status_code == 404
    assert (await admin.post(path, json={"extra_specs": {}})).status_code == 400
    shown = (await latest(tenant).get(f"/v2.1/flavors/{flavor['id']}")).json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "shared"}
