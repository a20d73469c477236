"""``/images`` before 2.36: the proxy to the image service, with the caller's token."""

from __future__ import annotations

from tests.api.compute.conductor_helpers import boot, wait_for_status
from tests.api.compute.conftest import ComputeCloud, latest, upload_image
from tests.api.compute.test_server_actions import act
from tests.api.compute.test_server_moves import image_of
from tests.api.identity.conftest import Api


async def test_images_are_listed_and_shown_as_nova_shows_them(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    mine = await upload_image(
        compute_cloud.on_images(tenant),
        name="proxied",
        visibility="private",
        min_ram=64,
        colour="red",
    )
    listed = (await tenant.get("/v2.1/images")).json()["images"]
    assert {"id", "name", "links"} == set(next(i for i in listed if i["id"] == mine))
    detail = (await tenant.get("/v2.1/images/detail", params={"name": "proxied"})).json()
    assert [i["id"] for i in detail["images"]] == [mine]
    shown = (await tenant.get(f"/v2.1/images/{mine}")).json()["image"]
    assert shown["status"] == "ACTIVE" and shown["progress"] == 100
    assert shown["minRam"] == 64 and shown["minDisk"] == 0
    assert shown["metadata"] == {"colour": "red"}
    assert shown["OS-EXT-IMG-SIZE:size"] == 4096
    assert shown["created"].endswith("Z")
    roomy = await tenant.get("/v2.1/images", params={"minRam": "65"})
    assert mine not in [i["id"] for i in roomy.json()["images"]]
    active = await tenant.get("/v2.1/images", params={"status": "ACTIVE", "limit": "1"})
    assert len(active.json()["images"]) == 1
    assert "marker=" in active.json()["images_links"][0]["href"]
    assert (await latest(tenant).get(f"/v2.1/images/{mine}")).status_code == 404


async def test_snapshots_are_found_by_server_and_type(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(tenant, server["id"], {"createImage": {"name": "snap"}})
    snapshot = response.headers["Location"].rsplit("/", 1)[-1]
    await image_of(tenant, compute_cloud, snapshot)
    await wait_for_status(tenant, server["id"], "ACTIVE")
    href = f"http://compute.test/v2.1/servers/{server['id']}"
    by_server = (await tenant.get("/v2.1/images/detail", params={"server": href})).json()
    (found,) = by_server["images"]
    assert found["id"] == snapshot
    assert found["server"]["id"] == server["id"]
    by_type = (await tenant.get("/v2.1/images", params={"type": "snapshot"})).json()
    assert snapshot in [i["id"] for i in by_type["images"]]
    assert compute_cloud.image_id not in [i["id"] for i in by_type["images"]]


async def test_image_metadata_is_its_properties(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    image = await upload_image(compute_cloud.on_images(tenant), visibility="private", a="1")
    url = f"/v2.1/images/{image}/metadata"
    merged = await tenant.post(url, json={"metadata": {"b": "2"}})
    assert merged.json()["metadata"] == {"a": "1", "b": "2"}
    replaced = await tenant.put(url, json={"metadata": {"c": "3"}})
    assert replaced.json()["metadata"] == {"c": "3"}
    item = await tenant.put(f"{url}/d", json={"meta": {"d": "4"}})
    assert item.json() == {"meta": {"d": "4"}}
    assert (await tenant.get(f"{url}/d")).json() == {"meta": {"d": "4"}}
    mismatch = await tenant.put(f"{url}/d", json={"meta": {"e": "5"}})
    assert mismatch.status_code == 400
    assert (await tenant.delete(f"{url}/c")).status_code == 204
    assert (await tenant.get(url)).json()["metadata"] == {"d": "4"}
    assert (await tenant.get(f"{url}/c")).status_code == 404
    too_many = {"metadata": {f"k{i}": "v" for i in range(129)}}
    assert (await tenant.post(url, json=too_many)).status_code == 403
    assert (await other.get(url)).status_code == 404
    assert (await other.delete(f"/v2.1/images/{image}")).status_code == 404
    assert (await tenant.delete(f"/v2.1/images/{image}")).status_code == 204
    assert (await tenant.get(f"/v2.1/images/{image}")).status_code == 404
