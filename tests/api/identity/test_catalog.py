"""Regions, services, endpoints, endpoint groups and the catalog they make."""

from __future__ import annotations

import pytest

from tests.api.identity.conftest import Api, Cloud, make_project, unique


async def make_service(admin: Api, **fields: object) -> dict[str, object]:
    body = {"service": {"type": unique("type"), "name": unique("svc"), **fields}}
    response = await admin.post("/v3/services", json=body)
    assert response.status_code == 201, response.text
    service: dict[str, object] = response.json()["service"]
    return service


async def test_regions(admin: Api, demo: Api) -> None:
    parent = (await admin.post("/v3/regions", json={"region": {"description": "p"}})).json()[
        "region"
    ]
    child_id = unique("region")
    created = await admin.put(
        f"/v3/regions/{child_id}", json={"region": {"parent_region_id": parent["id"]}}
    )
    assert created.status_code == 201 and created.json()["region"]["id"] == child_id
    assert (await admin.put(f"/v3/regions/{child_id}", json={"region": {}})).status_code == 409
    listed = (await admin.get("/v3/regions", params={"parent_region_id": parent["id"]})).json()[
        "regions"
    ]
    assert [r["id"] for r in listed] == [child_id]
    loop = await admin.patch(
        f"/v3/regions/{parent['id']}", json={"region": {"parent_region_id": child_id}}
    )
    assert loop.status_code == 400
    assert (await admin.delete(f"/v3/regions/{parent['id']}")).status_code == 403
    assert (await demo.get(f"/v3/regions/{child_id}")).status_code == 200
    assert (await demo.post("/v3/regions", json={"region": {}})).status_code == 403
    assert (
        await admin.post("/v3/regions", json={"region": {"parent_region_id": "nope"}})
    ).status_code == 404
    assert (await admin.delete(f"/v3/regions/{child_id}")).status_code == 204


async def test_services_and_endpoints_reach_the_catalog(cloud: Cloud, admin: Api) -> None:
    service = await make_service(admin, description="things")
    assert service["enabled"] is True and service["description"] == "things"
    region = unique("region")
    body = {
        "endpoint": {
            "service_id": service["id"],
            "interface": "public",
            "url": "http://example.test/v1/%(project_id)s",
            "region": region,
        }
    }
    endpoint = (await admin.post("/v3/endpoints", json=body)).json()["endpoint"]
    assert endpoint["region_id"] == region and endpoint["region"] == region
    assert (await admin.get(f"/v3/regions/{region}")).status_code == 200
    fresh = await cloud.login("admin", cloud.admin_password, project="admin")
    catalog = (await fresh.get("/v3/auth/catalog")).json()["catalog"]
    entry = next(e for e in catalog if e["id"] == service["id"])
    assert entry["endpoints"][0]["url"] == f"http://example.test/v1/{fresh.project_id}"
    by_service = (await admin.get("/v3/endpoints", params={"service_id": service["id"]})).json()
    assert [e["id"] for e in by_service["endpoints"]] == [endpoint["id"]]
    updated = await admin.patch(
        f"/v3/endpoints/{endpoint['id']}", json={"endpoint": {"enabled": False}}
    )
    assert updated.json()["endpoint"]["enabled"] is False
    assert (await admin.delete(f"/v3/services/{service['id']}")).status_code == 204
    assert (await admin.get(f"/v3/endpoints/{endpoint['id']}")).status_code == 404


@pytest.mark.parametrize(
    "endpoint",
    [
        {"interface": "public", "url": "http://x", "enabled": "True"},
        {"interface": "sideways", "url": "http://x"},
        {"interface": "public"},
        {"interface": "public", "url": "http://x", "region_id": "no-such-region"},
    ],
)
async def test_bad_endpoints_are_400(admin: Api, endpoint: dict[str, object]) -> None:
    service = await make_service(admin)
    response = await admin.post(
        "/v3/endpoints", json={"endpoint": {"service_id": service["id"], **endpoint}}
    )
    assert response.status_code == 400


async def test_service_filters_and_policy(admin: Api, demo: Api) -> None:
    service = await make_service(admin)
    found = (await admin.get("/v3/services", params={"type": service["type"]})).json()["services"]
    assert [s["id"] for s in found] == [service["id"]]
    assert (await demo.get("/v3/services")).status_code == 403
    assert (await demo.post("/v3/services", json={"service": {"type": "x"}})).status_code == 403
    assert (await admin.post("/v3/services", json={"service": {}})).status_code == 400


async def test_endpoint_groups_and_project_associations(admin: Api) -> None:
    service = await make_service(admin)
    body = {"endpoint_group": {"name": unique("eg"), "filters": {"service_id": service["id"]}}}
    group = (await admin.post("/v3/OS-EP-FILTER/endpoint_groups", json=body)).json()[
        "endpoint_group"
    ]
    assert (await admin.head(f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}")).status_code == 200
    endpoint = (
        await admin.post(
            "/v3/endpoints",
            json={
                "endpoint": {"service_id": service["id"], "interface": "admin", "url": "http://x"}
            },
        )
    ).json()["endpoint"]
    members = (await admin.get(f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}/endpoints")).json()
    assert [e["id"] for e in members["endpoints"]] == [endpoint["id"]]
    project = await make_project(admin)
    path = f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}"
    assert (await admin.put(path)).status_code == 204
    assert (await admin.get(path)).json()["project"]["id"] == project["id"]
    groups = (await admin.get(f"/v3/OS-EP-FILTER/projects/{project['id']}/endpoint_groups")).json()
    assert [g["id"] for g in groups["endpoint_groups"]] == [group["id"]]
    assert (await admin.delete(path)).status_code == 204
    direct = f"/v3/OS-EP-FILTER/projects/{project['id']}/endpoints/{endpoint['id']}"
    assert (await admin.put(direct)).status_code == 204
    assert (await admin.head(direct)).status_code == 204
    assert (await admin.delete(direct)).status_code == 204
    assert (await admin.head(direct)).status_code == 404
    bad = {"endpoint_group": {"name": "x", "filters": {"colour": "red"}}}
    assert (await admin.post("/v3/OS-EP-FILTER/endpoint_groups", json=bad)).status_code == 400
    assert (
        await admin.delete(f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}")
    ).status_code == 204
