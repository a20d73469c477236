"""Objects through the proxy: PUT to a quorum of replicas, GET from the first that has it."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from overcast.object.headers import OBJECT_SETTINGS
from overcast.object.proxy.backend import BodyBroken, best_status, node_path
from overcast.object.proxy.call import SYSMETA_PREFIXES, Call
from overcast.object.proxy.constraints import Invalid, check_metadata, check_object_name
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.request import WholeBody
from overcast.object.ring.devices import Device

KEPT = (
    *OBJECT_SETTINGS,
    "etag",
    "x-delete-at",
    "x-static-large-object",
    "content-length",
    "transfer-encoding",
)
POSTED = OBJECT_SETTINGS
READ_HEADERS = (
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "x-backend-etag-is-at",
    "x-backend-ignore-range-if-metadata-present",
)
"""What a read passes to the node (the backend ones come from middlewares, never clients)."""
DEFAULT_TYPE = "application/octet-stream"
WHOLE_BODY = 64 * 1024
"""A body up to this size goes to the client in one piece."""


def _delete_at(call: Call) -> tuple[str | None, Response | None]:
    """``X-Delete-At`` from the request (``X-Delete-After`` counts from now)."""
    headers = call.request.headers
    after, at = headers.get("x-delete-after"), headers.get("x-delete-at")
    if after is not None:
        if not after.isdigit():
            return None, error(400, "Non-integer X-Delete-After")
        at = str(int(time.time()) + int(after))
    if at is None:
        return None, None
    if not at.isdigit():
        return None, error(400, "Non-integer X-Delete-At")
    if int(at) <= time.time():
        return None, error(400, "X-Delete-At in past")
    return at, None


async def put_object(call: Call, info: ContainerInfo) -> Response:
    headers = call.request.headers
    limits = call.service.limits
    try:
        check_object_name(call.obj or "", limits)
        check_metadata(headers, "object", limits)
    except Invalid as exc:
        return error(400, str(exc))
    length = headers.get("content-length")
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if length is None and not chunked:
        return error(411)
    if length is not None and (not length.isdigit()):
        return error(400, "Invalid Content-Length")
    if length is not None and int(length) > limits.max_file_size:
        return error(413)
    delete_at, refused = _delete_at(call)
    if refused is not None:
        return refused
    sent = call.passed("x-object-meta-", *SYSMETA_PREFIXES[:2], names=KEPT)
    sent.setdefault("content-type", DEFAULT_TYPE)
    sent.pop("x-delete-after", None)
    if delete_at is not None:
        sent["x-delete-at"] = delete_at
    policy = info.policy.index
    ring = call.service.object_rings[policy]
    part, nodes = ring.get_nodes(call.account, call.container, call.obj)
    updates = call.object_updates()
    timestamp = call.now()
    names = call.names()

    def headers_of(i: int) -> dict[str, str]:
        return {
            **sent,
            **updates[i % len(updates)],
            "X-Timestamp": timestamp.internal,
            "X-Backend-Storage-Policy-Index": str(policy),
        }

    def path_of(node: Device) -> str:
        return node_path(node, part, *names)

    backend, handoffs = call.service.backend, ring.handoffs(part)
    try:
        if length is not None and int(length) <= WHOLE_BODY:
            # a small body is read first and sent whole: no per-node streams to feed
            body = b"".join([chunk async for chunk in call.request.body])
            replies = await backend.to_replicas(
                "PUT", nodes, handoffs, path_of, headers_of, body, together=True
            )
        else:
            body_stream = call.request.body
            replies = await backend.stream_put(nodes, handoffs, path_of, headers_of, body_stream)
    except BodyBroken:
        return error(499)
    if any(reply.status == 422 for reply in replies):
        return error(422)
    status = best_status(replies, len(nodes))
    if status >= 300:
        return error(status)
    etag = next(r.headers.get("etag", "") for r in replies if r.status == 201)
    made = {
        "ETag": etag.strip('"'),
        "Last-Modified": formatdate(int(timestamp.seconds + 0.99999), usegmt=True),
        "X-Timestamp": timestamp.normal,
    }
    return Response(status_code=201, headers=made, media_type="text/html")


async def get_object(call: Call, info: ContainerInfo) -> Response:
    """GET or HEAD: the first replica that has the object answers, streamed through."""
    ring = call.service.object_rings[info.policy.index]
    names = call.names()
    part = ring.get_part(*names)
    asked = {k: v for k, v in call.request.headers.items() if k in READ_HEADERS}
    asked["X-Backend-Storage-Policy-Index"] = str(info.policy.index)
    method = call.request.method
    last: httpx.Response | None = None
    for node in ring.read_order(part):
        url = node_path(node, part, *names)
        try:
            request = call.service.client.build_request(method, url, headers=asked)
            response = await call.service.client.send(request, stream=True)
        except httpx.HTTPError:
            continue
        if response.status_code in (200, 206, 304, 412, 416):
            return _relay(call, response)
        await response.aclose()
        if response.status_code < 500:
            last = response
    if last is None:
        return error(503)
    return error(last.status_code)


def _relay(call: Call, response: httpx.Response) -> Response:
    shown = call.shown(response.headers)
    if "etag" in shown:
        shown["etag"] = shown["etag"].strip('"')  # Swift's clients see the bare MD5
    if "content-length" in response.headers:
        shown["Content-Length"] = response.headers["content-length"]
    if call.request.method == "HEAD" or response.status_code in (304, 412):
        return Response(
            status_code=response.status_code,
            headers=shown,
            background=BackgroundTask(response.aclose),
        )
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= WHOLE_BODY:
        return WholeBody(response, shown)
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers=shown,
        background=BackgroundTask(response.aclose),
    )


async def post_object(call: Call, info: ContainerInfo) -> Response:
    try:
        check_metadata(call.request.headers, "object", call.service.limits)
    except Invalid as exc:
        return error(400, str(exc))
    delete_at, refused = _delete_at(call)
    if refused is not None:
        return refused
    sent = call.passed("x-object-meta-", "x-object-transient-sysmeta-", names=POSTED)
    if delete_at is not None:
        sent["x-delete-at"] = delete_at
    return await _write(call, info, "POST", sent, done=202)


async def delete_object(call: Call, info: ContainerInfo) -> Response:
    return await _write(call, info, "DELETE", {}, done=204, updates=call.object_updates())


async def _write(
    call: Call,
    info: ContainerInfo,
    method: str,
    sent: dict[str, str],
    *,
    done: int,
    updates: list[dict[str, str]] | None = None,
) -> Response:
    policy = str(info.policy.index)
    ring = call.service.object_rings[info.policy.index]
    headers = {**sent, "X-Backend-Storage-Policy-Index": policy}
    status = await call.write(method, ring, headers, updates)
    return Response(status_code=done, media_type="text/html") if status < 300 else error(status)
