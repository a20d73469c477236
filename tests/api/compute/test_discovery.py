"""Version discovery and microversion negotiation."""

from __future__ import annotations

from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.identity.conftest import Api


async def test_root_lists_both_versions_with_the_microversion_range(
    compute_cloud: ComputeCloud,
) -> None:
    response = await compute_cloud.client.get("/")
    assert response.status_code == 200
    versions = {v["id"]: v for v in response.json()["versions"]}
    assert versions["v2.0"]["version"] == ""
    assert versions["v2.1"]["status"] == "CURRENT"
    assert versions["v2.1"]["min_version"] == "2.1"
    assert versions["v2.1"]["version"] == "2.79"
    assert versions["v2.1"]["links"][0]["href"] == "http://compute.test/v2.1/"


async def test_every_listed_version_link_leads_to_its_document(
    compute_cloud: ComputeCloud,
) -> None:
    listed = (await compute_cloud.client.get("/")).json()["versions"]
    for version in listed:
        (self_link,) = [link for link in version["links"] if link["rel"] == "self"]
        path = self_link["href"].removeprefix("http://compute.test")
        document = (await compute_cloud.client.get(path)).json()["version"]
        assert document["id"] == version["id"]
        assert [link for link in document["links"] if link["rel"] == "self"] == [self_link]
        assert document["media-types"][0]["base"] == "application/json"
    response = await compute_cloud.client.get("/v2.1")
    assert response.json()["version"]["version"] == "2.79"


async def test_extensions_name_what_is_served(tenant: Api, compute_cloud: ComputeCloud) -> None:
    listed = (await tenant.get("/v2.1/extensions")).json()["extensions"]
    aliases = {e["alias"] for e in listed}
    assert {"os-hosts", "os-keypairs", "os-server-groups"} <= aliases
    shown = await tenant.get("/v2.1/extensions/os-keypairs")
    assert shown.json()["extension"]["name"] == "Keypairs"
    missing = await tenant.get("/v2.1/extensions/os-teleport")
    assert missing.status_code == 404
    assert "os-teleport" in missing.json()["itemNotFound"]["message"]
    assert (await compute_cloud.anonymous().get("/v2.1/extensions")).status_code == 401


async def test_no_header_means_the_lowest_version(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors")
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "OpenStack-API-Version" in response.headers["Vary"]


async def test_both_headers_select_a_version(tenant: Api) -> None:
    modern = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.55"})
    assert modern.headers["OpenStack-API-Version"] == "compute 2.55"
    assert "description" in modern.json()["flavors"][0]
    legacy = await tenant.get("/v2.1/flavors", headers={"X-OpenStack-Nova-API-Version": "2.40"})
    assert legacy.headers["OpenStack-API-Version"] == "compute 2.40"
    assert "description" not in legacy.json()["flavors"][0]
    latest = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.headers["OpenStack-API-Version"] == "compute 2.79"


async def test_versions_out_of_range_are_not_acceptable(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.200"})
    assert response.status_code == 406
    assert response.json()["computeFault"]["message"] == (
        "Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.79."
    )
    response = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 1.9"})
    assert response.status_code == 406


async def test_a_malformed_version_is_a_bad_request(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.x"})
    assert response.status_code == 400
    assert "invalid format" in response.json()["badRequest"]["message"]


async def test_other_services_headers_are_ignored(tenant: Api) -> None:
    response = await tenant.get("/v2.1/flavors", headers={"OpenStack-API-Version": "volume 3.40"})
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"


async def test_errors_are_in_novas_shape(tenant: Api, compute_cloud: ComputeCloud) -> None:
    response = await tenant.get("/v2.1/flavors/nope")
    assert response.status_code == 404
    assert response.json() == {
        "itemNotFound": {"code": 404, "message": "Flavor nope could not be found."}
    }
    response = await compute_cloud.anonymous().get("/v2.1/flavors")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")


async def test_the_network_proxy_lists_no_networks_until_2_36(tenant: Api) -> None:
    listed = await tenant.get("/v2.1/os-networks")
    assert listed.status_code == 200
    assert listed.json() == {"networks": []}
    shown = await tenant.get("/v2.1/os-networks/net-1")
    assert shown.status_code == 404
    assert shown.json()["itemNotFound"]["message"] == "Network net-1 could not be found."
    gone = await latest(tenant).get("/v2.1/os-networks")
    assert gone.status_code == 404


async def test_a_trailing_slash_is_another_path(admin: Api) -> None:
    # as Nova: GET /os-simple-tenant-usage/ asks for the usage of tenant "", which is no tenant
    blank = await admin.get("/v2.1/os-simple-tenant-usage/")
    assert blank.status_code == 404
    assert (await admin.get("/v2.1/os-simple-tenant-usage")).status_code == 200
