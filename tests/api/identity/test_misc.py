"""Legacy policies, OAuth consumers and domain-specific configuration."""

from __future__ import annotations

from tests.api.identity.conftest import Api, unique


async def test_policies(admin: Api, demo: Api) -> None:
    policy = (
        await admin.post(
            "/v3/policies", json={"policy": {"type": "application/json", "blob": "{}"}}
        )
    ).json()["policy"]
    updated = await admin.patch(
        f"/v3/policies/{policy['id']}", json={"policy": {"type": "text/plain"}}
    )
    assert updated.json()["policy"]["type"] == "text/plain"
    assert policy["id"] in [p["id"] for p in (await admin.get("/v3/policies")).json()["policies"]]
    assert (await demo.get("/v3/policies")).status_code == 403
    assert (await admin.post("/v3/policies", json={"policy": {"type": "x"}})).status_code == 400
    assert (await admin.delete(f"/v3/policies/{policy['id']}")).status_code == 204
    assert (await admin.get(f"/v3/policies/{policy['id']}")).status_code == 404


async def test_oauth_consumers(admin: Api, demo: Api) -> None:
    consumer = (
        await admin.post("/v3/OS-OAUTH1/consumers", json={"consumer": {"description": "c"}})
    ).json()["consumer"]
    assert consumer["secret"]
    shown = (await admin.get(f"/v3/OS-OAUTH1/consumers/{consumer['id']}")).json()["consumer"]
    assert "secret" not in shown and shown["description"] == "c"
    await admin.patch(
        f"/v3/OS-OAUTH1/consumers/{consumer['id']}", json={"consumer": {"description": "d"}}
    )
    assert (await admin.get(f"/v3/OS-OAUTH1/consumers/{consumer['id']}")).json()["consumer"][
        "description"
    ] == "d"
    assert (await demo.post("/v3/OS-OAUTH1/consumers", json={"consumer": {}})).status_code == 403
    assert (await admin.delete(f"/v3/OS-OAUTH1/consumers/{consumer['id']}")).status_code == 204
    assert (await admin.get(f"/v3/OS-OAUTH1/consumers/{consumer['id']}")).status_code == 404


async def test_domain_config(admin: Api, demo: Api) -> None:
    domain = (await admin.post("/v3/domains", json={"domain": {"name": unique("cfg")}})).json()[
        "domain"
    ]
    base = f"/v3/domains/{domain['id']}/config"
    config = {
        "identity": {"driver": "ldap"},
        "ldap": {"url": "ldap://x", "user_tree_dn": "ou=Users"},
    }
    created = await admin.put(base, json={"config": config})
    assert created.status_code == 201 and created.json()["config"] == config
    assert (await admin.get(f"{base}/ldap/url")).json()["config"] == {"url": "ldap://x"}
    patched = await admin.patch(
        f"{base}/identity", json={"config": {"identity": {"driver": "sql", "list_limit": 5}}}
    )
    assert patched.json()["config"]["identity"] == {"driver": "sql", "list_limit": 5}
    assert (
        await admin.patch(f"{base}/identity/driver", json={"config": {"driver": "ldap"}})
    ).status_code == 200
    assert (await admin.delete(f"{base}/identity/driver")).status_code == 204
    assert (await admin.get(f"{base}/identity/driver")).status_code == 404
    assert (await admin.put(base, json={"config": {"colours": {"x": 1}}})).status_code == 403
    assert (
        await admin.put(base, json={"config": {"ldap": {"no_such_option": 1}}})
    ).status_code == 403
    assert (await demo.get(base)).status_code == 403
    assert (await admin.delete(base)).status_code == 204
    assert (await admin.get(base)).status_code == 404
    defaults = (await admin.get("/v3/domains/config/default")).json()["config"]
    assert set(defaults) == {"identity", "ldap"}
    for option in defaults["ldap"]:
        assert (await admin.get(f"/v3/domains/config/ldap/{option}/default")).status_code == 200
