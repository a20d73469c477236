"""The bottom of the proxy's pipeline: accounts, containers and objects on the storage nodes.

The path picks the account, container or object controller, after the
caller's right to it is checked (ownership, a container ACL, or a middleware
having vouched for the request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response

from overcast.object.proxy import containers, objects
from overcast.object.proxy.access import allows
from overcast.object.proxy.call import Call
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.request import BadPath, ProxyRequest
from overcast.object.proxy.service import ObjectService

ObjectHandler = Callable[[Call, ContainerInfo], Awaitable[Response]]
OBJECT_HANDLERS: dict[str, ObjectHandler] = {
    "GET": objects.get_object,
    "HEAD": objects.get_object,
    "PUT": objects.put_object,
    "POST": objects.post_object,
    "DELETE": objects.delete_object,
}


class Controller:
    def __init__(self, service: ObjectService) -> None:
        self.service = service

    async def __call__(self, request: ProxyRequest) -> Response:
        try:
            account, container, obj = request.split()
        except BadPath:
            return error(404)
        call = Call(self.service, request, request.caller, account, container, obj)
        if obj is not None:
            return await self.objects(call)
        if container is not None:
            return await self.containers(call)
        return await self.accounts(call)

    async def accounts(self, call: Call) -> Response:
        if not call.caller.owns(call.account):
            return error(call.caller.denied())
        method = call.request.method
        if method in ("GET", "HEAD"):
            return await containers.listing(call, "account")
        if method == "POST":
            return await containers.post_account(call)
        return error(405)

    async def containers(self, call: Call) -> Response:
        method = call.request.method
        owner = call.caller.owns(call.account) or call.request.authorized
        if method in ("GET", "HEAD"):
            if not owner:
                info = await call.container_info()
                if info is None or not containers.may_list(call, info.read_acl):
                    return error(call.caller.denied())
            return await containers.listing(call, "container")
        if not owner:
            return error(call.caller.denied())
        if method == "PUT":
            return await containers.put_container(call)
        if method == "POST":
            return await containers.post_container(call)
        if method == "DELETE":
            return await containers.delete_container(call)
        return error(405)

    async def objects(self, call: Call) -> Response:
        handler = OBJECT_HANDLERS.get(call.request.method)
        if handler is None:
            return error(405)
        info = await call.container_info()
        if not (call.caller.owns(call.account) or call.request.authorized):
            reading = call.request.method in ("GET", "HEAD")
            acl = None if info is None else info.read_acl if reading else info.write_acl
            if not allows(acl, call.caller):
                return error(call.caller.denied())
        if info is None:
            return error(404)
        return await handler(call, info)
