"""The storage node's daemons: replicator, auditor and updater keep replicas whole."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import httpx

from overcast.object.bootstrap import layout, load_rings
from overcast.object.daemons.auditor import ObjectAuditor
from overcast.object.daemons.db_replicator import DatabaseReplicator
from overcast.object.daemons.expirer import ObjectExpirer
from overcast.object.daemons.replicator import ObjectReplicator
from overcast.object.daemons.updater import ObjectUpdater
from overcast.object.node.common import REPLICATE
from overcast.object.storage.diskfile import DiskFile, path_hash
from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


def replicas(swift: Swift, api: Api, container: str, obj: str) -> list[DiskFile]:
    """The object's files on each of its primary devices."""
    acct = f"AUTH_{api.project_id}"
    where = layout(swift.settings)
    part, nodes = load_rings(swift.settings).objects[0].get_nodes(acct, container, obj)
    hash_ = path_hash(where.hash_prefix, where.hash_suffix, acct, container, obj)
    return [DiskFile(swift.devices / node.device, 0, part, hash_) for node in nodes]


async def test_a_lost_replica_comes_back(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/rep")
    made = await me.put(f"{base}/rep/o", content=b"precious", headers={"X-Object-Meta-K": "v"})
    await me.post(f"{base}/rep/o", headers={"X-Object-Meta-K": "posted"})
    files = replicas(swift, me, "rep", "o")
    shutil.rmtree(files[0].path)

    stats = await swift.daemon(ObjectReplicator).run_once()
    assert stats.pushed >= 2 and stats.failures == 0
    restored = files[0].current()
    assert restored.timestamp.normal == made.headers["x-timestamp"]
    assert restored.meta is not None and restored.meta["X-Object-Meta-K"] == "posted"
    assert b"".join(restored.chunks()) == b"precious"
    again = await swift.daemon(ObjectReplicator).run_once()
    assert again.suffixes_differing == 0  # every replica agrees now


async def test_a_delete_reaches_a_replica_that_missed_it(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/del")
    await me.put(f"{base}/del/o", content=b"x")
    files = replicas(swift, me, "del", "o")
    kept = {path.name: path.read_bytes() for _, _, path in files[2].files()}
    await me.delete(f"{base}/del/o")
    for _, _, path in files[2].files():  # the third replica never heard of the delete
        path.unlink()
    for name, data in kept.items():
        (files[2].path / name).write_bytes(data)

    await swift.daemon(ObjectReplicator).run_once()
    assert all(ext == ".ts" for _, ext, _ in files[2].files())
    assert (await me.get(f"{base}/del/o")).status_code == 404


async def test_a_corrupt_object_is_quarantined_then_restored(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/aud")
    await me.put(f"{base}/aud/o", content=b"good bytes")
    files = replicas(swift, me, "aud", "o")
    data = files[1].current().path
    raw = bytearray(data.read_bytes())
    raw[0:4] = b"BAD!"  # the body changes, its metadata does not
    data.write_bytes(bytes(raw))

    audited = await swift.daemon(ObjectAuditor).run_once()
    assert audited.quarantined == 1
    assert not files[1].files()
    await swift.daemon(ObjectReplicator).run_once()
    assert b"".join(files[1].current().chunks()) == b"good bytes"
    assert (await swift.daemon(ObjectAuditor).run_once()).quarantined == 0


async def test_a_missed_container_update_is_delivered_later(me: Api, swift: Swift) -> None:
    base = account(me)
    acct = f"AUTH_{me.project_id}"
    await me.put(f"{base}/upd")
    part, nodes = load_rings(swift.settings).container.get_nodes(acct, "upd")
    missed = f"{nodes[0].ip}:{nodes[0].port}/{nodes[0].device}"
    swift.hosts.down.add(missed)
    try:
        assert (await me.put(f"{base}/upd/o", content=b"x")).status_code == 201
    finally:
        swift.hosts.down.discard(missed)
    url = f"http://{missed.split('/', maxsplit=1)[0]}/{nodes[0].device}/{part}/{acct}/upd"
    assert (await swift.peers.head(url)).headers["x-container-object-count"] == "0"

    updater = swift.daemon(ObjectUpdater)
    assert (await updater.run_once()).sent == 1
    assert (await swift.peers.head(url)).headers["x-container-object-count"] == "1"
    assert not list(swift.devices.glob("*/async_pending/*.json"))


async def test_expired_objects_are_reaped(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/exp")
    await me.put(f"{base}/exp/keep", content=b"k")
    await me.put(f"{base}/exp/soon", content=b"s", headers={"X-Delete-After": "1"})
    files = replicas(swift, me, "exp", "soon")
    expirer = swift.daemon(ObjectExpirer)
    assert (await expirer.run_once()).expired == 0
    await asyncio.sleep(1.1)
    assert (await me.get(f"{base}/exp/soon")).status_code == 404  # hidden at once
    stats = await expirer.run_once()
    assert stats.expired == 3 and stats.failures == 0  # each replica reaps its own copy
    assert all([ext for _, ext, _ in f.files()] == [".ts"] for f in files)
    assert (await me.get(f"{base}/exp?format=json")).json()[0]["name"] == "keep"
    assert len((await me.get(f"{base}/exp?format=json")).json()) == 1


async def test_container_replicas_converge(me: Api, swift: Swift) -> None:
    base = account(me)
    acct = f"AUTH_{me.project_id}"
    part, nodes = load_rings(swift.settings).container.get_nodes(acct, "conv")
    missed = f"{nodes[2].ip}:{nodes[2].port}/{nodes[2].device}"
    swift.hosts.down.add(missed)  # the third container replica misses the container's birth
    try:
        assert (await me.put(f"{base}/conv", headers={"X-Container-Meta-A": "1"})).is_success
        assert (await me.put(f"{base}/conv/o", content=b"x")).status_code == 201
    finally:
        swift.hosts.down.discard(missed)
    await swift.reported()  # the account replicas hear of the container before replication
    for pending in swift.devices.glob("*/async_pending/*.json"):
        pending.unlink()  # only the database replicator may repair it
    url = f"http://{missed.split('/', maxsplit=1)[0]}/{nodes[2].device}/{part}/{acct}/conv"
    assert (await swift.peers.head(url)).status_code == 404

    replicator = swift.daemon(DatabaseReplicator)
    stats = await replicator.run_once()
    assert stats.rows_sent >= 1 and stats.failures == 0
    repaired = await swift.peers.head(url)
    assert repaired.status_code == 204
    assert repaired.headers["x-container-object-count"] == "1"
    assert repaired.headers["x-container-meta-a"] == "1"
    again = await replicator.run_once()
    assert again.rows_sent == 0  # every replica agrees


async def test_replicate_refuses_a_bad_body(me: Api, swift: Swift) -> None:
    base = account(me)
    acct = f"AUTH_{me.project_id}"
    await me.put(f"{base}/bad-rep")
    part, nodes = load_rings(swift.settings).container.get_nodes(acct, "bad-rep")
    url = f"http://{nodes[0].ip}:{nodes[0].port}/{nodes[0].device}/{part}/{acct}/bad-rep"
    for body in (b"not json", b'{"rows": []}', b'{"state": {}, "rows": [{"name": "x"}]}'):
        refused = await replicate(swift, url, content=body)
        assert refused.status_code == 400, body
    digest = (await replicate(swift, url)).json()
    assert digest["count"] == 0


async def test_object_replicate_refuses_bad_suffixes_and_policies(swift: Swift) -> None:
    node = load_rings(swift.settings).objects[0].primaries(0)[0]
    base = f"http://{node.ip}:{node.port}/{node.device}/0"
    assert (await replicate(swift, f"{base}/*")).status_code == 200
    for suffix in ("..", "abcd", "xyz"):
        assert (await replicate(swift, f"{base}/{suffix}")).status_code == 400
    bad_policy = {"X-Backend-Storage-Policy-Index": "gold"}
    refused = await replicate(swift, f"{base}/*", headers=bad_policy)
    assert refused.status_code == 400
    assert (await swift.peers.get(f"{base}/a/c/o", headers=bad_policy)).status_code == 400


async def replicate(swift: Swift, url: str, **kwargs: Any) -> httpx.Response:
    """A replication request to a node, as the replicators send it."""
    method, marker = REPLICATE
    headers = {**marker, **kwargs.pop("headers", {})}
    return await swift.peers.request(method, url, headers=headers, **kwargs)


async def test_a_client_cannot_send_a_replication_request_through_the_proxy(
    me: Api, swift: Swift
) -> None:
    """The marker is an X-Backend-* header, which the proxy strips: the POST stays a POST."""
    base = account(me)
    await me.put(f"{base}/no-rep")
    await me.put(f"{base}/no-rep/o", content=b"kept")
    _, marker = REPLICATE
    posted = await me.post(f"{base}/no-rep/o", headers={**marker, "X-Object-Meta-A": "1"})
    assert posted.status_code == 202  # a metadata POST, not a replication request
    got = await me.get(f"{base}/no-rep/o")
    assert got.content == b"kept" and got.headers["x-object-meta-a"] == "1"
    posted = await me.post(f"{base}/no-rep", headers=marker)
    assert posted.status_code == 204
    listed = await me.get(f"{base}/no-rep?format=json")
    assert [row["name"] for row in listed.json()] == ["o"]
