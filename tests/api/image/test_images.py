"""``/v2/images``: create, show, update, delete, actions, tags — and what each refuses."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from overcast.image.app import make_image_app
from overcast.image.service import ImageService
from tests.api.identity.conftest import Api
from tests.api.image.conftest import (
    PATCH_V20,
    ImageCloud,
    active_image,
    make_image,
    patch,
    unique,
)


async def test_a_new_image_is_queued_shared_and_owned_by_the_caller(owner: Api) -> None:
    name = unique()
    response = await owner.post(
        "/v2/images",
        json={
            "name": name,
            "disk_format": "qcow2",
            "container_format": "bare",
            "tags": ["a", "b", "a"],
            "os_distro": "debian",
            "ramdisk_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == owner.project_id and image["name"] == name
    assert image["tags"] == ["a", "b"] and image["os_distro"] == "debian"
    assert image["size"] is None and image["checksum"] is None and image["protected"] is False
    assert image["self"] == f"/v2/images/{image['id']}" and image["schema"] == "/v2/schemas/image"
    assert response.headers["Location"] == image["self"]
    assert response.headers["OpenStack-image-store-ids"] == "file"
    shown = await owner.get(f"/v2/images/{image['id']}")
    assert shown.json() == image


async def test_an_image_can_be_created_with_a_chosen_id_once(owner: Api) -> None:
    image_id = str(uuid.uuid4())
    assert (await make_image(owner, id=image_id))["id"] == image_id
    again = await owner.post("/v2/images", json={"id": image_id})
    assert again.status_code == 409 and "already exists" in again.json()["message"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"status": "active"}, 403, "read-only"),
        ({"size": 5}, 403, "read-only"),
        ({"checksum": "x"}, 403, "read-only"),
        ({"self": "/x"}, 403, "read-only"),
        ({"stores": "file"}, 403, "read-only"),
        ({"locations": []}, 403, "reserved"),
        ({"deleted": "true"}, 403, "reserved"),
        ({"os_glance_import_task": "x"}, 403, "reserved"),
        ({"disk_format": "floppy"}, 400, "does not match schema"),
        ({"container_format": "wrong"}, 400, "does not match schema"),
        ({"id": "not-a-uuid"}, 400, "does not match schema"),
        ({"name": "n" * 256}, 400, "does not match schema"),
        ({"os_distro": 7}, 400, "does not match schema"),
        ({"visibility": "everyone"}, 400, "does not match schema"),
        ({"protected": "yes"}, 400, "does not match schema"),
        ({"tags": "a,b"}, 400, "does not match schema"),
        ({"min_ram": -1}, 400, "negative"),
        ({"k" * 256: "v"}, 400, "255 characters"),
        ([], 400, "JSON object"),
    ],
)
async def test_create_refuses_bad_bodies(owner: Api, body: Any, status: int, words: str) -> None:
    response = await owner.post("/v2/images", json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert words in error["message"]
    assert error["code"] == f"{status} {error['title']}"


async def test_create_refuses_bodies_that_are_not_json(owner: Api) -> None:
    empty = await owner.post("/v2/images", content=b"")
    assert empty.status_code == 400 and "Body expected" in empty.json()["message"]
    broken = await owner.post("/v2/images", content=b"{oops")
    assert broken.status_code == 400 and "Malformed JSON" in broken.json()["message"]


async def test_only_admins_publicize_or_give_images_away(owner: Api, admin: Api) -> None:
    assert (await owner.post("/v2/images", json={"visibility": "public"})).status_code == 403
    assert (await owner.post("/v2/images", json={"owner": admin.project_id})).status_code == 403
    assert (await make_image(owner, visibility="community"))["visibility"] == "community"
    public = await make_image(admin, visibility="public", owner=owner.project_id)
    assert public["visibility"] == "public" and public["owner"] == owner.project_id


async def test_readers_see_but_do_not_create(reader: Api) -> None:
    assert (await reader.get("/v2/images")).status_code == 200
    assert (await reader.post("/v2/images", json={"name": "x"})).status_code == 403


async def test_requests_without_a_token_are_unauthorized(image_cloud: ImageCloud) -> None:
    response = await image_cloud.anonymous().get("/v2/images")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")


async def test_show_hides_what_the_caller_may_not_see(owner: Api, other: Api) -> None:
    private = await make_image(owner, visibility="private")
    shared = await make_image(owner)
    community = await make_image(owner, visibility="community")
    for image_id in (private["id"], shared["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = await other.get(f"/v2/images/{image_id}")
        assert response.status_code == 404
        assert "No image found" in response.json()["message"]
    assert (await other.get(f"/v2/images/{community['id']}")).status_code == 200
    assert (await other.get("/v2/images/")).status_code == 404


async def test_another_worker_sees_each_change_at_once(
    image_cloud: ImageCloud, owner: Api, other: Api
) -> None:
    """Shown images are cached per process; a write through any process is seen by all."""
    second = ImageService(image_cloud.image.settings)
    app = make_image_app(second, image_cloud.image_validator, identity_url="http://identity.test")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://image.test"
        ) as client:
            owner_there, other_there = replace(owner, client=client), replace(other, client=client)
            image = await make_image(owner, name="before")
            path = f"/v2/images/{image['id']}"
            assert (await owner_there.get(path)).json()["name"] == "before"
            assert (await other_there.get(path)).status_code == 404
            await patch(owner, image["id"], [{"op": "replace", "path": "/name", "value": "after"}])
            assert (await owner_there.get(path)).json()["name"] == "after"
            added = await owner.post(f"{path}/members", json={"member": other.project_id})
            assert added.status_code == 200, added.text
            assert (await other_there.get(path)).json()["name"] == "after"
            assert (await owner.delete(path)).status_code == 204
            assert (await owner_there.get(path)).status_code == 404
    finally:
        await second.close()


async def test_patch_replaces_adds_and_removes(owner: Api) -> None:
    image = await make_image(owner, os_distro="debian")
    response = await patch(
        owner,
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
            {"op": "add", "path": "/os_distro", "value": "ubuntu"},
            {"op": "remove", "path": "/os_distro"},
            {"op": "replace", "path": "/tags", "value": ["x", "y"]},
            {"op": "replace", "path": "/min_ram", "value": 512},
            {"op": "replace", "path": "/os_hidden", "value": True},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "renamed" and body["hw_disk_bus"] == "virtio"
    assert "os_distro" not in body and body["tags"] == ["x", "y"]
    assert body["min_ram"] == 512 and body["os_hidden"] is True
    assert (await owner.get(f"/v2/images/{image['id']}")).json() == body


@pytest.mark.parametrize(
    ("ops", "status", "words"),
    [
        ([{"op": "replace", "path": "/missing", "value": "v"}], 409, "does not exist"),
        ([{"op": "remove", "path": "/missing"}], 409, "does not exist"),
        ([{"op": "remove", "path": "/name"}], 403, "may not be removed"),
        ([{"op": "replace", "path": "/status", "value": "active"}], 403, "read-only"),
        ([{"op": "replace", "path": "/id", "value": str(uuid.uuid4())}], 403, "read-only"),
        ([{"op": "add", "path": "/os_glance_x", "value": "v"}], 403, "reserved"),
        (
            [{"op": "add", "path": "/locations/-", "value": {"url": "x", "metadata": {}}}],
            403,
            "reserved",
        ),
        ([{"op": "replace", "path": "/owner", "value": "someone"}], 403, "non admin"),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403, "publicize_image"),
        ([{"op": "replace", "path": "/disk_format", "value": "bogus"}], 400, "does not match"),
        ([{"op": "replace", "path": "/protected", "value": "no"}], 400, "does not match"),
        ([{"op": "add", "path": "/k", "value": 1}], 400, "does not match"),
        ([{"op": "replace", "path": "/min_disk", "value": -2}], 400, "negative"),
        ([{"op": "add", "path": "/name/sub", "value": "v"}], 400, "Invalid JSON pointer"),
        ([{"op": "copy", "path": "/name", "value": "v"}], 400, "Invalid operation"),
        ({"op": "add"}, 400, "JSON array"),
    ],
)
async def test_patch_refuses_what_glance_refuses(
    owner: Api, ops: Any, status: int, words: str
) -> None:
    image = await make_image(owner)
    response = await patch(owner, image["id"], ops)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


async def test_patch_is_all_or_nothing(owner: Api) -> None:
    image = await make_image(owner)
    response = await patch(
        owner,
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "changed"},
            {"op": "remove", "path": "/no_such_property"},
        ],
    )
    assert response.status_code == 409
    assert (await owner.get(f"/v2/images/{image['id']}")).json()["name"] == image["name"]


async def test_patch_needs_a_json_patch_media_type(owner: Api) -> None:
    image = await make_image(owner)
    response = await owner.patch(
        f"/v2/images/{image['id']}", json=[], headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 415
    assert "openstack-images-v2.1-json-patch" in response.headers["Accept-Patch"]


async def test_the_older_patch_dialect_refuses_to_add_what_exists(owner: Api) -> None:
    image = await make_image(owner, os_distro="debian")
    taken = await patch(owner, image["id"], [{"add": "/os_distro", "value": "x"}], PATCH_V20)
    assert taken.status_code == 409
    fresh = await patch(owner, image["id"], [{"add": "/os_version", "value": "12"}], PATCH_V20)
    assert fresh.status_code == 200 and fresh.json()["os_version"] == "12"


async def test_formats_are_fixed_once_an_image_has_data(owner: Api) -> None:
    image = await active_image(owner)
    response = await patch(
        owner, image["id"], [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    )
    assert response.status_code == 403 and "queued image" in response.json()["message"]


async def test_admins_may_change_the_owner(owner: Api, other: Api, admin: Api) -> None:
    image = await make_image(owner)
    response = await patch(
        admin, image["id"], [{"op": "replace", "path": "/owner", "value": other.project_id}]
    )
    assert response.status_code == 200 and response.json()["owner"] == other.project_id
    assert (await other.get(f"/v2/images/{image['id']}")).status_code == 200


async def test_other_projects_may_not_change_images_they_can_see(
    owner: Api, other: Api, admin: Api
) -> None:
    public = await make_image(admin, visibility="public")
    ops = [{"op": "replace", "path": "/name", "value": "mine now"}]
    response = await patch(other, public["id"], ops)
    assert response.status_code == 403 and "modify_image" in response.json()["message"]
    assert (await other.delete(f"/v2/images/{public['id']}")).status_code == 403
    private = await make_image(owner, visibility="private")
    assert (await patch(other, private["id"], ops)).status_code == 404


async def test_property_and_tag_quotas(owner: Api, image_cloud: ImageCloud) -> None:
    conf = image_cloud.image.conf
    image_cloud.image.conf = conf.model_copy(update={"property_quota": 2, "tag_quota": 1})
    try:
        too_many = await owner.post("/v2/images", json={"a": "1", "b": "2", "c": "3"})
        assert too_many.status_code == 413
        image = await make_image(owner, tags=["t1"])
        assert (await owner.put(f"/v2/images/{image['id']}/tags/t2")).status_code == 413
        ops = [{"op": "add", "path": f"/p{i}", "value": "v"} for i in range(3)]
        assert (await patch(owner, image["id"], ops)).status_code == 413
    finally:
        image_cloud.image.conf = conf


async def test_image_count_quota(owner: Api, image_cloud: ImageCloud) -> None:
    from overcast.common.config import ImageQuota

    conf = image_cloud.image.conf
    quotas = {owner.project_id: ImageQuota(image_count_total=1)}
    image_cloud.image.conf = conf.model_copy(update={"project_quotas": quotas})
    try:
        await make_image(owner)
        response = await owner.post("/v2/images", json={"name": "second"})
        assert response.status_code == 413 and "image_count_total" in response.json()["message"]
    finally:
        image_cloud.image.conf = conf


async def test_delete_removes_the_image_and_its_data(owner: Api, image_cloud: ImageCloud) -> None:
    image = await active_image(owner)
    stored = image_cloud.image.default_store.root / image["id"]  # type: ignore[attr-defined]
    assert stored.exists()
    assert (await owner.delete(f"/v2/images/{image['id']}")).status_code == 204
    assert not stored.exists()
    assert (await owner.get(f"/v2/images/{image['id']}")).status_code == 404
    assert (await owner.delete(f"/v2/images/{image['id']}")).status_code == 404
    reused = await owner.post("/v2/images", json={"id": image["id"]})
    assert reused.status_code == 409


async def test_protected_images_cannot_be_deleted(owner: Api) -> None:
    image = await make_image(owner, protected=True)
    response = await owner.delete(f"/v2/images/{image['id']}")
    assert response.status_code == 403 and "protected" in response.json()["message"]
    await patch(owner, image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert (await owner.delete(f"/v2/images/{image['id']}")).status_code == 204


async def test_deactivated_images_keep_their_data_from_everyone_but_admins(
    owner: Api, admin: Api
) -> None:
    image = await active_image(owner, data=b"secret data")
    base = f"/v2/images/{image['id']}"
    assert (await owner.post(f"{base}/actions/deactivate")).status_code == 204
    assert (await owner.post(f"{base}/actions/deactivate")).status_code == 204
    assert (await owner.get(base)).json()["status"] == "deactivated"
    assert (await owner.get(f"{base}/file")).status_code == 403
    assert (await admin.get(f"{base}/file")).content == b"secret data"
    assert (await owner.post(f"{base}/actions/reactivate")).status_code == 204
    assert (await owner.get(f"{base}/file")).content == b"secret data"


async def test_only_images_with_data_can_be_deactivated(owner: Api, other: Api) -> None:
    image = await make_image(owner)
    response = await owner.post(f"/v2/images/{image['id']}/actions/deactivate")
    assert response.status_code == 400 and "queued" in response.json()["message"]
    active = await active_image(owner, visibility="community")
    assert (await other.post(f"/v2/images/{active['id']}/actions/deactivate")).status_code == 403


async def test_tags_are_added_once_and_removed(owner: Api) -> None:
    image = await make_image(owner)
    base = f"/v2/images/{image['id']}/tags"
    assert (await owner.put(f"{base}/blue")).status_code == 204
    assert (await owner.put(f"{base}/blue")).status_code == 204
    assert (await owner.get(f"/v2/images/{image['id']}")).json()["tags"] == ["blue"]
    assert (await owner.delete(f"{base}/blue")).status_code == 204
    assert (await owner.delete(f"{base}/blue")).status_code == 404
    assert (await owner.put(f"{base}/{'t' * 256}")).status_code == 400


async def test_wrong_methods_are_told_what_is_allowed(owner: Api) -> None:
    response = await owner.put("/v2/images", json={})
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
