"""An in-process identity service per database backend, driven over HTTP (ASGI, no sockets).

Every API test runs twice: on the embedded SQLite database and on PostgreSQL.
The cloud is bootstrapped once per backend; tests create what they need under
unique names, so they never depend on each other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from overcast.cmd.allinone import run_bootstrap
from overcast.common.clock import ShiftedClock
from overcast.identity.app import make_identity_app
from overcast.identity.service import IdentityService
from tests.conftest import BACKENDS, backend_settings
from tests.functional.cloud import password_auth

BASE = "http://identity.test"
COMPLIANCE = {
    "lockout_failure_attempts": 2,
    "lockout_duration": 5,
    "unique_last_password_count": 2,
    "minimum_password_age": 0,
}


@dataclass
class Api:
    """An HTTP client holding one caller's token."""

    client: httpx.AsyncClient
    token: str | None = None
    user_id: str = ""
    project_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(self.headers)
        if self.token:
            headers["X-Auth-Token"] = self.token
        headers.update(extra or {})
        return headers

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self._headers(kwargs.pop("headers", None))
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("HEAD", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


@dataclass
class Cloud:
    service: IdentityService
    client: httpx.AsyncClient
    clock: ShiftedClock
    admin_password: str
    demo_password: str
    backend: str

    def anonymous(self) -> Api:
        return Api(self.client)

    async def login(
        self, user: str, password: str, project: str | None = None, domain: str = "default"
    ) -> Api:
        """Authenticate by name (project-scoped when ``project`` is given)."""
        body: dict[str, Any] = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"id": domain}, "password": password}
                    },
                }
            }
        }
        if project:
            body["auth"]["scope"] = {"project": {"name": project, "domain": {"id": domain}}}
        response = await self.client.post("/v3/auth/tokens", json=body)
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        return Api(
            self.client,
            response.headers["X-Subject-Token"],
            user_id=token["user"]["id"],
            project_id=token.get("project", {}).get("id", ""),
        )


@pytest.fixture(scope="session", params=BACKENDS)
async def cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cloud]:
    backend: str = request.param
    async with backend_settings(
        backend,
        tmp_path_factory.mktemp(f"identity-{backend}"),
        identity={"security_compliance": COMPLIANCE},
        bootstrap={"admin_password": "admin-secret", "demo_password": "demo-secret"},
    ) as settings:
        await run_bootstrap(settings, ["identity"])
        clock = ShiftedClock()
        service = IdentityService(settings, clock=clock)
        transport = httpx.ASGITransport(app=make_identity_app(service))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Cloud(service, client, clock, "admin-secret", "demo-secret", backend)
        await service.close()


@pytest.fixture
async def admin(cloud: Cloud) -> Api:
    return await cloud.login("admin", cloud.admin_password, project="admin")


@pytest.fixture
async def demo(cloud: Cloud) -> Api:
    return await cloud.login("demo", cloud.demo_password, project="demo")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create(admin: Api, collection: str, **fields: Any) -> dict[str, Any]:
    """POST a new ``collection`` member (with a unique name unless given) and return it."""
    key = collection.removesuffix("s")
    response = await admin.post(f"/v3/{collection}", json={key: {"name": unique(key), **fields}})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()[key]
    return created


async def make_user(admin: Api, password: str = "pass-word-1", **fields: Any) -> dict[str, Any]:
    return await create(admin, "users", password=password, **fields)


async def make_project(admin: Api, **fields: Any) -> dict[str, Any]:
    return await create(admin, "projects", **fields)


async def role_id(admin: Api, name: str) -> str:
    response = await admin.get("/v3/roles", params={"name": name})
    roles = response.json()["roles"]
    assert roles, f"no role {name}"
    found: str = roles[0]["id"]
    return found


async def login_to(
    identity: httpx.AsyncClient, client: httpx.AsyncClient, user: str, password: str, project: str
) -> Api:
    """A project-scoped token from ``identity``, held by a caller of another API's ``client``."""
    response = await identity.post("/v3/auth/tokens", json=password_auth(user, password, project))
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    return Api(
        client,
        response.headers["X-Subject-Token"],
        user_id=token["user"]["id"],
        project_id=token["project"]["id"],
    )


TENANT_PASSWORD = "pass-word-1"


async def new_member(boss: Api, role: str = "member") -> tuple[str, str]:
    """A new user with ``role`` on a new project (``boss`` is an identity admin): their names.

    The user's password is :data:`TENANT_PASSWORD`.
    """
    project = await make_project(boss)
    user = await make_user(boss, password=TENANT_PASSWORD)
    await grant(boss, project["id"], user["id"], role)
    return user["name"], project["name"]


async def grant(admin: Api, project_id: str, user_id: str, role: str = "member") -> None:
    rid = await role_id(admin, role)
    response = await admin.put(f"/v3/projects/{project_id}/users/{user_id}/roles/{rid}")
    assert response.status_code == 204, response.text
