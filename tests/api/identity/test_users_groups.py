"""Users and groups: CRUD, membership, filters, extra attributes, policy."""

from __future__ import annotations

import pytest

from tests.api.identity.conftest import Api, Cloud, create, grant, make_project, make_user, unique


async def make_group(admin: Api, **fields: object) -> dict[str, object]:
    return await create(admin, "groups", **fields)


async def test_user_keeps_extra_attributes_and_hides_password(admin: Api) -> None:
    project = await make_project(admin)
    user = await make_user(admin, email="a@b.c", project_id=project["id"], description="desc")
    assert "password" not in user
    shown = (await admin.get(f"/v3/users/{user['id']}")).json()["user"]
    assert shown == user
    assert shown["email"] == "a@b.c" and shown["project_id"] == project["id"]
    assert shown["password_expires_at"] is None and shown["options"] == {}


async def test_user_update_and_delete(admin: Api) -> None:
    user = await make_user(admin)
    changes = {"name": unique("renamed"), "email": "new@x.y", "enabled": False, "description": "d"}
    updated = (await admin.patch(f"/v3/users/{user['id']}", json={"user": changes})).json()["user"]
    for field, value in changes.items():
        assert updated[field] == value
    assert (
        await admin.patch(f"/v3/users/{user['id']}", json={"user": {"domain_id": "x"}})
    ).status_code == 400
    assert (await admin.delete(f"/v3/users/{user['id']}")).status_code == 204
    assert (await admin.get(f"/v3/users/{user['id']}")).status_code == 404


async def test_user_filters(admin: Api) -> None:
    off = await make_user(admin, enabled=False)
    listed = (await admin.get("/v3/users", params={"enabled": "false"})).json()["users"]
    assert off["id"] in [u["id"] for u in listed]
    by_name = (await admin.get("/v3/users", params={"name": off["name"]})).json()["users"]
    assert [u["id"] for u in by_name] == [off["id"]]
    by_domain = (await admin.get("/v3/users", params={"domain_id": "nope"})).json()["users"]
    assert by_domain == []


async def test_user_errors(admin: Api) -> None:
    user = await make_user(admin)
    assert (await admin.post("/v3/users", json={"user": {"name": user["name"]}})).status_code == 409
    assert (
        await admin.post("/v3/users", json={"user": {"name": "x", "domain_id": "nope"}})
    ).status_code == 404
    assert (await admin.post("/v3/users", json={"user": {"name": "a" * 256}})).status_code == 400
    assert (
        await admin.post("/v3/users", json={"user": {"name": "x", "enabled": "True"}})
    ).status_code == 400
    assert (
        await admin.post("/v3/users", json={"user": {"name": "x", "default_project_id": "default"}})
    ).status_code == 400
    assert (await admin.get("/v3/users/nope")).status_code == 404


async def test_user_sees_self_but_not_others(cloud: Cloud, admin: Api, demo: Api) -> None:
    assert (await demo.get(f"/v3/users/{demo.user_id}")).status_code == 200
    other = await make_user(admin)
    assert (await demo.get(f"/v3/users/{other['id']}")).status_code == 403
    assert (
        await demo.patch(f"/v3/users/{other['id']}", json={"user": {"enabled": False}})
    ).status_code == 403
    assert (await demo.get("/v3/users")).status_code == 403
    projects = (await demo.get(f"/v3/users/{demo.user_id}/projects")).json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    assert (await demo.get(f"/v3/users/{other['id']}/projects")).status_code == 403


async def test_group_membership(admin: Api, demo: Api) -> None:
    group = await make_group(admin, description="g")
    users = [await make_user(admin) for _ in range(2)]
    for user in users:
        assert (await admin.put(f"/v3/groups/{group['id']}/users/{user['id']}")).status_code == 204
    members = (await admin.get(f"/v3/groups/{group['id']}/users")).json()["users"]
    assert sorted(m["id"] for m in members) == sorted(u["id"] for u in users)
    groups = (await admin.get(f"/v3/users/{users[0]['id']}/groups")).json()["groups"]
    assert groups == [{**group, "membership_expires_at": None}]
    assert (await admin.head(f"/v3/groups/{group['id']}/users/{users[0]['id']}")).status_code == 204
    assert (
        await admin.delete(f"/v3/groups/{group['id']}/users/{users[0]['id']}")
    ).status_code == 204
    assert (await admin.head(f"/v3/groups/{group['id']}/users/{users[0]['id']}")).status_code == 404
    assert (await admin.put(f"/v3/groups/{group['id']}/users/nope")).status_code == 404
    assert (await demo.put(f"/v3/groups/{group['id']}/users/{demo.user_id}")).status_code == 403


async def test_group_crud_and_errors(admin: Api, demo: Api) -> None:
    group = await make_group(admin)
    assert (
        await admin.post("/v3/groups", json={"group": {"name": group["name"]}})
    ).status_code == 409
    updated = await admin.patch(f"/v3/groups/{group['id']}", json={"group": {"description": "new"}})
    assert updated.json()["group"]["description"] == "new"
    listed = (await admin.get("/v3/groups", params={"name": group["name"]})).json()["groups"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert (await demo.get(f"/v3/groups/{group['id']}")).status_code == 403
    assert (await admin.post("/v3/groups", json={"group": {"name": ""}})).status_code == 400
    assert (await admin.delete(f"/v3/groups/{group['id']}")).status_code == 204
    assert (await admin.get(f"/v3/groups/{group['id']}")).status_code == 404


@pytest.mark.parametrize("field", ["name", "description"])
async def test_group_wrong_types_are_400(admin: Api, field: str) -> None:
    response = await admin.post("/v3/groups", json={"group": {"name": "ok", field: ["list"]}})
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]


async def test_deleting_a_user_removes_its_assignments(admin: Api) -> None:
    user = await make_user(admin)
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    await admin.delete(f"/v3/users/{user['id']}")
    found = (await admin.get("/v3/role_assignments", params={"user.id": user["id"]})).json()
    assert found["role_assignments"] == []
