"""Roles, domain-specific roles and role inference."""

from __future__ import annotations

from tests.api.identity.conftest import Api, create, unique


async def make_role(admin: Api, **fields: object) -> dict[str, object]:
    return await create(admin, "roles", **fields)


async def test_role_lifecycle(admin: Api) -> None:
    role = await make_role(admin, description="d")
    assert role["domain_id"] is None and role["options"] == {}
    listed = (await admin.get("/v3/roles", params={"name": role["name"]})).json()["roles"]
    assert listed == [role]
    renamed = await admin.patch(f"/v3/roles/{role['id']}", json={"role": {"name": unique("r2")}})
    assert renamed.status_code == 200
    assert (await admin.delete(f"/v3/roles/{role['id']}")).status_code == 204
    assert (await admin.get(f"/v3/roles/{role['id']}")).status_code == 404


async def test_duplicate_and_bad_roles(admin: Api, demo: Api) -> None:
    role = await make_role(admin)
    assert (await admin.post("/v3/roles", json={"role": {"name": role["name"]}})).status_code == 409
    assert (await admin.post("/v3/roles", json={"role": {"name": ""}})).status_code == 400
    assert (
        await admin.post("/v3/roles", json={"role": {"name": "x", "domain_id": "nope"}})
    ).status_code == 404
    assert (await demo.post("/v3/roles", json={"role": {"name": unique("r")}})).status_code == 403
    assert (await demo.get("/v3/roles")).status_code == 403


async def test_default_roles_are_immutable(admin: Api) -> None:
    admin_role = (await admin.get("/v3/roles", params={"name": "admin"})).json()["roles"][0]
    assert admin_role["options"] == {"immutable": True}
    assert (await admin.delete(f"/v3/roles/{admin_role['id']}")).status_code == 403
    assert (
        await admin.patch(f"/v3/roles/{admin_role['id']}", json={"role": {"name": "x"}})
    ).status_code == 403


async def test_domain_roles_are_listed_by_domain(admin: Api) -> None:
    role = await make_role(admin, domain_id="default")
    assert role["domain_id"] == "default"
    in_domain = (await admin.get("/v3/roles", params={"domain_id": "default"})).json()["roles"]
    assert role in in_domain
    global_roles = (await admin.get("/v3/roles")).json()["roles"]
    assert role["id"] not in [r["id"] for r in global_roles]


async def test_role_inference_rules(admin: Api) -> None:
    a, b, c = [await make_role(admin) for _ in range(3)]
    created = await admin.put(f"/v3/roles/{a['id']}/implies/{b['id']}")
    assert created.status_code == 201
    assert created.json()["role_inference"]["implies"]["id"] == b["id"]
    await admin.put(f"/v3/roles/{a['id']}/implies/{c['id']}")
    assert (await admin.head(f"/v3/roles/{a['id']}/implies/{b['id']}")).status_code == 204
    shown = (await admin.get(f"/v3/roles/{a['id']}/implies")).json()["role_inference"]
    assert {r["id"] for r in shown["implies"]} == {b["id"], c["id"]}
    everything = (await admin.get("/v3/role_inferences")).json()["role_inferences"]
    assert any(rule["prior_role"]["id"] == a["id"] for rule in everything)
    assert (await admin.put(f"/v3/roles/{b['id']}/implies/{a['id']}")).status_code == 400
    assert (await admin.delete(f"/v3/roles/{a['id']}/implies/{b['id']}")).status_code == 204
    assert (await admin.get(f"/v3/roles/{a['id']}/implies/{b['id']}")).status_code == 404


async def test_global_role_cannot_imply_domain_role_nor_admin(admin: Api) -> None:
    global_role = await make_role(admin)
    domain_role = await make_role(admin, domain_id="default")
    assert (
        await admin.put(f"/v3/roles/{global_role['id']}/implies/{domain_role['id']}")
    ).status_code == 403
    assert (
        await admin.put(f"/v3/roles/{domain_role['id']}/implies/{global_role['id']}")
    ).status_code == 201
    admin_id = (await admin.get("/v3/roles", params={"name": "admin"})).json()["roles"][0]["id"]
    assert (await admin.put(f"/v3/roles/{global_role['id']}/implies/{admin_id}")).status_code == 403
