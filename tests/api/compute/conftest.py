"""The compute API in process, beside identity and image, per deployment shape (ASGI).

The suite runs twice: embedded (SQLite, the in-process bus) and scaled out
(PostgreSQL, RabbitMQ under a namespace of its own). Tokens come from the
identity API and are validated in process by the compute API, as in the
all-in-one cloud. Each test works in projects of its own (``tenant``), so tests
never see each other's servers or keypairs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest

from overcast.cmd.allinone import run_bootstrap
from overcast.cmd.services import Shared
from overcast.common.bus import connect
from overcast.common.clients import ImageClient
from overcast.common.clock import ShiftedClock
from overcast.compute import messages as m
from overcast.compute.app import make_compute_app
from overcast.compute.engine import start_agent, start_control
from overcast.compute.service import ComputeService
from overcast.identity.app import make_identity_app
from overcast.image.app import make_image_app
from overcast.image.service import ImageService
from overcast.scheduler.messages import TOPIC as SCHEDULER
from tests.api.identity.conftest import TENANT_PASSWORD, Api, login_to, new_member
from tests.conftest import backend_settings, bus_settings, drop_namespace

SHAPES = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.rabbitmq])]
"""``sqlite`` runs on the in-process bus, ``postgresql`` on RabbitMQ."""

IDENTITY = "http://identity.test"
IMAGE = "http://image.test"
COMPUTE = "http://compute.test"
LATEST = {"OpenStack-API-Version": "compute 2.79"}


@dataclass
class ComputeCloud:
    compute: ComputeService
    identity: httpx.AsyncClient
    client: httpx.AsyncClient
    clock: ShiftedClock
    backend: str
    image_id: str
    """An active public image anyone may boot."""
    image_http: httpx.AsyncClient
    """The image API in process, for tests that look at what the compute API stored there."""

    def on_images(self, api: Api) -> Api:
        """The same caller, talking to the image API."""
        return replace(api, client=self.image_http)

    async def login(self, user: str, password: str, project: str) -> Api:
        return await login_to(self.identity, self.client, user, password, project)

    def anonymous(self) -> Api:
        return Api(self.client)


@pytest.fixture(scope="session", params=SHAPES)
async def compute_cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ComputeCloud]:
    backend: str = request.param
    bus_conf = bus_settings("local" if backend == "sqlite" else "amqp", call_timeout=10)
    async with backend_settings(
        backend,
        tmp_path_factory.mktemp(f"compute-{backend}"),
        bootstrap={"admin_password": "admin-secret", "demo_password": "demo-secret"},
        image={"require_format_match": False},
        compute={"host": f"api-{backend}", "report_interval": 1, "service_down_time": 5},
        bus=bus_conf.model_dump(),
    ) as settings:
        await run_bootstrap(settings, ["identity", "image", "compute"])
        clock = ShiftedClock()
        shared = Shared(settings)
        images = ImageService(settings)
        image_app = make_image_app(images, shared.validator(), identity_url=f"{IDENTITY}/v3")
        bus = await connect(settings.bus)
        service = ComputeService(
            settings,
            bus=bus,
            clock=clock,
            image_client=ImageClient(IMAGE, transport=httpx.ASGITransport(app=image_app)),
        )
        control = await start_control(service, name=f"scheduler-{backend}")
        agent_images = ImageClient(IMAGE, transport=httpx.ASGITransport(app=image_app))
        agent = await start_agent(settings, bus, images=agent_images)
        identity_app = make_identity_app(shared.identity(), shared.tokens())
        compute_app = make_compute_app(service, shared.validator(), identity_url=f"{IDENTITY}/v3")
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=identity_app), base_url=IDENTITY
            ) as identity,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=compute_app), base_url=COMPUTE
            ) as client,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=image_app), base_url=IMAGE
            ) as image_http,
        ):
            cloud = ComputeCloud(service, identity, client, clock, backend, "", image_http)
            admin = await cloud.login("admin", "admin-secret", "admin")
            cloud.image_id = await upload_image(cloud.on_images(admin))
            yield cloud
        await agent.stop()
        await control.stop()
        await service.close()
        await images.close()
        await bus.close()
        await shared.close()
    if bus_conf.driver == "amqp":
        servers = (f"api-{backend}", f"scheduler-{backend}")
        await drop_namespace(bus_conf.namespace, (m.CONDUCTOR, m.COMPUTE, SCHEDULER), servers)


async def upload_image(api: Api, **fields: object) -> str:
    body = {
        "name": "cirros",
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": "public",
        **fields,
    }
    response = await api.post("/v2/images", json=body)
    assert response.status_code == 201, response.text
    image_id: str = response.json()["id"]
    upload = await api.put(
        f"/v2/images/{image_id}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 204, upload.text
    return image_id


async def new_tenant(cloud: ComputeCloud, role: str = "member") -> Api:
    """A user with ``role`` on a project of its own, logged in to that project."""
    boss = await cloud.login("admin", "admin-secret", "admin")
    user, project = await new_member(replace(boss, client=cloud.identity), role)
    return await cloud.login(user, TENANT_PASSWORD, project)


def latest(api: Api) -> Api:
    """The same caller, asking for the highest microversion."""
    return replace(api, headers={**api.headers, **LATEST})


@pytest.fixture
async def admin(compute_cloud: ComputeCloud) -> Api:
    return await compute_cloud.login("admin", "admin-secret", "admin")


@pytest.fixture
async def tenant(compute_cloud: ComputeCloud) -> Api:
    return await new_tenant(compute_cloud)


@pytest.fixture
async def other(compute_cloud: ComputeCloud) -> Api:
    return await new_tenant(compute_cloud)


@pytest.fixture
async def reader(compute_cloud: ComputeCloud) -> Api:
    return await new_tenant(compute_cloud, "reader")
