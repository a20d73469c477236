"""The proxy's backend against real node servers in process: fan-out PUTs, handoffs, quorum."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from overcast.object.node.app import make_node_apps
from overcast.object.node.common import NodeConfig
from overcast.object.proxy.backend import Backend, BodyBroken, best_status, node_path
from overcast.object.ring.devices import Device
from overcast.object.timestamps import Timestamp
from tests.api.object.conftest import Hosts

NODE = ("127.0.0.1", 6200)


def device(dev_id: int, name: str, port: int = NODE[1]) -> Device:
    return Device(dev_id, 1, dev_id + 1, NODE[0], port, name, 100.0)


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[Backend]:
    for name in ("sda", "sdb", "sdc", "sdd"):
        (tmp_path / name).mkdir()
    hosts = Hosts()
    client = httpx.AsyncClient(transport=hosts)
    apps = make_node_apps(NodeConfig(tmp_path), client)
    hosts.apps[NODE] = apps["object"]
    yield Backend(client, timeout=5)
    await client.aclose()


async def body(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def headers_at(ts: Timestamp) -> dict[str, str]:
    return {"X-Timestamp": ts.internal, "Content-Type": "text/plain", "Content-Length": "6"}


def url(dev: Device) -> str:
    return node_path(dev, 5, "AUTH_a", "c", "o")


async def read_back(backend: Backend, dev: Device) -> bytes:
    reply = await backend.one(dev, "GET", url(dev), {})
    assert reply is not None and reply.status == 200
    return reply.body


async def test_one_body_reaches_every_replica(backend: Backend) -> None:
    nodes = [device(0, "sda"), device(1, "sdb"), device(2, "sdc")]
    at = Timestamp.now()
    replies = await backend.stream_put(
        nodes, iter([]), url, lambda i: headers_at(at), body(b"abc", b"def")
    )
    assert best_status(replies, 3) == 201
    assert [await read_back(backend, n) for n in nodes] == [b"abcdef"] * 3


async def test_an_unreachable_primary_gives_way_to_a_handoff(backend: Backend) -> None:
    down = device(0, "sda", port=1)
    nodes = [down, device(1, "sdb"), device(2, "sdc")]
    handoffs = iter([device(3, "sdd")])
    at = Timestamp.now()
    replies = await backend.stream_put(
        nodes, handoffs, url, lambda i: headers_at(at), body(b"abcdef")
    )
    assert sorted(r.node.device for r in replies) == ["sdb", "sdc", "sdd"]
    assert await read_back(backend, device(3, "sdd")) == b"abcdef"
    first = await backend.first([down, device(1, "sdb")], url, {})
    assert first is not None and first.node.device == "sdb" and first.body == b"abcdef"


async def test_a_broken_client_body_cuts_every_upload(backend: Backend) -> None:
    async def breaking() -> AsyncIterator[bytes]:
        yield b"abc"
        raise ConnectionResetError("client went away")

    nodes = [device(0, "sda"), device(1, "sdb"), device(2, "sdc")]
    at = Timestamp.now()
    with pytest.raises(BodyBroken):
        await backend.stream_put(nodes, iter([]), url, lambda i: headers_at(at), breaking())
    for node in nodes:
        reply = await backend.one(node, "GET", url(node), {})
        assert reply is not None and reply.status == 404


async def test_small_requests_go_to_every_replica(backend: Backend) -> None:
    nodes = [device(0, "sda", port=1), device(1, "sdb"), device(2, "sdc")]
    at = Timestamp.now()
    await backend.stream_put(nodes[1:], iter([]), url, lambda i: headers_at(at), body(b"abcdef"))
    gone = Timestamp.now().internal
    replies = await backend.to_replicas(
        "DELETE", nodes, itertools.chain([device(3, "sdd")]), url, lambda i: {"X-Timestamp": gone}
    )
    assert sorted(r.status for r in replies) == [204, 204, 404]  # the handoff had nothing
    assert best_status(replies, 3) == 204


def counted(backend: Backend) -> list[str]:
    """The URLs of the requests the backend sends from now on."""
    seen: list[str] = []
    transport = backend.client._transport
    handle = transport.handle_async_request

    async def counting(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return await handle(request)

    transport.handle_async_request = counting  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("streamed", [True, False])
async def test_replicas_on_one_node_go_in_one_request(backend: Backend, streamed: bool) -> None:
    """The body crosses to the node once. A device the node lacks (507) gives way to a
    handoff when the body is whole in hand; a streamed body has gone by then, and that
    replica is left to the quorum."""
    nodes = [device(0, "sda"), device(1, "sdb"), device(2, "sdz")]
    seen = counted(backend)
    at = Timestamp.now()
    handoffs = iter([device(3, "sdd")])
    if streamed:
        replies = await backend.stream_put(
            nodes, handoffs, url, lambda i: headers_at(at), body(b"abc", b"def")
        )
    else:
        replies = await backend.to_replicas(
            "PUT", nodes, handoffs, url, lambda i: headers_at(at), b"abcdef", together=True
        )
    written = [("sda", 201), ("sdb", 201)] + ([] if streamed else [("sdd", 201)])
    assert sorted((r.node.device, r.status) for r in replies) == written
    assert len(seen) == (1 if streamed else 2)
    assert best_status(replies, 3) == 201
    assert [await read_back(backend, device(i, n)) for i, n in enumerate(["sda", "sdb"])] == [
        b"abcdef"
    ] * 2


async def test_replicas_of_an_unreachable_node_move_to_handoffs_together(backend: Backend) -> None:
    down = [device(0, "sda", port=1), device(1, "sdb", port=1)]
    nodes = [*down, device(2, "sdc")]
    handoffs = iter([device(3, "sdd"), device(4, "sde")])
    at = Timestamp.now()
    replies = await backend.stream_put(
        nodes, handoffs, url, lambda i: headers_at(at), body(b"abc", b"def")
    )
    # sde is no device of the node: that replica is lost, and two of three make a quorum
    assert sorted((r.node.device, r.status) for r in replies) == [("sdc", 201), ("sdd", 201)]
    assert best_status(replies, 3) == 201
    assert await read_back(backend, device(3, "sdd")) == b"abcdef"
