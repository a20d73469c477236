"""Credentials (incl. OS-EC2), application credentials and access rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from overcast.identity import models
from tests.api.identity.conftest import Api, Cloud, make_user, unique


async def test_credential_crud_and_encryption(cloud: Cloud, admin: Api) -> None:
    blob = json.dumps({"access": unique("ak"), "secret": "s3cr3t-value"})
    body = {
        "credential": {
            "user_id": admin.user_id,
            "project_id": admin.project_id,
            "type": "ec2",
            "blob": blob,
        }
    }
    cred = (await admin.post("/v3/credentials", json=body)).json()["credential"]
    assert cred["blob"] == blob and len(cred["id"]) == 64
    async with cloud.service.db.read() as session:
        stored = await session.scalar(
            select(models.Credential.encrypted_blob).where(models.Credential.id == cred["id"])
        )
    assert stored and "s3cr3t-value" not in stored
    new_blob = json.dumps({"access": unique("ak2"), "secret": "other"})
    updated = await admin.patch(
        f"/v3/credentials/{cred['id']}", json={"credential": {"blob": new_blob}}
    )
    assert updated.json()["credential"]["blob"] == new_blob
    listed = (await admin.get("/v3/credentials", params={"user_id": admin.user_id})).json()[
        "credentials"
    ]
    assert cred["id"] in [c["id"] for c in listed]
    assert (await admin.delete(f"/v3/credentials/{cred['id']}")).status_code == 204
    assert (await admin.get(f"/v3/credentials/{cred['id']}")).status_code == 404


async def test_credential_bad_input_and_policy(admin: Api, demo: Api) -> None:
    no_project = {
        "credential": {"user_id": admin.user_id, "type": "ec2", "blob": '{"access": "a"}'}
    }
    assert (await admin.post("/v3/credentials", json=no_project)).status_code == 400
    not_json = {
        "credential": {
            "user_id": admin.user_id,
            "project_id": admin.project_id,
            "type": "ec2",
            "blob": "{",
        }
    }
    assert (await admin.post("/v3/credentials", json=not_json)).status_code == 400
    other = {"credential": {"user_id": admin.user_id, "type": "cert", "blob": "x"}}
    assert (await demo.post("/v3/credentials", json=other)).status_code == 403
    mine = {"credential": {"user_id": demo.user_id, "type": "cert", "blob": "x"}}
    created = await demo.post("/v3/credentials", json=mine)
    assert created.status_code == 201
    visible = (await demo.get("/v3/credentials")).json()["credentials"]
    assert {c["user_id"] for c in visible} == {demo.user_id}


async def test_ec2_credentials(demo: Api, admin: Api) -> None:
    base = f"/v3/users/{demo.user_id}/credentials/OS-EC2"
    created = (await demo.post(base, json={"tenant_id": demo.project_id})).json()["credential"]
    assert created["tenant_id"] == demo.project_id and created["secret"]
    shown = (await demo.get(f"{base}/{created['access']}")).json()["credential"]
    assert shown == created
    assert created["access"] in [c["access"] for c in (await demo.get(base)).json()["credentials"]]
    assert (
        await demo.post(
            f"/v3/users/{admin.user_id}/credentials/OS-EC2", json={"tenant_id": demo.project_id}
        )
    ).status_code == 403
    assert (await demo.post(base, json={})).status_code == 400
    assert (await demo.delete(f"{base}/{created['access']}")).status_code == 204
    assert (await demo.get(f"{base}/{created['access']}")).status_code == 404


async def test_application_credential_lifecycle(cloud: Cloud, demo: Api) -> None:
    base = f"/v3/users/{demo.user_id}/application_credentials"
    expires = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None, microsecond=123456)
    rules = [{"path": "/v2.1/servers/*/ips", "method": "GET", "service": "compute"}]
    body = {
        "application_credential": {
            "name": unique("ac"),
            "expires_at": expires.isoformat(),
            "access_rules": rules,
        }
    }
    created = (await demo.post(base, json=body)).json()["application_credential"]
    assert created["expires_at"] == expires.isoformat() and created["secret"]
    assert {r["name"] for r in created["roles"]} >= {"member", "reader"}
    shown = (await demo.get(f"{base}/{created['id']}")).json()["application_credential"]
    assert "secret" not in shown
    auth = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": created["id"], "secret": created["secret"]},
            }
        }
    }
    token = await cloud.client.post("/v3/auth/tokens", json=auth)
    assert token.status_code == 201
    assert token.json()["token"]["project"]["id"] == demo.project_id
    assert (
        token.json()["token"]["application_credential"]["access_rules"][0]["service"] == "compute"
    )
    wrong = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": created["id"], "secret": "nope"},
            }
        }
    }
    assert (await cloud.client.post("/v3/auth/tokens", json=wrong)).status_code == 401
    rule_id = created["access_rules"][0]["id"]
    assert (
        await demo.delete(f"/v3/users/{demo.user_id}/access_rules/{rule_id}")
    ).status_code == 403
    assert (await demo.delete(f"{base}/{created['id']}")).status_code == 204
    assert (await cloud.client.post("/v3/auth/tokens", json=auth)).status_code == 401
    assert (await demo.get(f"/v3/users/{demo.user_id}/access_rules/{rule_id}")).status_code == 200
    assert (
        await demo.delete(f"/v3/users/{demo.user_id}/access_rules/{rule_id}")
    ).status_code == 204


async def test_application_credential_errors(demo: Api, admin: Api) -> None:
    base = f"/v3/users/{demo.user_id}/application_credentials"
    name = unique("ac")
    assert (
        await demo.post(base, json={"application_credential": {"name": name}})
    ).status_code == 201
    assert (
        await demo.post(base, json={"application_credential": {"name": name}})
    ).status_code == 409
    past = {"application_credential": {"name": unique("ac"), "expires_at": "2000-01-01T00:00:00"}}
    assert (await demo.post(base, json=past)).status_code == 400
    admin_role = {"application_credential": {"name": unique("ac"), "roles": [{"name": "admin"}]}}
    assert (await demo.post(base, json=admin_role)).status_code == 400
    other = f"/v3/users/{admin.user_id}/application_credentials"
    assert (
        await demo.post(other, json={"application_credential": {"name": unique("ac")}})
    ).status_code == 403
    assert (await demo.get(other)).status_code == 403
    listed = (await demo.get(base, params={"name": name})).json()["application_credentials"]
    assert [a["name"] for a in listed] == [name]


async def test_trusts(cloud: Cloud, admin: Api, demo: Api) -> None:
    trustee = await make_user(admin, password="pw-trustee")
    body = {
        "trust": {
            "trustor_user_id": admin.user_id,
            "trustee_user_id": trustee["id"],
            "project_id": admin.project_id,
            "impersonation": True,
            "roles": [{"name": "member"}],
            "expires_at": "2099-01-01T00:00:00Z",
        }
    }
    trust = (await admin.post("/v3/OS-TRUST/trusts", json=body)).json()["trust"]
    assert trust["roles"][0]["name"] == "member"
    assert trust["expires_at"] == "2099-01-01T00:00:00.000000Z"
    trustee_api = await cloud.login(trustee["name"], "pw-trustee")
    scoped = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": trustee_api.token}},
            "scope": {"OS-TRUST:trust": {"id": trust["id"]}},
        }
    }
    token = (await cloud.client.post("/v3/auth/tokens", json=scoped)).json()["token"]
    assert token["user"]["id"] == admin.user_id
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    assert token["OS-TRUST:trust"]["trustee_user"]["id"] == trustee["id"]
    roles = (await admin.get(f"/v3/OS-TRUST/trusts/{trust['id']}/roles")).json()["roles"]
    assert [r["name"] for r in roles] == ["member"]
    listed = (
        await admin.get("/v3/OS-TRUST/trusts", params={"trustor_user_id": admin.user_id})
    ).json()["trusts"]
    assert trust["id"] in [t["id"] for t in listed]
    assert (await trustee_api.get(f"/v3/OS-TRUST/trusts/{trust['id']}")).status_code == 200
    assert (await demo.get(f"/v3/OS-TRUST/trusts/{trust['id']}")).status_code == 403
    assert (await admin.delete(f"/v3/OS-TRUST/trusts/{trust['id']}")).status_code == 204
    assert (await admin.get(f"/v3/OS-TRUST/trusts/{trust['id']}")).status_code == 404


async def test_trust_bad_input(admin: Api, demo: Api) -> None:
    base = {
        "trustor_user_id": admin.user_id,
        "trustee_user_id": demo.user_id,
        "impersonation": False,
    }
    assert (
        await admin.post("/v3/OS-TRUST/trusts", json={"trust": {**base, "expires_at": "bad.123Z"}})
    ).status_code == 400
    assert (
        await admin.post("/v3/OS-TRUST/trusts", json={"trust": {**base, "impersonation": "no"}})
    ).status_code == 400
    not_mine = {**base, "trustor_user_id": demo.user_id}
    assert (await admin.post("/v3/OS-TRUST/trusts", json={"trust": not_mine})).status_code == 403
    unheld = {**base, "project_id": admin.project_id, "roles": [{"name": "no-such-role"}]}
    assert (await admin.post("/v3/OS-TRUST/trusts", json={"trust": unheld})).status_code == 404
