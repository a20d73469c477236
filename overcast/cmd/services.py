"""The services this build of Overcast can run, and how to build each one's app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from starlette.types import ASGIApp

from overcast.common.bus import Bus, LocalBus, connect
from overcast.common.bus.relay import Hub, Relay, RelayBus
from overcast.common.clients import ImageClient
from overcast.common.clients.inprocess import Address, InProcessTransport, InternalClient
from overcast.common.config import Settings
from overcast.compute.app import make_compute_app
from overcast.compute.engine import start_agent, start_control
from overcast.compute.service import ComputeService
from overcast.identity.app import LocalValidator, make_identity_app
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import TokenProvider
from overcast.image.app import make_image_app
from overcast.image.data import release_stale_uploads
from overcast.image.service import ImageService
from overcast.object.bootstrap import layout
from overcast.object.daemons import start_daemons
from overcast.object.node.app import ServerApp, make_node_apps
from overcast.object.node.common import NodeConfig
from overcast.object.proxy.app import make_object_app
from overcast.object.proxy.service import ObjectService


class Shared:
    """What the services of one worker process share: one identity service validating tokens.

    Every API validates ``X-Auth-Token`` in process, against the identity database
    and token keys (shared storage when hosts are many), so a revocation is seen
    by every API at once.
    """

    def __init__(self, settings: Settings, relay: Relay | None = None) -> None:
        self.settings = settings
        self.relay = relay
        """With several workers on the in-process bus: how they reach the first one's bus."""
        self._hub: Hub | None = None
        self._identity: IdentityService | None = None
        self._tokens: TokenProvider | None = None
        self._bus: Bus | None = None
        self._compute: ComputeService | None = None
        self.image_app: ASGIApp | None = None
        """The image API when this process serves it: compute then reaches it in process."""
        self._node_apps: dict[str, ServerApp] | None = None
        self._node_client: httpx.AsyncClient | None = None
        self._local_nodes: dict[Address, ASGIApp] = {}
        """The storage node servers this process serves, by the address the rings give them."""

    def identity(self) -> IdentityService:
        if self._identity is None:
            self._identity = IdentityService(self.settings)
        return self._identity

    def tokens(self) -> TokenProvider:
        if self._tokens is None:
            self._tokens = TokenProvider(self.identity())
        return self._tokens

    def validator(self) -> LocalValidator:
        return LocalValidator(self.tokens())

    async def bus(self) -> Bus:
        """This process's bus, connected on first use.

        Of several workers on the in-process bus, the first one holds the bus (and
        serves the others through the relay); the others send to it.
        """
        if self._bus is None:
            conf = self.settings.bus
            if self.relay is not None and not self.relay.is_hub:
                self._bus = RelayBus(self.relay.address, call_timeout=conf.call_timeout)
            else:
                self._bus = await connect(conf)
            if self.relay is not None and self.relay.sock is not None:
                assert isinstance(self._bus, LocalBus)
                self._hub = Hub(self._bus)
                await self._hub.start(self.relay.sock)
        return self._bus

    def image_client(self) -> ImageClient:
        """A client of the image API: in process (ASGI) when this process serves it, else HTTP.

        Either way requests carry the caller's token through the image API's own
        middleware and policy; in process they only skip the socket.
        """
        url = self.settings.service_url(self.settings.image.port)
        if self.image_app is None:
            return ImageClient(url)
        return ImageClient(url, transport=httpx.ASGITransport(app=self.image_app))

    async def compute(self) -> ComputeService:
        """The compute service the API and the conductor of this process share."""
        if self._compute is None:
            self._compute = ComputeService(
                self.settings, bus=await self.bus(), image_client=self.image_client()
            )
        return self._compute

    def node_client(self) -> httpx.AsyncClient:
        """The client the proxy and the storage node servers reach storage nodes with.

        Requests for a server this process serves go to its app in process; the
        rest over the network.
        """
        if self._node_client is None:
            network = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=256))
            transport = InProcessTransport(self._local_nodes, network)
            self._node_client = InternalClient(transport=transport)
        return self._node_client

    def node_apps(self) -> dict[str, ServerApp]:
        """This process's storage node: its object, container and account servers."""
        if self._node_apps is None:
            where = layout(self.settings)
            config = NodeConfig(where.devices, where.hash_prefix, where.hash_suffix)
            self._node_apps = make_node_apps(config, self.node_client())
        return self._node_apps

    def serve_node(self, kind: str) -> ServerApp:
        """The node's ``kind`` server, which this process's own requests now reach in process."""
        app = self.node_apps()[kind]
        conf = self.settings.object
        self._local_nodes[(conf.node_ip, int(getattr(conf, f"{kind}_port")))] = app
        return app

    async def close(self) -> None:
        if self._node_client is not None:
            await self._node_client.aclose()
        if self._compute is not None:
            await self._compute.close()
        if self._hub is not None:
            await self._hub.close()
        if self._bus is not None:
            await self._bus.close()
        if self._identity is not None:
            await self._identity.close()


@dataclass(frozen=True)
class Built:
    app: ASGIApp
    close: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDef:
    name: str
    catalog_type: str | None
    """None: an internal server, not in the catalog (a storage node's)."""
    catalog_name: str
    url_path: str
    port: Callable[[Settings], int]
    build: Callable[[Settings, Shared], Awaitable[Built]]

    def url(self, settings: Settings) -> str:
        return settings.service_url(self.port(settings), self.url_path)


async def _nothing() -> None:
    return None


async def _build_identity(settings: Settings, shared: Shared) -> Built:
    app = make_identity_app(shared.identity(), shared.tokens())
    return Built(app, _nothing)  # the shared identity service is closed with ``shared``


async def _build_image(settings: Settings, shared: Shared) -> Built:
    service = ImageService(settings)
    await service.sweep()
    await release_stale_uploads(service)
    identity_url = SERVICES["identity"].url(settings)
    app = make_image_app(service, shared.validator(), identity_url=identity_url)
    shared.image_app = app
    return Built(app, service.close)


async def _build_compute(settings: Settings, shared: Shared) -> Built:
    service = await shared.compute()
    identity_url = SERVICES["identity"].url(settings)
    app = make_compute_app(service, shared.validator(), identity_url=identity_url)
    return Built(app, _nothing)  # closed with ``shared``


async def _build_object(settings: Settings, shared: Shared) -> Built:
    service = ObjectService(settings, shared.node_client())

    async def close() -> None:  # the client is ``shared``'s
        service.info_cache.close()

    return Built(make_object_app(service, shared.validator()), close)


def _node_port(kind: str) -> Callable[[Settings], int]:
    def port(settings: Settings) -> int:
        return int(getattr(settings.object, f"{kind}_port"))

    return port


def _node_server(kind: str) -> Callable[[Settings, Shared], Awaitable[Built]]:
    async def build(settings: Settings, shared: Shared) -> Built:
        return Built(shared.serve_node(kind), _nothing)  # its client closes with ``shared``

    return build


class Engine(Protocol):
    async def stop(self) -> None: ...


async def _start_conductor(settings: Settings, shared: Shared) -> Engine:
    return await start_control(await shared.compute())


async def _start_compute_agent(settings: Settings, shared: Shared) -> Engine:
    return await start_agent(settings, await shared.bus(), images=shared.image_client())


async def _start_object_daemons(settings: Settings, shared: Shared) -> Engine:
    return await start_daemons(settings, shared.node_client())


ENGINES: dict[str, Callable[[Settings, Shared], Awaitable[Engine]]] = {
    "conductor": _start_conductor,
    "compute-agent": _start_compute_agent,
    "object-daemons": _start_object_daemons,
}
"""Parts that do not serve HTTP: ``conductor`` (with a scheduler) and ``compute-agent`` serve
the bus; ``object-daemons`` is a storage node's background work (container sync...)."""
ALL_IN_ONE_ENGINES = ("conductor", "compute-agent", "object-daemons")
OFF_THE_ENGINES = ("compute",)
"""APIs that, with several workers on the in-process bus, run in every worker but the first:
that one holds the bus and runs the engines, so these APIs get the other cores."""


SERVICES: dict[str, ServiceDef] = {
    "identity": ServiceDef(
        name="identity",
        catalog_type="identity",
        catalog_name="keystone",
        url_path="/v3/",
        port=lambda s: s.identity.port,
        build=_build_identity,
    ),
    "image": ServiceDef(
        name="image",
        catalog_type="image",
        catalog_name="glance",
        url_path="",
        port=lambda s: s.image.port,
        build=_build_image,
    ),
    "compute": ServiceDef(
        name="compute",
        catalog_type="compute",
        catalog_name="nova",
        url_path="/v2.1",
        port=lambda s: s.compute.port,
        build=_build_compute,
    ),
    "object": ServiceDef(
        name="object",
        catalog_type="object-store",
        catalog_name="swift",
        url_path="/v1/AUTH_%(project_id)s",
        port=lambda s: s.object.port,
        build=_build_object,
    ),
    **{
        f"{kind}-server": ServiceDef(
            name=f"{kind}-server",
            catalog_type=None,
            catalog_name="",
            url_path="",
            port=_node_port(kind),
            build=_node_server(kind),
        )
        for kind in ("object", "container", "account")
    },
}
NODE_SERVERS = ("object-server", "container-server", "account-server")
ROLE_GROUPS = {"object-node": (*NODE_SERVERS, "object-daemons")}
"""Roles that stand for several parts: a storage node is its three servers and its daemons."""
ALL_IN_ONE = ("identity", "image", "compute", "object", *NODE_SERVERS)
