"""Quota sets, quota class sets and limits."""

from __future__ import annotations

import uuid

from overcast.compute import flavors, quotas
from overcast.compute.service import ComputeService
from tests.api.compute.conductor_helpers import boot, server_body
from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.identity.conftest import Api


async def test_a_member_sees_its_own_quota_and_not_another(tenant: Api, other: Api) -> None:
    shown = await tenant.get(f"/v2.1/os-quota-sets/{tenant.project_id}")
    assert shown.status_code == 200
    quota = shown.json()["quota_set"]
    assert quota["id"] == tenant.project_id
    assert quota["instances"] == 10
    assert quota["cores"] == 20
    assert quota["floating_ips"] == 10  # shown before 2.36
    new = (await latest(tenant).get(f"/v2.1/os-quota-sets/{tenant.project_id}")).json()
    assert "floating_ips" not in new["quota_set"]
    assert "injected_files" not in new["quota_set"]
    assert (await tenant.get(f"/v2.1/os-quota-sets/{other.project_id}")).status_code == 403


async def test_detail_counts_usage(tenant: Api, compute_cloud: ComputeCloud) -> None:
    await boot(tenant, compute_cloud)
    detail = await tenant.get(f"/v2.1/os-quota-sets/{tenant.project_id}/detail")
    quota = detail.json()["quota_set"]
    assert quota["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert quota["cores"]["in_use"] == 1
    assert quota["ram"]["in_use"] == 512
    assert quota["key_pairs"]["in_use"] == 0  # other users' key pairs do not count


async def test_admin_sets_a_quota_that_boots_then_obey(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    url = f"/v2.1/os-quota-sets/{tenant.project_id}"
    body = {"quota_set": {"instances": 1}}
    assert (await tenant.put(url, json=body)).status_code == 403
    updated = await admin.put(url, json=body)
    assert updated.status_code == 200
    assert updated.json()["quota_set"]["instances"] == 1
    await boot(tenant, compute_cloud)
    refused = await tenant.post("/v2.1/servers", json=server_body(compute_cloud))
    assert refused.status_code == 403
    assert "Quota exceeded for instances" in refused.json()["forbidden"]["message"]
    below = await admin.put(url, json={"quota_set": {"instances": 0}})
    assert below.status_code == 400
    forced = await admin.put(url, json={"quota_set": {"instances": 0, "force": True}})
    assert forced.json()["quota_set"]["instances"] == 0
    assert (await admin.delete(url)).status_code == 202
    assert (await tenant.get(url)).json()["quota_set"]["instances"] == 10


async def test_bad_quota_bodies_are_400(admin: Api, tenant: Api) -> None:
    url = f"/v2.1/os-quota-sets/{tenant.project_id}"
    for quota in ({"instances": -2}, {"unicorns": 1}, {"instances": "many"}):
        response = await admin.put(url, json={"quota_set": quota})
        assert response.status_code == 400, quota
    assert (await admin.put(url, json={"quota": {}})).status_code == 400
    old = await latest(admin).put(url, json={"quota_set": {"floating_ips": 1}})
    assert old.status_code == 400  # network quotas are gone from 2.36


async def test_defaults_and_quota_classes(admin: Api, tenant: Api) -> None:
    defaults = await tenant.get(f"/v2.1/os-quota-sets/{tenant.project_id}/defaults")
    assert defaults.json()["quota_set"]["key_pairs"] == 100
    assert (await tenant.get("/v2.1/os-quota-class-sets/default")).status_code == 403
    shown = await admin.get("/v2.1/os-quota-class-sets/overcast-test-class")
    assert shown.json()["quota_class_set"]["id"] == "overcast-test-class"
    updated = await admin.put(
        "/v2.1/os-quota-class-sets/overcast-test-class",
        json={"quota_class_set": {"metadata_items": 7}},
    )
    assert updated.json()["quota_class_set"]["metadata_items"] == 7


async def test_limits_show_absolute_limits_and_usage(
    tenant: Api, other: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    await boot(tenant, compute_cloud)
    limits = (await tenant.get("/v2.1/limits")).json()["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert absolute["maxTotalInstances"] == 10
    assert absolute["totalInstancesUsed"] == 1
    assert absolute["totalRAMUsed"] == 512
    assert absolute["maxTotalFloatingIps"] == 10
    new = (await latest(tenant).get("/v2.1/limits")).json()["limits"]["absolute"]
    assert "maxPersonality" not in new
    assert "maxTotalFloatingIps" not in new
    theirs = await other.get("/v2.1/limits", params={"tenant_id": tenant.project_id})
    assert theirs.status_code == 403
    seen = await admin.get("/v2.1/limits", params={"tenant_id": tenant.project_id})
    assert seen.json()["limits"]["absolute"]["totalInstancesUsed"] == 1


async def test_creates_see_each_quota_and_flavor_change_at_once_in_every_worker(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    """Creates cache flavors and limits per process; a change through any worker empties
    every worker's cache (here: this API, and another service on the same data)."""
    flavorid = f"cached-{uuid.uuid4().hex[:6]}"
    body = {"name": flavorid, "id": flavorid, "ram": 256, "vcpus": 1, "disk": 1}
    assert (await admin.post("/v2.1/flavors", json={"flavor": body})).status_code == 200
    another = ComputeService(compute_cloud.compute.settings)
    try:
        await boot(tenant, compute_cloud, flavorRef=flavorid)
        assert (await flavors.known_flavor(another, flavorid)) is not None
        limits = await quotas.cached_limits(another, tenant.project_id)
        assert limits["instances"] == 10
        url = f"/v2.1/os-quota-sets/{tenant.project_id}"
        assert (await admin.put(url, json={"quota_set": {"instances": 1}})).status_code == 200
        refused = await tenant.post("/v2.1/servers", json=server_body(compute_cloud))
        assert refused.status_code == 403, refused.text
        assert (await quotas.cached_limits(another, tenant.project_id))["instances"] == 1
        assert (await admin.delete(url)).status_code == 202
        assert (await admin.delete(f"/v2.1/flavors/{flavorid}")).status_code == 202
        gone = await tenant.post(
            "/v2.1/servers", json=server_body(compute_cloud, flavorRef=flavorid)
        )
        assert gone.status_code == 400
        assert f"Flavor {flavorid} could not be found" in gone.json()["badRequest"]["message"]
        assert (await flavors.known_flavor(another, flavorid)) is None
    finally:
        await another.close()
