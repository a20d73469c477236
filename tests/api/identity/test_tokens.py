"""POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth/* scope listings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.identity.conftest import Api, Cloud, grant, make_project, make_user


def password_auth(user: dict[str, Any], password: str, scope: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {**user, "password": password}},
            }
        }
    }
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


async def test_password_token_by_name_has_user_project_roles_and_catalog(cloud: Cloud) -> None:
    body = password_auth(
        {"name": "admin", "domain": {"name": "Default"}},
        cloud.admin_password,
        {"project": {"name": "admin", "domain": {"name": "Default"}}},
    )
    response = await cloud.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 201
    assert response.headers["X-Subject-Token"]
    token = response.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "admin"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "admin"
    assert {"admin", "member", "reader"} <= {r["name"] for r in token["roles"]}
    assert token["expires_at"] > token["issued_at"]
    assert token["audit_ids"] and isinstance(token["audit_ids"][0], str)
    assert "identity" in [entry["type"] for entry in token["catalog"]]


async def test_unscoped_token_has_no_project_roles_or_catalog(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-unscoped")
    body = password_auth({"id": user["id"]}, "pw-unscoped")
    response = await cloud.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 201
    token = response.json()["token"]
    for absent in ("project", "roles", "catalog"):
        assert absent not in token


async def test_wrong_password_and_unknown_user_give_the_same_401(cloud: Cloud) -> None:
    wrong = await cloud.client.post(
        "/v3/auth/tokens",
        json=password_auth({"name": "demo", "domain": {"id": "default"}}, "nope"),
    )
    unknown = await cloud.client.post(
        "/v3/auth/tokens",
        json=password_auth({"name": "nobody-at-all", "domain": {"id": "default"}}, "nope"),
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["WWW-Authenticate"].startswith("Keystone uri=")


async def test_validate_returns_the_issued_token_and_delete_revokes_it(
    cloud: Cloud, admin: Api
) -> None:
    demo = await cloud.login("demo", cloud.demo_password, project="demo")
    issued = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": demo.token or ""})
    assert issued.status_code == 200
    assert issued.json()["token"]["user"]["name"] == "demo"
    check = await admin.head("/v3/auth/tokens", headers={"X-Subject-Token": demo.token or ""})
    assert check.status_code == 200
    revoked = await demo.delete("/v3/auth/tokens", headers={"X-Subject-Token": demo.token or ""})
    assert revoked.status_code == 204
    after = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": demo.token or ""})
    assert after.status_code == 404
    assert (await demo.get("/v3/auth/projects")).status_code == 401


async def test_validate_garbage_subject_token_is_404(admin: Api) -> None:
    response = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": "not-a-token"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


async def test_token_method_rescopes_and_keeps_expiry_and_user(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-rescope")
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    first = await cloud.client.post(
        "/v3/auth/tokens", json=password_auth({"id": user["id"]}, "pw-rescope")
    )
    token_id = first.headers["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token_id}},
            "scope": {"project": {"id": project["id"]}},
        }
    }
    second = await cloud.client.post("/v3/auth/tokens", json=body)
    assert second.status_code == 201
    rescoped = second.json()["token"]
    assert set(rescoped["methods"]) == {"password", "token"}
    assert rescoped["expires_at"] == first.json()["token"]["expires_at"]
    assert rescoped["user"] == first.json()["token"]["user"]
    assert rescoped["project"]["id"] == project["id"]
    assert rescoped["audit_ids"][1] == first.json()["token"]["audit_ids"][0]


async def test_scope_to_a_project_without_roles_is_401(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-noroles")
    project = await make_project(admin)
    body = password_auth({"id": user["id"]}, "pw-noroles", {"project": {"id": project["id"]}})
    response = await cloud.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 401


async def test_default_project_scopes_a_token_without_scope(cloud: Cloud, admin: Api) -> None:
    project = await make_project(admin)
    user = await make_user(admin, password="pw-default", default_project_id=project["id"])
    await grant(admin, project["id"], user["id"])
    response = await cloud.client.post(
        "/v3/auth/tokens", json=password_auth({"id": user["id"]}, "pw-default")
    )
    assert response.json()["token"]["project"]["id"] == project["id"]


async def test_role_unassignment_revokes_project_token(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-unassign")
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    issued = await cloud.client.post(
        "/v3/auth/tokens",
        json=password_auth({"id": user["id"]}, "pw-unassign", {"project": {"id": project["id"]}}),
    )
    token = issued.headers["X-Subject-Token"]
    roles = (await admin.get(f"/v3/projects/{project['id']}/users/{user['id']}/roles")).json()[
        "roles"
    ]
    await admin.delete(f"/v3/projects/{project['id']}/users/{user['id']}/roles/{roles[0]['id']}")
    response = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": token})
    assert response.status_code == 404


async def test_disabling_a_user_revokes_their_tokens(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-disable")
    issued = await cloud.client.post(
        "/v3/auth/tokens", json=password_auth({"id": user["id"]}, "pw-disable")
    )
    token = issued.headers["X-Subject-Token"]
    await admin.patch(f"/v3/users/{user['id']}", json={"user": {"enabled": False}})
    response = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": token})
    assert response.status_code == 404
    again = await cloud.client.post(
        "/v3/auth/tokens", json=password_auth({"id": user["id"]}, "pw-disable")
    )
    assert again.status_code == 401


async def test_nocatalog_omits_catalog(cloud: Cloud) -> None:
    body = password_auth(
        {"name": "demo", "domain": {"id": "default"}},
        cloud.demo_password,
        {"project": {"name": "demo", "domain": {"id": "default"}}},
    )
    response = await cloud.client.post("/v3/auth/tokens?nocatalog", json=body)
    assert "catalog" not in response.json()["token"]


async def test_auth_projects_domains_system_and_catalog(demo: Api, admin: Api) -> None:
    projects = (await demo.get("/v3/auth/projects")).json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    assert (await demo.get("/v3/auth/domains")).json()["domains"] == []
    assert (await demo.get("/v3/auth/system")).json()["system"] == []
    assert (await admin.get("/v3/auth/system")).json()["system"] == [{"all": True}]
    catalog = (await demo.get("/v3/auth/catalog")).json()["catalog"]
    assert "identity" in [entry["type"] for entry in catalog]


async def test_system_and_domain_scoped_tokens(cloud: Cloud, admin: Api) -> None:
    body = password_auth(
        {"name": "admin", "domain": {"id": "default"}},
        cloud.admin_password,
        {"system": {"all": True}},
    )
    system = (await cloud.client.post("/v3/auth/tokens", json=body)).json()["token"]
    assert system["system"] == {"all": True}
    user = await make_user(admin, password="pw-domain")
    member = (await admin.get("/v3/roles", params={"name": "member"})).json()["roles"][0]
    await admin.put(f"/v3/domains/default/users/{user['id']}/roles/{member['id']}")
    body = password_auth({"id": user["id"]}, "pw-domain", {"domain": {"id": "default"}})
    domain = (await cloud.client.post("/v3/auth/tokens", json=body)).json()["token"]
    assert domain["domain"] == {"id": "default", "name": "Default"}
    assert "reader" in {r["name"] for r in domain["roles"]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": {}},
        {"auth": {"identity": {"methods": []}}},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "x"}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": 5}}}}},
        {"auth": {"identity": {"methods": ["token"], "token": {}}}},
        {"auth": {"identity": {"methods": ["password"], "password": "x"}}},
        [],
        "text",
    ],
)
async def test_malformed_auth_requests_are_400(cloud: Cloud, body: Any) -> None:
    response = await cloud.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]


async def test_unsupported_method_is_401(cloud: Cloud) -> None:
    body = {"auth": {"identity": {"methods": ["totp"], "totp": {}}}}
    response = await cloud.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 401


async def test_malformed_json_is_400(cloud: Cloud) -> None:
    response = await cloud.client.post(
        "/v3/auth/tokens", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
