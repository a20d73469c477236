"""Version discovery, the request id header, metrics, unknown routes and methods."""

from __future__ import annotations

from tests.api.identity.conftest import Api, Cloud


async def test_root_lists_v3_with_300(cloud: Cloud) -> None:
    response = await cloud.client.get("/")
    assert response.status_code == 300
    version = response.json()["versions"]["values"][0]
    assert version["id"] == "v3.14"
    assert version["links"][0]["href"].endswith("/v3/")
    assert version["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"


async def test_v3_with_and_without_slash(cloud: Cloud) -> None:
    for path in ("/v3", "/v3/"):
        response = await cloud.client.get(path)
        assert response.status_code == 200
        assert response.json()["version"]["status"] == "stable"


async def test_every_response_carries_a_request_id(cloud: Cloud) -> None:
    first = await cloud.client.get("/v3")
    second = await cloud.client.get("/v3/nothing-here")
    ids = {r.headers["X-Openstack-Request-Id"] for r in (first, second)}
    assert len(ids) == 2 and all(i.startswith("req-") for i in ids)


async def test_unknown_route_is_a_keystone_404(cloud: Cloud) -> None:
    response = await cloud.client.get("/v3/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


async def test_wrong_method_is_405_with_allow(admin: Api) -> None:
    response = await admin.put("/v3/projects")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_head_answers_without_body(admin: Api) -> None:
    response = await admin.head("/v3/projects")
    assert response.status_code == 200


async def test_protected_route_without_token_is_401(cloud: Cloud) -> None:
    response = await cloud.client.get("/v3/projects")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


async def test_garbage_token_is_401(cloud: Cloud) -> None:
    response = await cloud.client.get("/v3/projects", headers={"X-Auth-Token": "garbage"})
    assert response.status_code == 401


async def test_metrics_count_requests(cloud: Cloud) -> None:
    await cloud.client.get("/v3")
    response = await cloud.client.get("/metrics")
    assert response.status_code == 200
    assert (
        'overcast_http_requests_total{method="GET",route="/v3",service="identity",status="200"}'
        in response.text
    )
