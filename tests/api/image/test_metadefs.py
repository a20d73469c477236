"""``/v2/metadefs``: namespaces with their resource types, properties, objects and tags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.identity.conftest import Api
from tests.api.image.conftest import unique

NS = "/v2/metadefs/namespaces"


async def namespace(admin: Api, **fields: Any) -> dict[str, Any]:
    body = {"namespace": unique("OS::Test"), "display_name": "Test", **fields}
    response = await admin.post(NS, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_namespace_is_created_with_its_contents(admin: Api) -> None:
    created = await namespace(
        admin,
        visibility="public",
        protected=True,
        resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}],
        properties={"cpu_cores": {"title": "Cores", "type": "integer", "minimum": 1}},
        objects=[{"name": "Watchdog", "properties": {"action": {"title": "A", "type": "string"}}}],
        tags=[{"name": "fast"}],
    )
    name = created["namespace"]
    assert created["visibility"] == "public" and created["protected"] is True
    assert created["self"] == f"{NS}/{name}"
    shown = (await admin.get(f"{NS}/{name}")).json()
    assert shown["properties"] == {"cpu_cores": {"title": "Cores", "type": "integer", "minimum": 1}}
    assert [o["name"] for o in shown["objects"]] == ["Watchdog"]
    assert shown["tags"] == [{"name": "fast"}]
    assert shown["resource_type_associations"][0]["prefix"] == "hw_"
    assert name in {n["namespace"] for n in (await admin.get(NS)).json()["namespaces"]}
    refused = await admin.delete(f"{NS}/{name}")
    assert refused.status_code == 403 and "protected" in refused.json()["message"]
    updated = await admin.put(f"{NS}/{name}", json={"namespace": name, "protected": False})
    assert updated.status_code == 200 and updated.json()["visibility"] == "private"
    assert (await admin.delete(f"{NS}/{name}")).status_code == 204
    assert (await admin.get(f"{NS}/{name}")).status_code == 404


async def test_private_namespaces_are_hidden_from_other_projects(admin: Api, owner: Api) -> None:
    private = await namespace(admin, visibility="private")
    public = await namespace(admin, visibility="public")
    assert (await owner.get(f"{NS}/{private['namespace']}")).status_code == 404
    assert (await owner.get(f"{NS}/{public['namespace']}")).status_code == 200
    seen = {n["namespace"] for n in (await owner.get(NS)).json()["namespaces"]}
    assert public["namespace"] in seen and private["namespace"] not in seen


async def test_only_admins_define_metadata(owner: Api, admin: Api) -> None:
    response = await owner.post(NS, json={"namespace": unique("OS::Mine")})
    assert response.status_code == 403
    public = await namespace(admin, visibility="public")
    prop = {"name": "p", "title": "P", "type": "string"}
    assert (
        await owner.post(f"{NS}/{public['namespace']}/properties", json=prop)
    ).status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"namespace": "n" * 81}, 400),
        ({"namespace": "x", "visibility": "shared"}, 400),
        ({"namespace": "x", "protected": "yes"}, 400),
        ({"namespace": "x", "properties": {"p": {"type": "string"}}}, 400),
        ({"namespace": "x", "self": "/v2/x"}, 403),
        (["x"], 400),
    ],
)
async def test_bad_namespaces_are_refused(admin: Api, body: Any, status: int) -> None:
    assert (await admin.post(NS, json=body)).status_code == status


async def test_namespace_names_are_unique(admin: Api) -> None:
    created = await namespace(admin)
    again = await admin.post(NS, json={"namespace": created["namespace"]})
    assert again.status_code == 409


async def test_properties(admin: Api) -> None:
    base = f"{NS}/{(await namespace(admin))['namespace']}/properties"
    body = {"name": "hypervisor", "title": "Hypervisor", "type": "string", "enum": ["kvm", "qemu"]}
    created = await admin.post(base, json=body)
    assert created.status_code == 201 and created.json() == body
    assert (await admin.post(base, json=body)).status_code == 409
    assert (await admin.get(f"{base}/hypervisor")).json() == body
    listed = (await admin.get(base)).json()["properties"]
    assert listed == {
        "hypervisor": {"title": "Hypervisor", "type": "string", "enum": ["kvm", "qemu"]}
    }
    renamed = await admin.put(f"{base}/hypervisor", json={**body, "name": "hv", "title": "HV"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "hv"
    assert (await admin.get(f"{base}/hypervisor")).status_code == 404
    assert (
        await admin.post(base, json={"name": "bad", "title": "t", "type": "colour"})
    ).status_code == 400
    assert (await admin.delete(f"{base}/hv")).status_code == 204
    assert (await admin.get(base)).json()["properties"] == {}


async def test_objects(admin: Api) -> None:
    ns = (await namespace(admin))["namespace"]
    base = f"{NS}/{ns}/objects"
    created = await admin.post(base, json={"name": "Memory", "required": ["size"]})
    assert created.status_code == 201
    assert created.json()["self"] == f"{base}/Memory" and created.json()["required"] == ["size"]
    updated = await admin.put(f"{base}/Memory", json={"name": "RAM", "description": "d"})
    assert updated.json()["name"] == "RAM" and updated.json()["description"] == "d"
    names = [o["name"] for o in (await admin.get(base)).json()["objects"]]
    assert names == ["RAM"]
    assert (await admin.get(f"{base}/Memory")).status_code == 404
    assert (await admin.post(base, json={"description": "no name"})).status_code == 400
    assert (await admin.delete(base)).status_code == 204
    assert (await admin.get(base)).json()["objects"] == []


async def test_tags(admin: Api) -> None:
    ns = (await namespace(admin))["namespace"]
    base = f"{NS}/{ns}/tags"
    made = await admin.post(base, json={"tags": [{"name": "a"}, {"name": "b"}]})
    assert made.status_code == 201 and made.json() == {"tags": [{"name": "a"}, {"name": "b"}]}
    replaced = await admin.post(base, json={"tags": [{"name": "c"}]})
    assert replaced.json()["tags"] == [{"name": "c"}]
    appended = await admin.post(
        base, json={"tags": [{"name": "d"}]}, headers={"X-Openstack-Append": "true"}
    )
    assert appended.status_code == 201
    assert [t["name"] for t in (await admin.get(base)).json()["tags"]] == ["c", "d"]
    assert (await admin.post(f"{base}/e")).status_code == 201
    assert (await admin.post(f"{base}/e")).status_code == 409
    renamed = await admin.put(f"{base}/e", json={"name": "f"})
    assert renamed.json()["name"] == "f"
    assert (await admin.get(f"{base}/f")).status_code == 200
    assert (await admin.delete(f"{base}/f")).status_code == 204
    assert (await admin.delete(base)).status_code == 204
    assert (await admin.get(base)).json()["tags"] == []
    duplicate = await admin.post(base, json={"tags": [{"name": "x"}, {"name": "x"}]})
    assert duplicate.status_code == 400


async def test_resource_type_associations(admin: Api) -> None:
    kinds = [
        k["name"] for k in (await admin.get("/v2/metadefs/resource_types")).json()["resource_types"]
    ]
    assert "OS::Glance::Image" in kinds and "OS::Nova::Flavor" in kinds
    ns = (await namespace(admin))["namespace"]
    base = f"{NS}/{ns}/resource_types"
    made = await admin.post(base, json={"name": "OS::Nova::Flavor", "prefix": "hw:"})
    assert made.status_code == 201 and made.json()["prefix"] == "hw:"
    assert (await admin.post(base, json={"name": "OS::Nova::Flavor"})).status_code == 409
    listed = (await admin.get(base)).json()["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Nova::Flavor"]
    filtered = (await admin.get(NS, params={"resource_types": "OS::Nova::Flavor"})).json()
    assert ns in {n["namespace"] for n in filtered["namespaces"]}
    assert (await admin.delete(f"{base}/OS::Nova::Flavor")).status_code == 204
    assert (await admin.delete(f"{base}/OS::Nova::Flavor")).status_code == 404
    assert (await admin.post(base, json={"prefix": "x"})).status_code == 400


async def test_namespace_pages(admin: Api) -> None:
    for _ in range(3):
        await namespace(admin)
    first = (await admin.get(NS, params={"limit": 2})).json()
    assert len(first["namespaces"]) == 2 and "next" in first
    second = (await admin.get(first["next"])).json()
    assert first["namespaces"][-1]["namespace"] not in {
        n["namespace"] for n in second["namespaces"]
    }
    assert (await admin.get(NS, params={"marker": "nothing"})).status_code == 400
    assert (await admin.get(NS, params={"sort_dir": "up"})).status_code == 400
