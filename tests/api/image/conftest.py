"""In-process identity and image services per database backend, driven over HTTP (ASGI).

Tokens come from the identity API; image requests go to the image API, which
validates them in process, exactly as in the all-in-one cloud. Each test works
in projects of its own (``tenant``), so tests never see each other's images.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from overcast.cmd.allinone import run_bootstrap
from overcast.cmd.services import Shared
from overcast.common.clock import ShiftedClock
from overcast.identity.app import LocalValidator, make_identity_app
from overcast.image.app import make_image_app
from overcast.image.service import ImageService
from tests.api.identity.conftest import TENANT_PASSWORD, Api, login_to, new_member
from tests.conftest import BACKENDS, backend_settings

IDENTITY = "http://identity.test"
IMAGE = "http://image.test"
PATCH = "application/openstack-images-v2.1-json-patch"
PATCH_V20 = "application/openstack-images-v2.0-json-patch"
OCTETS = {"Content-Type": "application/octet-stream"}


@dataclass
class ImageCloud:
    image: ImageService
    identity: httpx.AsyncClient
    client: httpx.AsyncClient
    clock: ShiftedClock
    admin_password: str
    backend: str
    image_validator: LocalValidator

    async def login(self, user: str, password: str, project: str) -> Api:
        return await login_to(self.identity, self.client, user, password, project)

    def anonymous(self) -> Api:
        return Api(self.client)


@pytest.fixture(scope="session", params=BACKENDS)
async def image_cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ImageCloud]:
    backend: str = request.param
    async with backend_settings(
        backend,
        tmp_path_factory.mktemp(f"image-{backend}"),
        image={"quota": {"image_size_total": 64}, "chunk_size": 65536},
        bootstrap={"admin_password": "admin-secret", "demo_password": "demo-secret"},
    ) as settings:
        await run_bootstrap(settings, ["identity", "image"])
        clock = ShiftedClock()
        shared = Shared(settings)
        service = ImageService(settings, clock=clock)
        identity_app = make_identity_app(shared.identity(), shared.tokens())
        image_app = make_image_app(service, shared.validator(), identity_url=f"{IDENTITY}/v3")
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=identity_app), base_url=IDENTITY
            ) as identity,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=image_app), base_url=IMAGE
            ) as client,
        ):
            yield ImageCloud(
                service, identity, client, clock, "admin-secret", backend, shared.validator()
            )
        await service.close()
        await shared.close()


@pytest.fixture
async def admin(image_cloud: ImageCloud) -> Api:
    return await image_cloud.login("admin", image_cloud.admin_password, "admin")


async def _identity_admin(cloud: ImageCloud) -> Api:
    api = await cloud.login("admin", cloud.admin_password, "admin")
    return Api(cloud.identity, api.token, api.user_id, api.project_id)


async def new_tenant(cloud: ImageCloud, role: str = "member") -> Api:
    """A user with ``role`` on a project of its own, logged in to that project."""
    user, project = await new_member(await _identity_admin(cloud), role)
    return await cloud.login(user, TENANT_PASSWORD, project)


@pytest.fixture
async def owner(image_cloud: ImageCloud) -> Api:
    """A member of a fresh project: owns the images a test creates."""
    return await new_tenant(image_cloud)


@pytest.fixture
async def other(image_cloud: ImageCloud) -> Api:
    """A member of another fresh project."""
    return await new_tenant(image_cloud)


@pytest.fixture
async def reader(image_cloud: ImageCloud) -> Api:
    """A reader (not member) of a fresh project."""
    return await new_tenant(image_cloud, role="reader")


def unique(prefix: str = "img") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def make_image(api: Api, **fields: Any) -> dict[str, Any]:
    """Create a queued image (raw/bare unless told otherwise) and return it."""
    body = {"name": unique(), "disk_format": "raw", "container_format": "bare", **fields}
    response = await api.post("/v2/images", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def upload(api: Api, image_id: str, data: bytes) -> httpx.Response:
    return await api.put(f"/v2/images/{image_id}/file", content=data, headers=OCTETS)


async def active_image(api: Api, data: bytes = b"x" * 4096, **fields: Any) -> dict[str, Any]:
    image = await make_image(api, **fields)
    response = await upload(api, image["id"], data)
    assert response.status_code == 204, response.text
    shown = await api.get(f"/v2/images/{image['id']}")
    found: dict[str, Any] = shown.json()
    return found


async def patch(
    api: Api, image_id: str, ops: list[dict[str, Any]], media: str = PATCH
) -> httpx.Response:
    return await api.patch(f"/v2/images/{image_id}", json=ops, headers={"Content-Type": media})
