"""Accounts and containers through the proxy: listings, metadata, create and delete."""

from __future__ import annotations

import json

import httpx
from starlette.responses import Response

from overcast.object.headers import CONTAINER_SETTINGS
from overcast.object.node.common import title
from overcast.object.proxy import listings
from overcast.object.proxy.access import allows
from overcast.object.proxy.call import Call
from overcast.object.proxy.constraints import Invalid, check_container_name, check_metadata
from overcast.object.proxy.errors import error
from overcast.object.proxy.service import UnknownPolicy

LISTING_PARAMS = ("limit", "marker", "end_marker", "prefix", "delimiter", "reverse")
CONTAINER_HEADERS = CONTAINER_SETTINGS
MEDIA = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


async def listing(call: Call, kind: str) -> Response:
    """GET or HEAD of an account or a container: its stats headers, and its listing."""
    try:
        fmt = listings.chosen_format(call.request.query, call.request.headers.get("accept"))
    except listings.NotAcceptable:
        return error(406)
    params = {k: v for k, v in call.request.query.items() if k in LISTING_PARAMS}
    limit = params.get("limit")
    if limit is not None and (
        not limit.isdigit() or int(limit) > call.service.limits.container_listing_limit
    ):
        return error(412, f"Maximum limit is {call.service.limits.container_listing_limit}")
    part, nodes = call.account_nodes() if kind == "account" else call.container_nodes()
    method = call.request.method
    reply = await call.service.backend.first(
        nodes, call.url_on(part), {}, method="GET", params=params
    )
    if reply is None:
        return error(503)
    if reply.status == 404 and kind == "account" and call.caller.owns(call.account):
        # an account exists as soon as its owner looks (Swift's account autocreate)
        headers = {
            "X-Account-Container-Count": "0",
            "X-Account-Object-Count": "0",
            "X-Account-Bytes-Used": "0",
            "X-Timestamp": call.now().normal,
        }
        body, _ = listings.render([], fmt, kind=kind, name=call.account)
        status = 204 if fmt == "plain" else 200
        return _listing_response(method, status, body, fmt, headers)
    if reply.status >= 300:
        return error(reply.status)
    headers = call.shown(reply.headers)
    policy = reply.headers.get("x-backend-storage-policy-index")
    if kind == "container":
        headers["X-Storage-Policy"] = call.service.policy_of(policy).name
    else:
        headers |= _policy_usage(call, reply.headers)
    entries = json.loads(reply.body or b"[]")
    name = call.account if kind == "account" else call.container or ""
    body, media = listings.render(entries, fmt, kind=kind, name=name)
    status = 204 if fmt == "plain" and not entries else 200
    headers.pop("content-type", None)
    return _listing_response(method, status, body, fmt, headers, media)


def _policy_usage(call: Call, node_headers: httpx.Headers) -> dict[str, str]:
    """The account's usage per storage policy, under the policies' names (as Swift shows it)."""
    shown = {}
    for name, value in node_headers.items():
        parts = name.lower().split("-", 4)  # x, backend, policy, <index>, <what>
        if len(parts) == 5 and parts[:3] == ["x", "backend", "policy"] and parts[3].isdigit():
            policy = call.service.policy_of(parts[3]).name
            shown[f"X-Account-Storage-Policy-{policy}-{title(parts[4])}"] = value
    return shown


def _listing_response(
    method: str, status: int, body: bytes, fmt: str, headers: dict[str, str], media: str = ""
) -> Response:
    media = media or MEDIA[fmt]
    headers["Accept-Ranges"] = "bytes"
    if method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", status_code=204, headers=headers, media_type=media)
    if status == 204:
        body = b""
    return Response(body, status_code=status, headers=headers, media_type=media)


async def put_container(call: Call) -> Response:
    try:
        check_container_name(call.container or "", call.service.limits)
        check_metadata(call.request.headers, "container", call.service.limits)
    except Invalid as exc:
        return error(400, str(exc))
    headers = call.passed("x-container-meta-", "x-container-sysmeta-", names=CONTAINER_HEADERS)
    policy_name = call.request.headers.get("x-storage-policy")
    if policy_name is not None:
        try:
            policy = call.service.policy_named(policy_name)
        except UnknownPolicy as exc:
            return error(400, str(exc))
        headers["X-Backend-Storage-Policy-Index"] = str(policy.index)
    else:
        existing = await call.container_info()
        policy = existing.policy if existing else call.service.default_policy
        headers["X-Backend-Storage-Policy-Index"] = str(policy.index)
    status = await call.write("PUT", call.service.container_ring, headers, _account_updates(call))
    if status == 409:
        return error(409, "Container is in another storage policy")
    return Response(status_code=status) if status < 300 else error(status)


async def post_container(call: Call) -> Response:
    try:
        check_metadata(call.request.headers, "container", call.service.limits)
    except Invalid as exc:
        return error(400, str(exc))
    headers = call.passed("x-container-meta-", "x-container-sysmeta-", names=CONTAINER_HEADERS)
    status = await call.write("POST", call.service.container_ring, headers)
    return Response(status_code=204) if status < 300 else error(status)


async def delete_container(call: Call) -> Response:
    status = await call.write("DELETE", call.service.container_ring, {}, _account_updates(call))
    return Response(status_code=status) if status < 300 else error(status)


def _account_updates(call: Call) -> list[dict[str, str]]:
    """Per container replica, the account server it reports to."""
    part, nodes = call.account_nodes()
    return call.updates(nodes, part, "Account")


async def post_account(call: Call) -> Response:
    try:
        check_metadata(call.request.headers, "account", call.service.limits)
    except Invalid as exc:
        return error(400, str(exc))
    headers = call.passed("x-account-meta-", "x-account-sysmeta-")
    # the account may not exist yet: create it first (Swift's account autocreate)
    await call.write("PUT", call.service.account_ring, {})
    status = await call.write("POST", call.service.account_ring, headers)
    return Response(status_code=204) if status < 300 else error(status)


def may_list(call: Call, read_acl: str | None) -> bool:
    return call.caller.owns(call.account) or allows(read_acl, call.caller, listing=True)
