"""A storage node's object, container and account servers, in process (ASGI).

Node-to-node updates (object server -> container server -> account server)
travel through an httpx client whose hosts are mounted on the same apps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from overcast.object import together
from overcast.object.node.app import make_node_apps
from overcast.object.node.common import NodeConfig
from overcast.object.timestamps import Timestamp
from tests.api.object.conftest import Hosts

OBJECT, CONTAINER, ACCOUNT = "127.0.0.1:6200", "127.0.0.1:6201", "127.0.0.1:6202"


@dataclass
class Node:
    object: httpx.AsyncClient
    container: httpx.AsyncClient
    account: httpx.AsyncClient
    devices: Path
    clock: list[float]

    def ts(self) -> str:
        self.clock[0] += 1
        return Timestamp.parse(self.clock[0]).internal


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    devices = tmp_path / "devices"
    (devices / "sda").mkdir(parents=True)
    hosts = Hosts()
    peers = httpx.AsyncClient(transport=hosts)
    apps = make_node_apps(NodeConfig(devices, hash_prefix="p", hash_suffix="s"), peers)
    for kind, host in (("object", OBJECT), ("container", CONTAINER), ("account", ACCOUNT)):
        ip, port = host.split(":")
        hosts.apps[(ip, int(port))] = apps[kind]
    clients = {
        kind: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{kind}")
        for kind, app in apps.items()
    }
    yield Node(clients["object"], clients["container"], clients["account"], devices, [1.7e9])
    for client in (*clients.values(), peers):
        await client.aclose()


def routed(node: Node) -> dict[str, str]:
    """Headers a proxy sends so that the object server updates its container, and so on."""
    return {
        "X-Container-Host": CONTAINER,
        "X-Container-Device": "sda",
        "X-Container-Partition": "3",
        "X-Account-Host": ACCOUNT,
        "X-Account-Device": "sda",
        "X-Account-Partition": "2",
    }


async def make_container(node: Node, name: str = "c") -> None:
    response = await node.container.put(
        f"/sda/3/AUTH_a/{name}", headers={"X-Timestamp": node.ts(), **routed(node)}
    )
    assert response.status_code == 201, response.text


async def put_object(node: Node, name: str, body: bytes, **headers: str) -> httpx.Response:
    return await node.object.put(
        f"/sda/1/AUTH_a/c/{name}",
        content=body,
        headers={"X-Timestamp": node.ts(), "Content-Type": "text/plain", **routed(node), **headers},
    )


async def test_an_object_put_reads_back_and_lands_in_its_container(node: Node) -> None:
    await make_container(node)
    made = await put_object(node, "dir/a.txt", b"hello", **{"X-Object-Meta-Color": "blue"})
    assert made.status_code == 201
    assert made.headers["etag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    got = await node.object.get("/sda/1/AUTH_a/c/dir/a.txt")
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["x-object-meta-color"] == "blue"
    assert got.headers["content-type"].startswith("text/plain")
    listing = (await node.container.get("/sda/3/AUTH_a/c")).json()
    assert [(o["name"], o["bytes"]) for o in listing] == [("dir/a.txt", 5)]
    head = await node.container.head("/sda/3/AUTH_a/c")
    assert head.headers["x-container-object-count"] == "1"
    account = await node.account.get("/sda/2/AUTH_a")
    assert [c["name"] for c in account.json()] == ["c"]


async def test_a_body_that_does_not_match_its_etag_is_refused(node: Node) -> None:
    bad = await put_object(node, "x", b"data", ETag="0" * 32)
    assert bad.status_code == 422
    assert (await node.object.get("/sda/1/AUTH_a/c/x")).status_code == 404


async def test_older_writes_lose_to_newer_ones(node: Node) -> None:
    newer = node.ts()
    older = Timestamp.parse(float(newer.split("_")[0]) - 0.5).internal
    assert (await put_object(node, "o", b"new", **{"X-Timestamp": newer})).status_code == 201
    late = await put_object(node, "o", b"old", **{"X-Timestamp": older})
    assert late.status_code == 409 and late.headers["x-backend-timestamp"] == newer
    assert (await node.object.get("/sda/1/AUTH_a/c/o")).content == b"new"


async def test_delete_leaves_a_tombstone_and_updates_the_listing(node: Node) -> None:
    await make_container(node)
    await put_object(node, "o", b"x")
    gone = await node.object.delete(
        "/sda/1/AUTH_a/c/o", headers={"X-Timestamp": node.ts(), **routed(node)}
    )
    assert gone.status_code == 204
    missing = await node.object.get("/sda/1/AUTH_a/c/o")
    assert missing.status_code == 404 and "x-backend-timestamp" in missing.headers
    assert (await node.container.get("/sda/3/AUTH_a/c")).json() == []
    again = await node.object.delete("/sda/1/AUTH_a/c/o", headers={"X-Timestamp": node.ts()})
    assert again.status_code == 404


async def test_ranges_and_conditions(node: Node) -> None:
    await put_object(node, "r", b"0123456789")
    path = "/sda/1/AUTH_a/c/r"
    part = await node.object.get(path, headers={"Range": "bytes=2-4"})
    assert (part.status_code, part.content) == (206, b"234")
    assert part.headers["content-range"] == "bytes 2-4/10"
    assert (await node.object.get(path, headers={"Range": "bytes=-3"})).content == b"789"
    many = await node.object.get(path, headers={"Range": "bytes=0-1,8-"})
    assert many.status_code == 206 and b"01" in many.content and b"89" in many.content
    assert many.headers["content-type"].startswith("multipart/byteranges")
    assert (await node.object.get(path, headers={"Range": "bytes=20-"})).status_code == 416
    assert (await node.object.get(path, headers={"Range": "junk"})).status_code == 200
    etag = hashlib.md5(b"0123456789").hexdigest()
    assert (await node.object.get(path, headers={"If-None-Match": etag})).status_code == 304
    assert (await node.object.get(path, headers={"If-Match": "nope"})).status_code == 412
    assert (await node.object.get(path, headers={"If-Match": f'"{etag}"'})).status_code == 200


async def test_post_replaces_user_metadata(node: Node) -> None:
    await put_object(node, "m", b"x", **{"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"})
    posted = await node.object.post(
        "/sda/1/AUTH_a/c/m", headers={"X-Timestamp": node.ts(), "X-Object-Meta-C": "3"}
    )
    assert posted.status_code == 202
    head = await node.object.head("/sda/1/AUTH_a/c/m")
    assert head.headers["x-object-meta-c"] == "3"
    assert "x-object-meta-a" not in head.headers
    assert head.headers["content-type"].startswith("text/plain")


async def test_a_container_update_that_fails_is_queued(node: Node) -> None:
    lost = {"X-Container-Host": "127.0.0.1:1", "X-Container-Device": "sda",
            "X-Container-Partition": "3"}  # fmt: skip
    made = await node.object.put(
        "/sda/1/AUTH_a/c/q",
        content=b"x",
        headers={"X-Timestamp": node.ts(), "Content-Type": "a/b", **lost},
    )
    assert made.status_code == 201
    (queued,) = (node.devices / "sda" / "async_pending").iterdir()
    update = json.loads(queued.read_text())
    assert update["method"] == "PUT" and update["url"].endswith("/sda/3/AUTH_a/c/q")


async def test_containers_refuse_to_go_while_they_hold_objects(node: Node) -> None:
    await make_container(node)
    await put_object(node, "o", b"x")
    busy = await node.container.delete("/sda/3/AUTH_a/c", headers={"X-Timestamp": node.ts()})
    assert busy.status_code == 409
    await node.object.delete(
        "/sda/1/AUTH_a/c/o", headers={"X-Timestamp": node.ts(), **routed(node)}
    )
    done = await node.container.delete(
        "/sda/3/AUTH_a/c", headers={"X-Timestamp": node.ts(), **routed(node)}
    )
    assert done.status_code == 204
    assert (await node.container.head("/sda/3/AUTH_a/c")).status_code == 404
    assert (await node.account.get("/sda/2/AUTH_a")).json() == []


async def test_bad_requests_get_400_not_500(node: Node) -> None:
    assert (await node.object.put("/sda/1/AUTH_a/c/o", content=b"x")).status_code == 400
    no_type = await node.object.put(
        "/sda/1/AUTH_a/c/o", content=b"x", headers={"X-Timestamp": node.ts()}
    )
    assert no_type.status_code == 400
    assert (await node.object.get("/sda/notapart/AUTH_a/c/o")).status_code == 400
    assert (await node.object.get("/sda")).status_code == 400
    bad_ts = await node.container.put("/sda/3/AUTH_a/c", headers={"X-Timestamp": "soon"})
    assert bad_ts.status_code == 400
    assert (await node.object.get("/sdz/1/AUTH_a/c/o")).status_code == 507
    await make_container(node)
    bad_limit = await node.container.get("/sda/3/AUTH_a/c?limit=99999")
    assert bad_limit.status_code == 400


def replicas_on(devices: list[str], routes: list[str]) -> dict[str, str]:
    """Headers naming more replicas on this node: ``devices[i]`` tells container ``routes[i]``."""
    others = [
        (device, {"X-Container-Device": route, "X-Account-Device": route})
        for device, route in zip(devices, routes, strict=True)
    ]
    return together.ask({}, others)


async def test_one_put_writes_every_replica_the_node_holds(node: Node) -> None:
    """A proxy names the node's other replicas: one body, a copy on each device, each
    answered in turn, and each device's container replica told of it."""
    for device in ("sdb", "sdc"):
        (node.devices / device).mkdir()
    for device in ("sda", "sdb", "sdc"):
        made = await node.container.put(
            f"/{device}/3/AUTH_a/c", headers={"X-Timestamp": node.ts(), **routed(node)}
        )
        assert made.status_code == 201
    body = b"one body, three copies" * 5000
    made = await put_object(node, "o", body, **replicas_on(["sdb", "sdc"], ["sdb", "sdc"]))
    assert made.status_code == 200
    answered = together.answers(made.content, 3)
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert answered == [(201, {"etag": etag})] * 3
    for device in ("sda", "sdb", "sdc"):
        got = await node.object.get(f"/{device}/1/AUTH_a/c/o")
        assert got.status_code == 200 and got.content == body
        listing = (await node.container.get(f"/{device}/3/AUTH_a/c")).json()
        assert [(o["name"], o["bytes"]) for o in listing] == [("o", len(body))]


async def test_each_replica_of_a_put_is_answered_for_itself(node: Node) -> None:
    """A device holding a newer version refuses (409), a device the node lacks is 507,
    and the others are written all the same."""
    (node.devices / "sdb").mkdir()
    newer = node.ts()
    older = Timestamp.parse(float(newer.split("_")[0]) - 0.5).internal
    alone = await node.object.put(
        "/sdb/1/AUTH_a/c/o",
        content=b"new",
        headers={"X-Timestamp": newer, "Content-Type": "text/plain"},
    )
    assert alone.status_code == 201
    made = await put_object(
        node, "o", b"old", **{"X-Timestamp": older}, **replicas_on(["sdb", "sdz"], ["sda", "sda"])
    )
    statuses = [status for status, _ in together.answers(made.content, 3) or []]
    assert statuses == [201, 409, 507]
    assert (await node.object.get("/sda/1/AUTH_a/c/o")).content == b"old"
    assert (await node.object.get("/sdb/1/AUTH_a/c/o")).content == b"new"


async def test_a_put_that_names_replicas_badly_gets_400(node: Node) -> None:
    for bad in ("not json", '{"device": "sdb"}', '[{"device": "../etc"}]', '[{"device": 7}]',
                '[{"device": "sdb", "headers": {"a": 1}}]'):  # fmt: skip
        refused = await put_object(node, "o", b"x", **{together.REPLICAS: bad})
        assert refused.status_code == 400, bad
        assert "X-Backend-Replicas" in refused.text
    assert (await node.object.get("/sda/1/AUTH_a/c/o")).status_code == 404
