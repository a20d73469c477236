"""Actions that copy or move a guest: createImage, shelve/unshelve, rebuild, resize."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.compute.conductor_helpers import boot, wait_for_status
from tests.api.compute.conftest import ComputeCloud, latest, upload_image
from tests.api.compute.test_server_actions import act
from tests.api.identity.conftest import Api


async def image_of(api: Api, cloud: ComputeCloud, image_id: str) -> dict[str, Any]:
    """The image as the caller sees it in the image service, once it is active."""
    for _ in range(500):
        response = await cloud.compute.images.get(api.token, image_id)
        assert response is not None
        if response["status"] == "active":
            return response
        await asyncio.sleep(0.01)
    raise AssertionError(f"image {image_id} is still {response['status']}")


async def test_create_image_stores_a_private_snapshot(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    body = {"createImage": {"name": "snap-1", "metadata": {"purpose": "backup"}}}
    response = await act(tenant, server["id"], body)
    assert response.status_code == 202
    image_id = response.headers["Location"].rsplit("/", 1)[-1]
    image = await image_of(tenant, compute_cloud, image_id)
    assert image["name"] == "snap-1"
    assert image["visibility"] == "private"
    assert image["owner"] == tenant.project_id
    assert image["instance_uuid"] == server["id"]
    assert image["image_type"] == "snapshot"
    assert image["purpose"] == "backup"
    assert await compute_cloud.compute.images.get(other.token, image_id) is None
    await wait_for_status(tenant, server["id"], "ACTIVE")
    actions = await tenant.get(f"/v2.1/servers/{server['id']}/os-instance-actions")
    assert "createImage" in [a["action"] for a in actions.json()["instanceActions"]]


async def test_create_image_answers_the_id_in_the_body_from_2_45(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    response = await act(latest(tenant), server["id"], {"createImage": {"name": "snap-2"}})
    assert response.status_code == 202
    await image_of(tenant, compute_cloud, response.json()["image_id"])
    nameless = await act(tenant, server["id"], {"createImage": {}})
    assert nameless.status_code == 400


async def test_backups_rotate_keeping_the_newest(
    tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    theirs = {"createBackup": {"name": "x", "backup_type": "daily", "rotation": 1}}
    assert (await act(other, server["id"], theirs)).status_code == 404
    made = []
    for index in range(3):
        body = {"createBackup": {"name": f"b{index}", "backup_type": "daily", "rotation": 2}}
        response = await act(latest(tenant), server["id"], body)
        assert response.status_code == 202, response.text
        made.append(response.json()["image_id"])
        await wait_for_status(tenant, server["id"], "ACTIVE")
        image = await image_of(tenant, compute_cloud, made[-1])
        assert (image["image_type"], image["backup_type"]) == ("backup", "daily")
    images = compute_cloud.on_images(tenant)
    listed = await images.get("/v2/images", params={"instance_uuid": server["id"]})
    assert sorted(i["id"] for i in listed.json()["images"]) == sorted(made[1:])
    bad = await act(tenant, server["id"], {"createBackup": {"name": "x", "backup_type": "d"}})
    assert bad.status_code == 400
    negative = {"createBackup": {"name": "x", "backup_type": "d", "rotation": -1}}
    assert (await act(tenant, server["id"], negative)).status_code == 400


async def test_shelve_offloads_to_an_image_and_unshelve_boots_it(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"shelve": None})).status_code == 202
    shelved = await wait_for_status(tenant, server["id"], "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-STS:power_state"] == 4
    seen = (await admin.get(f"/v2.1/servers/{server['id']}")).json()["server"]
    assert seen["OS-EXT-SRV-ATTR:host"] is None
    images = await compute_cloud.on_images(tenant).get(
        "/v2/images", params={"name": f"{server['name']}-shelved"}
    )
    (shelved_image,) = images.json()["images"]
    again = await act(tenant, server["id"], {"shelve": None})
    assert again.status_code == 409
    assert (await act(tenant, server["id"], {"unshelve": None})).status_code == 202
    back = await wait_for_status(tenant, server["id"], "ACTIVE")
    assert back["image"]["id"] == compute_cloud.image_id
    for _ in range(200):  # the agent deletes the shelved image once the guest runs
        gone = await compute_cloud.on_images(tenant).get(f"/v2/images/{shelved_image['id']}")
        if gone.status_code == 404:
            break
        await asyncio.sleep(0.01)
    assert gone.status_code == 404


async def test_rebuild_replaces_image_name_and_metadata(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud, metadata={"old": "1"})
    other_image = await upload_image(compute_cloud.on_images(admin), name="other")
    body = {"rebuild": {"imageRef": other_image, "name": "rebuilt", "metadata": {"new": "2"}}}
    response = await act(tenant, server["id"], body)
    assert response.status_code == 202, response.text
    rebuilt = response.json()["server"]
    assert rebuilt["name"] == "rebuilt"
    assert rebuilt["image"]["id"] == other_image
    assert rebuilt["metadata"] == {"new": "2"}
    assert rebuilt["adminPass"]
    assert rebuilt["status"] == "REBUILD"
    assert "OS-EXT-STS:vm_state" not in rebuilt and "key_name" not in rebuilt
    await wait_for_status(tenant, server["id"], "ACTIVE")
    again = await act(latest(tenant), server["id"], {"rebuild": {"imageRef": other_image}})
    assert again.json()["server"]["OS-EXT-STS:vm_state"] == "active"
    assert again.json()["server"]["key_name"] is None
    assert again.json()["server"]["user_data"] is None
    assert "OS-EXT-SRV-ATTR:user_data" not in again.json()["server"]
    await wait_for_status(tenant, server["id"], "ACTIVE")
    missing = await act(tenant, server["id"], {"rebuild": {"imageRef": server["id"]}})
    assert missing.status_code == 400


async def test_rebuild_of_a_stopped_server_leaves_it_stopped(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    await act(tenant, server["id"], {"os-stop": None})
    await wait_for_status(tenant, server["id"], "SHUTOFF")
    body = {"rebuild": {"imageRef": compute_cloud.image_id}}
    assert (await act(tenant, server["id"], body)).status_code == 202
    await wait_for_status(tenant, server["id"], "SHUTOFF")


async def test_resize_then_confirm_keeps_the_new_flavor(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"resize": {"flavorRef": "2"}})).status_code == 202
    resized = await wait_for_status(tenant, server["id"], "VERIFY_RESIZE")
    assert resized["flavor"]["id"] == "2"
    assert (await act(tenant, server["id"], {"confirmResize": None})).status_code == 204
    confirmed = await wait_for_status(tenant, server["id"], "ACTIVE")
    assert confirmed["flavor"]["id"] == "2"
    migrations = await admin.get("/v2.1/os-migrations", params={"instance_uuid": server["id"]})
    (migration,) = migrations.json()["migrations"]
    assert migration["status"] == "confirmed"
    assert isinstance(migration["old_instance_type_id"], int)
    assert migration["new_instance_type_id"] != migration["old_instance_type_id"]


async def test_resize_then_revert_restores_the_old_flavor(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"resize": {"flavorRef": "2"}})).status_code == 202
    await wait_for_status(tenant, server["id"], "VERIFY_RESIZE")
    assert (await act(tenant, server["id"], {"revertResize": None})).status_code == 202
    reverted = await wait_for_status(tenant, server["id"], "ACTIVE")
    assert reverted["flavor"]["id"] == "1"


async def test_a_stopped_server_is_resized_powered_off_and_stays_stopped(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    await act(tenant, server["id"], {"os-stop": None})
    await wait_for_status(tenant, server["id"], "SHUTOFF")
    assert (await act(tenant, server["id"], {"resize": {"flavorRef": "2"}})).status_code == 202
    resized = await wait_for_status(tenant, server["id"], "VERIFY_RESIZE")
    assert resized["OS-EXT-STS:power_state"] == 4
    assert (await act(tenant, server["id"], {"revertResize": None})).status_code == 202
    await wait_for_status(tenant, server["id"], "SHUTOFF")
    assert (await act(tenant, server["id"], {"resize": {"flavorRef": "2"}})).status_code == 202
    await wait_for_status(tenant, server["id"], "VERIFY_RESIZE")
    assert (await act(tenant, server["id"], {"confirmResize": None})).status_code == 204
    confirmed = await wait_for_status(tenant, server["id"], "SHUTOFF")
    assert confirmed["flavor"]["id"] == "2"


async def test_resize_to_the_same_or_an_unknown_flavor_is_a_400(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    same = await act(tenant, server["id"], {"resize": {"flavorRef": "1"}})
    assert same.status_code == 400
    assert same.json()["badRequest"]["message"] == "When resizing, instances must change flavor!"
    unknown = await act(tenant, server["id"], {"resize": {"flavorRef": "nope"}})
    assert unknown.status_code == 400
    shown = await tenant.get(f"/v2.1/servers/{server['id']}")
    assert shown.json()["server"]["status"] == "ACTIVE"


async def test_resize_beyond_the_core_quota_is_a_403(
    tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    # 1 + 4 x 4 cores used; m1.xlarge's 8 cores would make 24 of the default 20
    for _ in range(4):
        await boot(tenant, compute_cloud, flavorRef="4")
    response = await act(tenant, server["id"], {"resize": {"flavorRef": "5"}})
    assert response.status_code == 403
    assert "Quota exceeded for cores" in response.json()["forbidden"]["message"]


async def test_cold_migration_needs_another_host(
    tenant: Api, admin: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    assert (await act(tenant, server["id"], {"migrate": None})).status_code == 403
    missing = await act(admin, "00000000-0000-0000-0000-000000000000", {"migrate": None})
    assert missing.status_code == 404
    early = await act(admin, server["id"], {"migrate": {"host": "elsewhere"}})
    assert early.status_code == 400
    unknown = await act(latest(admin), server["id"], {"migrate": {"host": "elsewhere"}})
    assert unknown.status_code == 400
    assert (await act(admin, server["id"], {"migrate": None})).status_code == 202
    # the test cloud has one compute host: the migration fails, the server stays where it is
    for _ in range(500):
        migrations = await admin.get("/v2.1/os-migrations", params={"instance_uuid": server["id"]})
        (migration,) = migrations.json()["migrations"]
        if migration["status"] == "error":
            break
        await asyncio.sleep(0.01)
    assert migration["status"] == "error"
    assert migration["old_instance_type_id"] == migration["new_instance_type_id"]
    back = await wait_for_status(tenant, server["id"], "ACTIVE")
    assert back["flavor"]["id"] == "1"
