"""Changing passwords, and Keystone's security-compliance rules (history, lockout)."""

from __future__ import annotations

from typing import Any

from tests.api.identity.conftest import Api, Cloud, make_user


def auth_body(user_id: str, password: str) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user_id, "password": password}},
            }
        }
    }


async def login(cloud: Cloud, user_id: str, password: str) -> int:
    response = await cloud.client.post("/v3/auth/tokens", json=auth_body(user_id, password))
    return response.status_code


async def change(cloud: Cloud, user_id: str, old: str, new: str) -> int:
    body = {"user": {"original_password": old, "password": new}}
    response = await cloud.client.post(f"/v3/users/{user_id}/password", json=body)
    return response.status_code


async def test_user_changes_own_password_and_old_tokens_die(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="first-pw")
    old_token = (
        await cloud.client.post("/v3/auth/tokens", json=auth_body(user["id"], "first-pw"))
    ).headers["X-Subject-Token"]
    cloud.clock.advance(1)
    assert await change(cloud, user["id"], "first-pw", "second-pw") == 204
    cloud.clock.advance(1)
    assert await login(cloud, user["id"], "second-pw") == 201
    assert await login(cloud, user["id"], "first-pw") == 401
    check = await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": old_token})
    assert check.status_code == 404


async def test_wrong_original_password_is_401(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="right-pw")
    assert await change(cloud, user["id"], "wrong-pw", "new-pw") == 401


async def test_recent_passwords_cannot_be_reused_by_the_user(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-a")
    assert await change(cloud, user["id"], "pw-a", "pw-b") == 204
    assert await change(cloud, user["id"], "pw-b", "pw-b") == 400
    assert await change(cloud, user["id"], "pw-b", "pw-a") == 400
    assert await change(cloud, user["id"], "pw-b", "pw-c") == 204
    assert await login(cloud, user["id"], "pw-c") == 201


async def test_admin_reset_ignores_history(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="pw-x")
    for password in ("pw-y", "pw-y", "pw-x"):
        response = await admin.patch(
            f"/v3/users/{user['id']}", json={"user": {"password": password}}
        )
        assert response.status_code == 200
    assert await login(cloud, user["id"], "pw-x") == 201


async def test_lockout_after_failed_attempts_then_unlock(cloud: Cloud, admin: Api) -> None:
    user = await make_user(admin, password="good-pw")
    assert await login(cloud, user["id"], "good-pw") == 201
    for _ in range(2):
        assert await login(cloud, user["id"], "bad-pw") == 401
    assert await login(cloud, user["id"], "good-pw") == 401
    cloud.clock.advance(6)
    assert await login(cloud, user["id"], "good-pw") == 201


async def test_passwords_are_hashed_not_stored(cloud: Cloud, admin: Api) -> None:
    from sqlalchemy import select

    from overcast.identity import models

    user = await make_user(admin, password="visible-pw")
    async with cloud.service.db.read() as session:
        hashes = list(
            await session.scalars(
                select(models.Password.hash).where(models.Password.user_id == user["id"])
            )
        )
    assert hashes and all("visible-pw" not in h and h.startswith("$2") for h in hashes)
