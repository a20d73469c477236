"""The services this build of Overcast can run, and how to build each one's app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp

from overcast.common.config import Settings
from overcast.identity.app import make_identity_app
from overcast.identity.service import IdentityService


@dataclass(frozen=True)
class Built:
    app: ASGIApp
    close: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDef:
    name: str
    catalog_type: str
    catalog_name: str
    url_path: str
    port: Callable[[Settings], int]
    build: Callable[[Settings], Awaitable[Built]]

    def url(self, settings: Settings) -> str:
        return settings.service_url(self.port(settings), self.url_path)


async def _build_identity(settings: Settings) -> Built:
    service = IdentityService(settings)
    return Built(make_identity_app(service), service.close)


SERVICES: dict[str, ServiceDef] = {
    "identity": ServiceDef(
        name="identity",
        catalog_type="identity",
        catalog_name="keystone",
        url_path="/v3/",
        port=lambda s: s.identity.port,
        build=_build_identity,
    ),
}
ALL_IN_ONE = ("identity",)
