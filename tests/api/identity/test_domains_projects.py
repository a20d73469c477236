"""Domains, projects, hierarchy, tags, filters and pagination."""

from __future__ import annotations

import pytest

from tests.api.identity.conftest import Api, Cloud, create, make_project, make_user, unique


async def make_domain(admin: Api, **fields: object) -> dict[str, object]:
    return await create(admin, "domains", **fields)


async def test_domain_lifecycle_and_cascade(admin: Api) -> None:
    domain = await make_domain(admin, description="d1")
    assert domain["enabled"] is True and domain["description"] == "d1" and domain["tags"] == []
    did = domain["id"]
    listed = (await admin.get("/v3/domains", params={"name": domain["name"]})).json()["domains"]
    assert listed == [domain]
    user = await make_user(admin, domain_id=did)
    group = (
        await admin.post("/v3/groups", json={"group": {"name": unique("g"), "domain_id": did}})
    ).json()["group"]
    assert (await admin.delete(f"/v3/domains/{did}")).status_code == 403
    updated = await admin.patch(f"/v3/domains/{did}", json={"domain": {"enabled": False}})
    assert updated.json()["domain"]["enabled"] is False
    assert (await admin.delete(f"/v3/domains/{did}")).status_code == 204
    assert (await admin.get(f"/v3/domains/{did}")).status_code == 404
    assert (await admin.get(f"/v3/users/{user['id']}")).status_code == 404
    assert (await admin.get(f"/v3/groups/{group['id']}")).status_code == 404


async def test_domain_duplicate_name_is_409(admin: Api) -> None:
    domain = await make_domain(admin)
    response = await admin.post("/v3/domains", json={"domain": {"name": domain["name"]}})
    assert response.status_code == 409
    assert "same name" in response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["", "a" * 65, 5, None])
async def test_bad_domain_names_are_400(admin: Api, name: object) -> None:
    response = await admin.post("/v3/domains", json={"domain": {"name": name}})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["message"]


async def test_member_sees_own_domain_but_cannot_change_domains(demo: Api, admin: Api) -> None:
    assert (await demo.get("/v3/domains/default")).status_code == 200
    assert (await demo.get("/v3/domains")).status_code == 403
    assert (
        await demo.post("/v3/domains", json={"domain": {"name": unique("d")}})
    ).status_code == 403
    other = await make_domain(admin)
    assert (await demo.get(f"/v3/domains/{other['id']}")).status_code == 403


async def test_project_get_equals_list_entry_with_extras_and_tags(admin: Api) -> None:
    project = await make_project(admin, tags=["b", "a"], color="blue")
    shown = (await admin.get(f"/v3/projects/{project['id']}")).json()["project"]
    listed = (await admin.get("/v3/projects", params={"name": project["name"]})).json()["projects"]
    assert listed == [shown]
    assert shown["tags"] == ["a", "b"] and shown["color"] == "blue"
    assert shown["parent_id"] == "default" and shown["domain_id"] == "default"


async def test_project_hierarchy_parents_and_subtree(admin: Api) -> None:
    root = await make_project(admin)
    child = await make_project(admin, parent_id=root["id"])
    leaf = await make_project(admin, parent_id=child["id"])
    assert child["parent_id"] == root["id"]
    shown = (await admin.get(f"/v3/projects/{leaf['id']}", params={"parents_as_ids": ""})).json()
    assert shown["project"]["parents"] == {child["id"]: {root["id"]: None}}
    tree = (await admin.get(f"/v3/projects/{root['id']}", params={"subtree_as_ids": ""})).json()
    assert tree["project"]["subtree"] == {child["id"]: {leaf["id"]: None}}
    assert (await admin.delete(f"/v3/projects/{root['id']}")).status_code == 403
    by_parent = (await admin.get("/v3/projects", params={"parent_id": child["id"]})).json()[
        "projects"
    ]
    assert [p["id"] for p in by_parent] == [leaf["id"]]


async def test_project_as_domain(admin: Api) -> None:
    response = await admin.post(
        "/v3/projects",
        json={"project": {"name": unique("pd"), "is_domain": True, "domain_id": None}},
    )
    assert response.status_code == 201
    project = response.json()["project"]
    assert project["is_domain"] is True and project["domain_id"] is None
    domains = (await admin.get("/v3/domains")).json()["domains"]
    assert project["id"] in [d["id"] for d in domains]
    assert project["id"] in [
        p["id"]
        for p in (await admin.get("/v3/projects", params={"is_domain": "true"})).json()["projects"]
    ]


async def test_project_filters(admin: Api) -> None:
    enabled = await make_project(admin, tags=["red", "round"])
    disabled = await make_project(admin, enabled=False, tags=["red"])
    off = (await admin.get("/v3/projects", params={"enabled": "false"})).json()["projects"]
    assert disabled["id"] in [p["id"] for p in off] and enabled["id"] not in [p["id"] for p in off]
    both = (await admin.get("/v3/projects", params={"tags": "red,round"})).json()["projects"]
    assert [p["id"] for p in both] == [enabled["id"]]
    anyred = {
        p["id"]
        for p in (await admin.get("/v3/projects", params={"tags-any": "red"})).json()["projects"]
    }
    assert {enabled["id"], disabled["id"]} <= anyred
    fragment = enabled["name"][5:]
    found = (await admin.get("/v3/projects", params={"name__contains": fragment})).json()[
        "projects"
    ]
    assert [p["id"] for p in found] == [enabled["id"]]


async def test_project_pagination_with_limit_and_marker(admin: Api) -> None:
    prefix = unique("page")
    ids = sorted([(await make_project(admin, name=f"{prefix}-{i}"))["id"] for i in range(5)])
    seen: list[str] = []
    url: str | None = "/v3/projects?limit=2&name__startswith=" + prefix
    while url:
        body = (await admin.get(url)).json()
        seen += [p["id"] for p in body["projects"]]
        url = body["links"]["next"]
        assert len(body["projects"]) <= 2
    assert seen == ids
    assert (await admin.get("/v3/projects", params={"limit": "x"})).status_code == 400


async def test_project_updates_and_immutable_fields(admin: Api) -> None:
    project = await make_project(admin)
    pid = project["id"]
    response = await admin.patch(
        f"/v3/projects/{pid}", json={"project": {"name": "n-" + project["name"], "enabled": False}}
    )
    assert response.json()["project"]["enabled"] is False
    for field, value in (("domain_id", "x"), ("is_domain", True), ("parent_id", "x")):
        assert (
            await admin.patch(f"/v3/projects/{pid}", json={"project": {field: value}})
        ).status_code == 400
    assert (
        await admin.patch(f"/v3/projects/{pid}", json={"project": {"enabled": "yes"}})
    ).status_code == 400
    assert (await admin.delete(f"/v3/projects/{pid}")).status_code == 204
    assert (await admin.delete(f"/v3/projects/{pid}")).status_code == 404


async def test_project_errors(admin: Api, demo: Api) -> None:
    project = await make_project(admin)
    dup = await admin.post("/v3/projects", json={"project": {"name": project["name"]}})
    assert dup.status_code == 409
    assert (
        await admin.post("/v3/projects", json={"project": {"name": "x", "domain_id": "nope"}})
    ).status_code == 404
    assert (
        await admin.post("/v3/projects", json={"project": {"name": "x", "parent_id": "nope"}})
    ).status_code == 404
    assert (await admin.post("/v3/projects", json={"project": {}})).status_code == 400
    assert (await admin.post("/v3/projects", json={"projects": {"name": "x"}})).status_code == 400
    assert (await demo.get("/v3/projects")).status_code == 403
    assert (
        await demo.post("/v3/projects", json={"project": {"name": unique("p")}})
    ).status_code == 403
    assert (await demo.get(f"/v3/projects/{project['id']}")).status_code == 403
    assert (await demo.delete(f"/v3/projects/{project['id']}")).status_code == 403
    assert (await demo.get(f"/v3/projects/{demo.project_id}")).status_code == 200


async def test_project_tags_api(admin: Api, demo: Api) -> None:
    project = await make_project(admin)
    base = f"/v3/projects/{project['id']}/tags"
    assert (await admin.put(f"{base}/one")).status_code == 201
    assert (await admin.get(f"{base}/one")).status_code == 204
    replaced = await admin.put(base, json={"tags": ["x", "y"]})
    assert replaced.status_code == 200 and replaced.json()["tags"] == ["x", "y"]
    assert (await admin.get(f"{base}/one")).status_code == 404
    assert (await admin.delete(f"{base}/x")).status_code == 204
    assert (await admin.get(base)).json()["tags"] == ["y"]
    assert (await admin.delete(base)).status_code == 204
    assert (await admin.get(base)).json()["tags"] == []
    assert (await admin.put(base, json={"tags": ["a,b"]})).status_code == 400
    assert (await admin.put(base, json={"tags": ["t"] * 81})).status_code == 400
    assert (await demo.put(f"{base}/z")).status_code == 403
    assert (await admin.get("/v3/projects/nope/tags")).status_code == 404


async def test_disabled_project_cannot_be_scoped(cloud: Cloud, admin: Api) -> None:
    from tests.api.identity.conftest import grant

    project = await make_project(admin)
    user = await make_user(admin, password="pw-proj")
    await grant(admin, project["id"], user["id"])
    api = await cloud.login(user["name"], "pw-proj", project=project["name"])
    await admin.patch(f"/v3/projects/{project['id']}", json={"project": {"enabled": False}})
    assert (await api.get("/v3/auth/projects")).status_code == 401
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user["id"], "password": "pw-proj"}},
            },
            "scope": {"project": {"id": project["id"]}},
        }
    }
    assert (await cloud.client.post("/v3/auth/tokens", json=body)).status_code == 401
