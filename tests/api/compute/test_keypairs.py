"""Keypairs: imported and generated keys, per user, with Nova's versions of the API."""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.api.compute.conftest import latest
from tests.api.identity.conftest import Api


def public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " someone@example"


def name() -> str:
    return f"k-{uuid.uuid4().hex[:8]}"


async def test_import_list_show_delete(tenant: Api) -> None:
    key, kp = public_key(), name()
    response = await tenant.post(
        "/v2.1/os-keypairs", json={"keypair": {"name": kp, "public_key": key}}
    )
    assert response.status_code == 200
    created = response.json()["keypair"]
    assert created["public_key"] == key
    assert created["user_id"] == tenant.user_id
    assert len(created["fingerprint"].split(":")) == 16
    assert "private_key" not in created
    listed = (await tenant.get("/v2.1/os-keypairs")).json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == [kp]
    shown = (await tenant.get(f"/v2.1/os-keypairs/{kp}")).json()["keypair"]
    assert shown["fingerprint"] == created["fingerprint"]
    assert shown["deleted"] is False
    assert (await tenant.delete(f"/v2.1/os-keypairs/{kp}")).status_code == 202
    assert (await tenant.get(f"/v2.1/os-keypairs/{kp}")).status_code == 404


async def test_generated_keys_come_with_their_private_half(tenant: Api) -> None:
    response = await latest(tenant).post("/v2.1/os-keypairs", json={"keypair": {"name": name()}})
    assert response.status_code == 201
    created = response.json()["keypair"]
    assert created["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert created["public_key"].startswith("ssh-rsa ")
    assert created["type"] == "ssh"


async def test_x509_keypairs(tenant: Api) -> None:
    body = {"keypair": {"name": name(), "type": "x509"}}
    created = (await latest(tenant).post("/v2.1/os-keypairs", json=body)).json()["keypair"]
    assert created["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(created["fingerprint"].split(":")) == 20
    assert (await tenant.post("/v2.1/os-keypairs", json=body)).status_code == 400  # type needs 2.2


async def test_names_are_unique_per_user(tenant: Api, other: Api) -> None:
    kp = name()
    body = {"keypair": {"name": kp, "public_key": public_key()}}
    assert (await tenant.post("/v2.1/os-keypairs", json=body)).status_code == 200
    again = await tenant.post("/v2.1/os-keypairs", json=body)
    assert again.status_code == 409
    assert again.json()["conflictingRequest"]["message"] == f"Key pair '{kp}' already exists."
    assert (await other.post("/v2.1/os-keypairs", json=body)).status_code == 200


async def test_users_never_see_each_others_keys(tenant: Api, other: Api) -> None:
    kp = name()
    await tenant.post(
        "/v2.1/os-keypairs", json={"keypair": {"name": kp, "public_key": public_key()}}
    )
    assert (await other.get(f"/v2.1/os-keypairs/{kp}")).status_code == 404
    assert (await other.delete(f"/v2.1/os-keypairs/{kp}")).status_code == 404
    assert (await other.get("/v2.1/os-keypairs")).json()["keypairs"] == []
    snoop = await latest(other).get(f"/v2.1/os-keypairs?user_id={tenant.user_id}")
    assert snoop.status_code == 403


async def test_admins_manage_other_users_keys_from_210(admin: Api, tenant: Api) -> None:
    kp = name()
    body = {"keypair": {"name": kp, "public_key": public_key(), "user_id": tenant.user_id}}
    assert (await latest(admin).post("/v2.1/os-keypairs", json=body)).status_code == 201
    listed = (await latest(admin).get(f"/v2.1/os-keypairs?user_id={tenant.user_id}")).json()
    assert [k["keypair"]["name"] for k in listed["keypairs"]] == [kp]
    assert (await tenant.get(f"/v2.1/os-keypairs/{kp}")).status_code == 200
    deleted = await latest(admin).delete(f"/v2.1/os-keypairs/{kp}?user_id={tenant.user_id}")
    assert deleted.status_code == 204


async def test_pagination_from_235(tenant: Api) -> None:
    names = sorted(name() for _ in range(3))
    for kp in names:
        body = {"keypair": {"name": kp, "public_key": public_key()}}
        await tenant.post("/v2.1/os-keypairs", json=body)
    first = (await latest(tenant).get("/v2.1/os-keypairs?limit=2")).json()
    assert [k["keypair"]["name"] for k in first["keypairs"]] == names[:2]
    assert "keypairs_links" in first
    rest = (await latest(tenant).get(f"/v2.1/os-keypairs?marker={names[1]}")).json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == names[2:]
    assert (await latest(tenant).get("/v2.1/os-keypairs?marker=nope")).status_code == 400


async def test_bad_keypairs_are_400s(tenant: Api) -> None:
    for body in (
        {"keypair": {"name": ""}},
        {"keypair": {"name": "x" * 256}},
        {"keypair": {"name": "bad/name@"}},
        {"keypair": {"name": "k", "public_key": "ssh-rsa not-a-key"}},
        {"keypair": {"name": "k", "public_key": "nonsense"}},
        {"keypair": {"name": "k", "extra": 1}},
        {"keypair": {}},
        {"keys": {}},
    ):
        response = await tenant.post("/v2.1/os-keypairs", json=body)
        assert response.status_code == 400, body
