"""Swift's proxy middlewares, in the order Swift's pipeline runs them.

Each sees a request before the ones after it; a sub-request a middleware makes
goes to the ones after it only (as in Swift, where each filter calls the app
it wraps).
"""

from __future__ import annotations

from typing import Any

from overcast.object.proxy.controller import Controller
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.middleware.bulk import Bulk
from overcast.object.proxy.middleware.container_sync import ContainerSync
from overcast.object.proxy.middleware.copy import Copy
from overcast.object.proxy.middleware.cors import Cors
from overcast.object.proxy.middleware.dlo import Dlo
from overcast.object.proxy.middleware.endpoints import Crossdomain, Healthcheck
from overcast.object.proxy.middleware.formpost import FormPost
from overcast.object.proxy.middleware.quotas import AccountQuotas, ContainerQuotas
from overcast.object.proxy.middleware.ratelimit import Ratelimit
from overcast.object.proxy.middleware.slo import Slo
from overcast.object.proxy.middleware.staticweb import StaticWeb
from overcast.object.proxy.middleware.symlink import Symlink
from overcast.object.proxy.middleware.tempurl import TempUrl
from overcast.object.proxy.middleware.versioning import Versioning
from overcast.object.proxy.request import Handler
from overcast.object.proxy.service import ObjectService

PIPELINE: tuple[type[Middleware], ...] = (
    Healthcheck,
    Cors,
    ContainerSync,
    Bulk,
    TempUrl,
    Ratelimit,
    Crossdomain,
    FormPost,
    StaticWeb,
    Copy,
    ContainerQuotas,
    AccountQuotas,
    Slo,
    Dlo,
    Versioning,
    Symlink,
)


def middlewares(service: ObjectService) -> list[Middleware]:
    """The pipeline's middlewares, outermost first."""
    made: list[Middleware] = []
    app: Handler = Controller(service)
    for kind in reversed(PIPELINE):
        middleware = kind(app, service)
        made.insert(0, middleware)
        app = middleware
    return made


def capabilities(chain: list[Middleware]) -> dict[str, Any]:
    """``/info``'s entries for the middlewares that have a name there."""
    return {name: shown for m in chain for name, shown in m.capabilities().items()}
