"""Role grants on projects, domains and the system, OS-INHERIT, and role assignments."""

from __future__ import annotations

import pytest

from tests.api.identity.conftest import (
    Api,
    Cloud,
    create,
    grant,
    make_project,
    make_user,
    role_id,
)


async def make_role(admin: Api, **fields: object) -> dict[str, object]:
    return await create(admin, "roles", **fields)


async def make_group(admin: Api, **fields: object) -> dict[str, object]:
    return await create(admin, "groups", **fields)


@pytest.mark.parametrize("actor", ["users", "groups"])
@pytest.mark.parametrize("target", ["projects", "domains", "system"])
async def test_grant_check_list_revoke(admin: Api, actor: str, target: str) -> None:
    role = await make_role(admin)
    actor_row = await (make_user(admin) if actor == "users" else make_group(admin))
    if target == "system":
        base = f"/v3/system/{actor}/{actor_row['id']}/roles"
    else:
        target_id = (await make_project(admin))["id"] if target == "projects" else "default"
        base = f"/v3/{target}/{target_id}/{actor}/{actor_row['id']}/roles"
    assert (await admin.put(f"{base}/{role['id']}")).status_code == 204
    assert (await admin.head(f"{base}/{role['id']}")).status_code == 204
    listed = (await admin.get(base)).json()["roles"]
    assert [r["id"] for r in listed] == [role["id"]]
    assert (await admin.delete(f"{base}/{role['id']}")).status_code == 204
    assert (await admin.head(f"{base}/{role['id']}")).status_code == 404
    assert (await admin.delete(f"{base}/{role['id']}")).status_code == 404


async def test_grant_of_unknown_role_user_or_project_is_404(admin: Api) -> None:
    user = await make_user(admin)
    project = await make_project(admin)
    member = await role_id(admin, "member")
    for path in (
        f"/v3/projects/{project['id']}/users/{user['id']}/roles/nope",
        f"/v3/projects/{project['id']}/users/nope/roles/{member}",
        f"/v3/projects/nope/users/{user['id']}/roles/{member}",
    ):
        assert (await admin.put(path)).status_code == 404


async def test_member_cannot_grant_roles(demo: Api, admin: Api) -> None:
    user = await make_user(admin)
    member = await role_id(admin, "member")
    response = await demo.put(f"/v3/projects/{demo.project_id}/users/{user['id']}/roles/{member}")
    assert response.status_code == 403


async def test_inherited_domain_role_reaches_projects_in_effective_assignments(admin: Api) -> None:
    role = await make_role(admin)
    user = await make_user(admin)
    parent = await make_project(admin)
    child = await make_project(admin, parent_id=parent["id"])
    path = (
        f"/v3/OS-INHERIT/domains/default/users/{user['id']}/roles/{role['id']}"
        "/inherited_to_projects"
    )
    assert (await admin.put(path)).status_code == 204
    for project in (parent, child):
        params = {"effective": "", "user.id": user["id"], "scope.project.id": project["id"]}
        found = (await admin.get("/v3/role_assignments", params=params)).json()["role_assignments"]
        assert [a["role"]["id"] for a in found] == [role["id"]]
    raw = (await admin.get("/v3/role_assignments", params={"user.id": user["id"]})).json()
    assert raw["role_assignments"][0]["scope"]["OS-INHERIT:inherited_to"] == "projects"
    assert (await admin.delete(path)).status_code == 204
    params = {"effective": "", "user.id": user["id"], "scope.project.id": child["id"]}
    assert (await admin.get("/v3/role_assignments", params=params)).json()["role_assignments"] == []


async def test_implied_roles_show_in_effective_assignments_and_tokens(
    cloud: Cloud, admin: Api
) -> None:
    prior, implied = await make_role(admin), await make_role(admin)
    user = await make_user(admin, password="pw-implied")
    project = await make_project(admin)
    await admin.put(f"/v3/projects/{project['id']}/users/{user['id']}/roles/{prior['id']}")
    assert (await admin.put(f"/v3/roles/{prior['id']}/implies/{implied['id']}")).status_code == 201
    params = {"effective": "true", "user.id": user["id"], "scope.project.id": project["id"]}
    found = (await admin.get("/v3/role_assignments", params=params)).json()["role_assignments"]
    assert {a["role"]["id"] for a in found} == {prior["id"], implied["id"]}
    login = await cloud.login(user["name"], "pw-implied")  # type: ignore[arg-type]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": login.token}},
            "scope": {"project": {"id": project["id"]}},
        }
    }
    token = (await cloud.client.post("/v3/auth/tokens", json=body)).json()["token"]
    assert {r["id"] for r in token["roles"]} == {prior["id"], implied["id"]}


async def test_group_roles_reach_members(cloud: Cloud, admin: Api) -> None:
    group = await make_group(admin)
    user = await make_user(admin, password="pw-group")
    project = await make_project(admin)
    member = await role_id(admin, "member")
    await admin.put(f"/v3/projects/{project['id']}/groups/{group['id']}/roles/{member}")
    assert (await admin.put(f"/v3/groups/{group['id']}/users/{user['id']}")).status_code == 204
    api = await cloud.login(user["name"], "pw-group", project=project["name"])  # type: ignore[arg-type]
    assert api.project_id == project["id"]
    params = {"effective": "", "user.id": user["id"]}
    found = (await admin.get("/v3/role_assignments", params=params)).json()["role_assignments"]
    assert any("membership" in a["links"] for a in found)


async def test_role_assignment_names(admin: Api) -> None:
    user = await make_user(admin)
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    params = {"user.id": user["id"], "include_names": "true"}
    found = (await admin.get("/v3/role_assignments", params=params)).json()["role_assignments"]
    assert found[0]["user"]["name"] == user["name"]
    assert found[0]["scope"]["project"]["name"] == project["name"]
    assert found[0]["role"]["name"] == "member"
