"""The storage node's ASGI apps: an object, a container and an account server.

Like Swift's, each server listens on a port of its own, which is the port its
ring gives the node's devices; one node process serves all three.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.common.api.app import serve_lifespan
from overcast.object.node.common import BadPath, NodeConfig, Target, plain, split_target
from overcast.object.node.dbservers import AccountServer, ContainerServer
from overcast.object.node.objects import ObjectServer
from overcast.object.timestamps import BadTimestamp

LOG = logging.getLogger(__name__)
KINDS = ("object", "container", "account")


class Server(Protocol):
    async def handle(self, request: Request, target: Target) -> Response: ...


class ServerApp:
    """One server behind ASGI: paths are parsed here, errors become plain statuses."""

    def __init__(self, server: Server) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.server.handle(request, split_target(request))
        except (BadPath, BadTimestamp, UnicodeDecodeError) as exc:
            response = plain(400, str(exc))
        except Exception:
            LOG.exception("%s %s failed", request.method, request.url.path)
            response = plain(500, "An error occurred")
        await response(scope, receive, send)


def make_node_apps(config: NodeConfig, client: httpx.AsyncClient) -> dict[str, ServerApp]:
    """The node's three servers; ``client`` carries their updates to other nodes."""
    return {
        "object": ServerApp(ObjectServer(config, client)),
        "container": ServerApp(ContainerServer(config, client)),
        "account": ServerApp(AccountServer(config, client)),
    }
