"""``/v2/images/{id}/members``: sharing with other projects, accepted or rejected by them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.identity.conftest import Api
from tests.api.image.conftest import ImageCloud, active_image, make_image


async def share(owner: Api, image_id: str, project_id: str) -> dict[str, Any]:
    response = await owner.post(f"/v2/images/{image_id}/members", json={"member": project_id})
    assert response.status_code == 200, response.text
    member: dict[str, Any] = response.json()
    return member


async def test_a_member_is_pending_until_it_accepts(owner: Api, other: Api) -> None:
    image = await active_image(owner, data=b"shared bytes")
    member = await share(owner, image["id"], other.project_id)
    assert member["status"] == "pending" and member["image_id"] == image["id"]
    assert member["member_id"] == other.project_id and member["schema"] == "/v2/schemas/member"
    assert (await other.get(f"/v2/images/{image['id']}")).status_code == 200
    assert (await other.get(f"/v2/images/{image['id']}/file")).content == b"shared bytes"
    url = f"/v2/images/{image['id']}/members/{other.project_id}"
    accepted = await other.put(url, json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    listing = (await owner.get(f"/v2/images/{image['id']}/members")).json()
    assert listing["schema"] == "/v2/schemas/members"
    assert [(m["member_id"], m["status"]) for m in listing["members"]] == [
        (other.project_id, "accepted")
    ]
    assert (await other.get(url)).json()["status"] == "accepted"
    rejected = await other.put(url, json={"status": "rejected"})
    assert rejected.json()["status"] == "rejected"


async def test_members_see_only_their_own_membership(
    owner: Api, other: Api, image_cloud: ImageCloud
) -> None:
    from tests.api.image.conftest import new_tenant

    third = await new_tenant(image_cloud)
    image = await make_image(owner)
    await share(owner, image["id"], other.project_id)
    await share(owner, image["id"], third.project_id)
    seen = (await other.get(f"/v2/images/{image['id']}/members")).json()["members"]
    assert [m["member_id"] for m in seen] == [other.project_id]
    assert (
        await other.get(f"/v2/images/{image['id']}/members/{third.project_id}")
    ).status_code == 404
    owners_view = (await owner.get(f"/v2/images/{image['id']}/members")).json()["members"]
    assert {m["member_id"] for m in owners_view} == {other.project_id, third.project_id}


async def test_only_the_member_answers_for_itself(owner: Api, other: Api) -> None:
    image = await make_image(owner)
    await share(owner, image["id"], other.project_id)
    url = f"/v2/images/{image['id']}/members/{other.project_id}"
    refused = await owner.put(url, json={"status": "accepted"})
    assert refused.status_code == 403 and "modify_member" in refused.json()["message"]
    assert (await other.put(url, json={"status": "maybe"})).status_code == 400
    assert (await other.put(url, json=["accepted"])).status_code == 400


async def test_only_shared_images_have_members(owner: Api, other: Api) -> None:
    private = await make_image(owner, visibility="private")
    response = await owner.post(
        f"/v2/images/{private['id']}/members", json={"member": other.project_id}
    )
    assert response.status_code == 403 and "Only shared images" in response.json()["message"]
    assert (await owner.get(f"/v2/images/{private['id']}/members")).status_code == 403


@pytest.mark.parametrize("body", [{}, {"member": ""}, {"member": 5}, ["x"], {"member": "m" * 256}])
async def test_bad_member_bodies_are_refused(owner: Api, body: Any) -> None:
    image = await make_image(owner)
    response = await owner.post(f"/v2/images/{image['id']}/members", json=body)
    assert response.status_code == 400


async def test_a_project_is_a_member_once_and_within_the_quota(
    owner: Api, other: Api, image_cloud: ImageCloud
) -> None:
    image = await make_image(owner)
    await share(owner, image["id"], other.project_id)
    again = await owner.post(f"/v2/images/{image['id']}/members", json={"member": other.project_id})
    assert again.status_code == 409
    conf = image_cloud.image.conf
    image_cloud.image.conf = conf.model_copy(update={"member_quota": 1})
    try:
        full = await owner.post(f"/v2/images/{image['id']}/members", json={"member": "another"})
        assert full.status_code == 413
    finally:
        image_cloud.image.conf = conf


async def test_the_owner_removes_members(owner: Api, other: Api) -> None:
    image = await make_image(owner)
    await share(owner, image["id"], other.project_id)
    url = f"/v2/images/{image['id']}/members/{other.project_id}"
    assert (await other.delete(url)).status_code == 403
    assert (await owner.delete(url)).status_code == 204
    assert (await owner.delete(url)).status_code == 404
    assert (await other.get(f"/v2/images/{image['id']}")).status_code == 404


async def test_strangers_cannot_share_or_see_members(owner: Api, other: Api) -> None:
    image = await make_image(owner)
    stranger = await other.post(f"/v2/images/{image['id']}/members", json={"member": "x"})
    assert stranger.status_code == 404
    assert (await other.get(f"/v2/images/{image['id']}/members")).status_code == 404
