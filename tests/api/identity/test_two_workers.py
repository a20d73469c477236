"""Two identity services on one database behave as two worker processes do.

Each keeps its own caches (validated tokens, scopes, revocations); a change made
through one must be seen by the other on its very next request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from overcast.identity.app import make_identity_app
from overcast.identity.service import IdentityService
from tests.api.identity.conftest import BASE, Api, Cloud, grant, make_project, make_user


@pytest.fixture
async def second(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    other = IdentityService(cloud.service.settings, clock=cloud.clock)
    transport = httpx.ASGITransport(app=make_identity_app(other))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client
    await other.close()


async def validate(client: httpx.AsyncClient, admin: Api, token: str) -> int:
    headers = {"X-Auth-Token": admin.token or "", "X-Subject-Token": token}
    return (await client.get("/v3/auth/tokens", headers=headers)).status_code


async def test_token_revoked_in_one_worker_is_rejected_by_the_other(
    cloud: Cloud, admin: Api, second: httpx.AsyncClient
) -> None:
    demo = await cloud.login("demo", cloud.demo_password, project="demo")
    assert demo.token
    assert await validate(second, admin, demo.token) == 200
    assert await validate(second, admin, demo.token) == 200
    await demo.delete("/v3/auth/tokens", headers={"X-Subject-Token": demo.token})
    assert await validate(second, admin, demo.token) == 404
    caller = await second.get("/v3/auth/projects", headers={"X-Auth-Token": demo.token})
    assert caller.status_code == 401


async def test_password_change_in_one_worker_revokes_in_the_other(
    cloud: Cloud, admin: Api, second: httpx.AsyncClient
) -> None:
    user = await make_user(admin, password="pw-before")
    api = await cloud.login(user["name"], "pw-before")
    assert api.token
    assert await validate(second, admin, api.token) == 200
    cloud.clock.advance(1)
    body = {"user": {"original_password": "pw-before", "password": "pw-after"}}
    assert (
        await cloud.client.post(f"/v3/users/{user['id']}/password", json=body)
    ).status_code == 204
    assert await validate(second, admin, api.token) == 404


async def test_role_removed_in_one_worker_is_gone_in_the_other(
    cloud: Cloud, admin: Api, second: httpx.AsyncClient
) -> None:
    user = await make_user(admin, password="pw-role")
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    api = await cloud.login(user["name"], "pw-role", project=project["name"])
    assert api.token
    assert await validate(second, admin, api.token) == 200
    roles = (await admin.get(f"/v3/projects/{project['id']}/users/{user['id']}/roles")).json()
    await admin.delete(
        f"/v3/projects/{project['id']}/users/{user['id']}/roles/{roles['roles'][0]['id']}"
    )
    assert await validate(second, admin, api.token) == 404


async def test_renamed_project_shows_in_the_other_worker_at_once(
    cloud: Cloud, admin: Api, second: httpx.AsyncClient
) -> None:
    user = await make_user(admin, password="pw-rename")
    project = await make_project(admin)
    await grant(admin, project["id"], user["id"])
    api = await cloud.login(user["name"], "pw-rename", project=project["name"])
    assert api.token
    headers = {"X-Auth-Token": admin.token or "", "X-Subject-Token": api.token}
    first = (await second.get("/v3/auth/tokens", headers=headers)).json()["token"]
    assert first["project"]["name"] == project["name"]
    await admin.patch(
        f"/v3/projects/{project['id']}", json={"project": {"name": "renamed-" + project["name"]}}
    )
    again = (await second.get("/v3/auth/tokens", headers=headers)).json()["token"]
    assert again["project"]["name"] == "renamed-" + project["name"]
