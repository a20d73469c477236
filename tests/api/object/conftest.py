"""Swift in process: identity tokens, a storage node with three devices behind the rings,
and the proxy; requests between them travel through :class:`Hosts`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from starlette.types import ASGIApp

from overcast.cmd.allinone import run_bootstrap
from overcast.cmd.services import Shared
from overcast.common.clients.inprocess import Address, InProcessTransport
from overcast.common.config import Settings
from overcast.identity.app import make_identity_app
from overcast.object import together
from overcast.object.bootstrap import load_rings, prepare
from overcast.object.daemons.common import NodeDaemon
from overcast.object.node.app import ServerApp, make_node_apps
from overcast.object.node.common import NodeConfig
from overcast.object.node.dbservers import ContainerServer
from overcast.object.proxy.app import make_object_app
from overcast.object.proxy.service import ObjectService
from overcast.object.sync import own_url
from tests.api.identity.conftest import TENANT_PASSWORD, Api, login_to, new_member
from tests.conftest import backend_settings


class Hosts(InProcessTransport):
    """Requests to ``host:port`` go to the app serving it in process; others cannot connect."""

    def __init__(self) -> None:
        self.apps: dict[Address, ASGIApp] = {}
        super().__init__(self.apps, _Unreachable())
        self.down: set[str] = set()
        """``host:port/device`` of devices that cannot be reached (as if their disk died)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        netloc = request.url.netloc.decode()
        device = request.url.path.split("/")[1] if request.url.path.count("/") > 1 else ""
        replicas = [(device, {}), *together.asked(request.headers.get(together.REPLICAS, "[]"))]
        if len(replicas) > 1 and any(f"{netloc}/{d}" in self.down for d, _ in replicas):
            return await self._one_by_one(request, replicas)
        if f"{netloc}/{device}" in self.down:
            raise httpx.ConnectError(f"{netloc}/{device} is down", request=request)
        return await super().handle_async_request(request)

    async def _one_by_one(
        self, request: httpx.Request, replicas: list[tuple[str, dict[str, str]]]
    ) -> httpx.Response:
        """A request for several replicas on a node that lost some of their devices: the
        node answers 507 for those, and for the others what each alone would get."""
        netloc = request.url.netloc.decode()
        body = await request.aread()
        headers = {k: v for k, v in request.headers.items() if k != together.REPLICAS.lower()}
        rest = request.url.raw_path.split(b"/", 2)[2]
        answers: list[tuple[int, dict[str, str]]] = []
        for device, own in replicas:
            if f"{netloc}/{device}" in self.down:
                answers.append((507, {}))
                continue
            url = request.url.copy_with(raw_path=b"/" + device.encode() + b"/" + rest)
            alone = httpx.Request(request.method, url, headers={**headers, **own}, content=body)
            response = await super().handle_async_request(alone)
            await response.aread()
            answers.append((response.status_code, dict(response.headers)))
        content, marked = together.answer(answers)
        return httpx.Response(200, headers=marked, content=content)


class _Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"nothing listens on {request.url.netloc!r}", request=request)


D = TypeVar("D", bound=NodeDaemon)
IDENTITY = "http://identity.test"
SYNC_REALM = "realm1"
SWIFT = "http://swift.test"


@dataclass
class Swift:
    identity: httpx.AsyncClient
    proxy: httpx.AsyncClient
    devices: Path
    settings: Settings
    peers: httpx.AsyncClient
    """Reaches the nodes and the proxy as the storage node's daemons do."""
    hosts: Hosts
    node_apps: dict[str, ServerApp]
    second_proxy: httpx.AsyncClient
    """Another proxy process of the host: its own caches, the same nodes and data dir."""

    async def tenant(self, role: str = "member") -> Api:
        """A new user with ``role`` on a new project, holding a token for the proxy."""
        boss = await login_to(self.identity, self.identity, "admin", "admin-secret", "admin")
        user, project = await new_member(boss, role)
        api = await login_to(self.identity, self.proxy, user, TENANT_PASSWORD, project)
        return api

    def anonymous(self) -> Api:
        return Api(self.proxy)

    async def reported(self) -> None:
        """Wait until the container servers have told the account servers what they hold."""
        container = self.node_apps["container"].server
        assert isinstance(container, ContainerServer)
        await container.reported()

    def daemon(self, kind: type[D]) -> D:
        """One of the storage node's daemons, reaching the nodes and the proxy in process."""
        return kind(self.settings, self.devices, load_rings(self.settings), self.peers)


@pytest.fixture(scope="module")
async def swift(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Swift]:
    data = tmp_path_factory.mktemp("swift")
    realms = {SYNC_REALM: {"key": "realm-secret", "clusters": {"local": ""}}}
    async with backend_settings(
        "sqlite",
        data,
        bootstrap={"admin_password": "admin-secret", "demo_password": "d"},
        object={"sync_realms": realms},
    ) as settings:
        await run_bootstrap(settings, ["identity"])
        layout = prepare(settings)
        hosts = Hosts()
        peers = httpx.AsyncClient(transport=hosts)
        node = NodeConfig(layout.devices, layout.hash_prefix, layout.hash_suffix)
        apps = make_node_apps(node, peers)
        conf = settings.object
        for kind, port in (("object", conf.object_port), ("container", conf.container_port),
                           ("account", conf.account_port)):  # fmt: skip
            hosts.apps[(conf.node_ip, port)] = apps[kind]
        shared = Shared(settings)
        service = ObjectService(settings, client=peers)
        proxy_app = make_object_app(service, shared.validator())
        identity_app = make_identity_app(shared.identity(), shared.tokens())
        identity_transport = httpx.ASGITransport(app=identity_app)
        proxy_transport = httpx.ASGITransport(app=proxy_app)
        second = ObjectService(settings, client=peers)
        second_transport = httpx.ASGITransport(app=make_object_app(second, shared.validator()))
        own = httpx.URL(own_url(settings))
        hosts.apps[(own.host, own.port or 80)] = proxy_app  # container sync's peer
        async with (
            httpx.AsyncClient(transport=identity_transport, base_url=IDENTITY) as identity,
            httpx.AsyncClient(transport=proxy_transport, base_url=SWIFT) as proxy,
            httpx.AsyncClient(transport=second_transport, base_url=SWIFT) as second_proxy,
        ):
            yield Swift(identity, proxy, layout.devices, settings, peers, hosts, apps, second_proxy)
        second.info_cache.close()
        await service.close()
        await shared.close()


@pytest.fixture
async def me(swift: Swift) -> Api:
    return await swift.tenant()


def account(api: Api) -> str:
    return f"/v1/AUTH_{api.project_id}"
