"""Probe tests: object storage over four storage nodes, each its own processes on loopback.

The rings are built with ``overcast ring`` (4 devices, one per node, 3 replicas).
Each node runs as two processes, so that its container server can fail alone:
``overcast serve object-server account-server object-daemons`` and
``overcast serve container-server``. A third process serves identity and the
proxy. Replicas are read straight from each node's servers, as Swift's probe
tests do, to see that they agree; the daemons (replicator, auditor, updater)
run on their own every second and nothing here calls them.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from overcast.object.ring.ring import Ring
from overcast.object.storage.diskfile import data_dir, path_hash
from tests.functional.cloud import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    OVERCAST,
    RunningCloud,
    free_port,
    public_url,
    stop_processes,
    wait_ready,
)

pytestmark = [pytest.mark.functional]

NODES = 4
PREFIX, SUFFIX = "probe-prefix", "probe-suffix"
KINDS = ("object", "container", "account")
CONVERGE = 60.0
"""Seconds the daemons get to make replicas agree."""


@dataclass
class Node:
    index: int
    root: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def device(self) -> str:
        return f"sd{self.index}"

    @property
    def devices(self) -> Path:
        return self.root / "devices"

    ROLES = {
        "storage": ("object-server", "account-server", "object-daemons"),
        "containers": ("container-server",),
    }

    def start(self, *parts: str) -> None:
        for part in parts or tuple(self.ROLES):
            log = (self.root / f"{part}.log").open("ab")
            self.processes[part] = subprocess.Popen(
                [str(OVERCAST), "serve", *self.ROLES[part], "--data-dir", str(self.root)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for part in parts or tuple(self.ROLES):
            kinds = ("container",) if part == "containers" else ("object", "account")
            for kind in kinds:
                _wait_listening(self.ports[kind], self.processes[part], self.root)

    def kill(self, *parts: str) -> None:
        """SIGKILL: no clean shutdown, as when a machine loses power."""
        for part in parts or tuple(self.processes):
            process = self.processes.pop(part)
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        stop_processes(self.processes.values())
        self.processes.clear()


def _wait_listening(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text() for p in root.glob("*.log"))
            raise RuntimeError(f"a node process exited with {process.returncode}:\n{logs}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Cluster:
    control: RunningCloud
    nodes: list[Node]
    ring_dir: Path
    proxy: httpx.Client
    account: str

    def ring(self, name: str) -> Ring:
        return Ring(self.ring_dir / f"{name}.ring.gz", hash_prefix=PREFIX, hash_suffix=SUFFIX)

    def node_at(self, port: int) -> Node:
        return next(n for n in self.nodes if port in n.ports.values())

    def replicas(self, container: str, obj: str | None = None) -> list[tuple[Node, str]]:
        """The primary nodes of a container (or object) and its URL on each."""
        names = [self.account, container, *([obj] if obj else [])]
        part, devices = self.ring("object" if obj else "container").get_nodes(*names)
        path = "/".join(quote(n, safe="") for n in names)
        return [
            (self.node_at(d.port), f"http://{d.ip}:{d.port}/{d.device}/{part}/{path}")
            for d in devices
        ]

    def stop(self) -> None:
        self.proxy.close()
        for node in self.nodes:
            node.stop()
        self.control.stop()


def _overcast(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(OVERCAST), *args], env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("swift-cluster")
    ring_dir = root / "rings"
    common = {
        **os.environ,
        "OVERCAST_OBJECT__RING_DIR": str(ring_dir),
        "OVERCAST_OBJECT__HASH_PATH_PREFIX": PREFIX,
        "OVERCAST_OBJECT__HASH_PATH_SUFFIX": SUFFIX,
        "OVERCAST_OBJECT__POLICIES": '[{"index": 0, "name": "gold", "default": true}]',
        "OVERCAST_OBJECT__NODE_TIMEOUT": "3",
    }
    nodes = []
    for index in range(1, NODES + 1):
        ports = {kind: free_port() for kind in KINDS}
        env = {
            **common,
            **{f"OVERCAST_OBJECT__{kind.upper()}_PORT": str(p) for kind, p in ports.items()},
            "OVERCAST_OBJECT__DEVICES": str(root / f"node{index}" / "devices"),
            "OVERCAST_OBJECT__REPLICATOR_INTERVAL": "1",
            "OVERCAST_OBJECT__UPDATER_INTERVAL": "1",
            "OVERCAST_OBJECT__AUDITOR_INTERVAL": "1",
        }
        node = Node(index, root / f"node{index}", env, ports)
        (node.devices / node.device).mkdir(parents=True)
        nodes.append(node)
    for ring in ("account", "container", "object"):
        flags = ["--ring", ring, "--data-dir", str(root)]
        _overcast("ring", "create", "--part-power", "6", "--replicas", "3", *flags, env=common)
        for node in nodes:
            port = node.ports[ring]
            _overcast(
                "ring", "add", "--ip", "127.0.0.1", "--port", str(port), "--device",
                node.device, "--weight", "100", "--zone", str(node.index), *flags, env=common,
            )  # fmt: skip
        _overcast("ring", "rebalance", *flags, env=common)
    for node in nodes:
        node.start()

    control_dir = root / "control"
    control_dir.mkdir()
    identity_port, proxy_port = free_port(), free_port()
    control_env = {
        **common,
        "OVERCAST_IDENTITY__PORT": str(identity_port),
        "OVERCAST_OBJECT__PORT": str(proxy_port),
        "OVERCAST_BOOTSTRAP__ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OVERCAST_BOOTSTRAP__DEMO_PASSWORD": DEMO_PASSWORD,
    }
    _overcast("bootstrap", "--data-dir", str(control_dir), env=control_env)
    log = (control_dir / "overcast.log").open("ab")
    process = subprocess.Popen(
        [str(OVERCAST), "serve", "identity", "object", "--data-dir", str(control_dir)],
        env=control_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    control = RunningCloud(
        f"http://127.0.0.1:{identity_port}/v3",
        ADMIN_PASSWORD,
        DEMO_PASSWORD,
        control_dir,
        process,
        control_env,
    )
    try:
        wait_ready(control, 60)
        token, body = control.token("demo", DEMO_PASSWORD, "demo")
        storage_url = public_url(body, "object-store")
        proxy = httpx.Client(base_url=storage_url, headers={"X-Auth-Token": token}, timeout=30)
        found = Cluster(control, nodes, ring_dir, proxy, storage_url.rsplit("/", 1)[1])
    except BaseException:
        for node in nodes:
            node.stop()
        control.stop()
        raise
    yield found
    found.stop()


def eventually(read: Callable[[], Any], want: Any, what: str, timeout: float = CONVERGE) -> None:
    """Return once ``read()`` gives ``want``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (found := read()) != want:
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s: {found!r}, not {want!r}")
        time.sleep(0.5)


def object_states(cluster: Cluster, container: str, obj: str) -> list[tuple[int, str]]:
    """Each primary's (status, ETag) for the object, read from its object server."""
    states = []
    for _, url in cluster.replicas(container, obj):
        try:
            reply = httpx.head(url, headers={"X-Backend-Storage-Policy-Index": "0"}, timeout=5)
            states.append((reply.status_code, reply.headers.get("etag", "").strip('"')))
        except httpx.TransportError:
            states.append((0, ""))
    return states


def listed(cluster: Cluster, container: str) -> list[list[str]]:
    """Each container replica's listing, read from its container server."""
    listings = []
    for _, url in cluster.replicas(container):
        try:
            reply = httpx.get(url, params={"format": "json"}, timeout=5)
            names = [row["name"] for row in reply.json()] if reply.status_code == 200 else []
        except httpx.TransportError:
            names = []
        listings.append(sorted(names))
    return listings


def test_writes_acknowledged_while_a_node_dies_are_kept_and_replicas_agree_after_it_returns(
    cluster: Cluster,
) -> None:
    assert cluster.proxy.put("/probe-a").status_code == 201
    victim = cluster.nodes[1]
    acknowledged: dict[str, bytes] = {}
    for i in range(60):
        if i == 20:
            victim.kill()
        body = f"object {i} ".encode() * 50
        reply = cluster.proxy.put(f"/probe-a/o{i:03}", content=body)
        if reply.status_code == 201:
            acknowledged[f"o{i:03}"] = body
    assert len(acknowledged) == 60  # 3 replicas, quorum 2: one node down refuses nothing

    for name, body in acknowledged.items():
        read = cluster.proxy.get(f"/probe-a/{name}")
        assert (read.status_code, read.content) == (200, body)

    victim.start()
    for name, body in acknowledged.items():
        want = [(200, _md5(body))] * 3
        eventually(lambda n=name: object_states(cluster, "probe-a", n), want, name)
    every = sorted(acknowledged)
    eventually(lambda: listed(cluster, "probe-a"), [every] * 3, "container listings agree")
    eventually(lambda: _strays(cluster, "probe-a", every), [], "handoff copies removed")


def test_a_corrupted_object_is_quarantined_and_replication_restores_it(
    cluster: Cluster,
) -> None:
    assert cluster.proxy.put("/probe-b").status_code == 201
    body = os.urandom(8192)
    assert cluster.proxy.put("/probe-b/precious", content=body).status_code == 201
    node, _ = cluster.replicas("probe-b", "precious")[0]
    (data,) = _data_files(node, "probe-b", "precious", cluster)
    original = data.read_bytes()
    with data.open("r+b") as handle:  # flip bytes of the body in place: same size, bad MD5
        handle.write(bytes(b ^ 0xFF for b in original[:64]))

    quarantined = node.devices / node.device / "quarantined"
    eventually(lambda: any(quarantined.rglob("*.data")), True, "the auditor quarantines it")
    eventually(
        lambda: [f.read_bytes() for f in _data_files(node, "probe-b", "precious", cluster)],
        [original],
        "replication restores a good copy",
    )
    assert object_states(cluster, "probe-b", "precious") == [(200, _md5(body))] * 3
    assert cluster.proxy.get("/probe-b/precious").content == body


def test_listings_converge_after_a_container_server_was_down_during_writes(
    cluster: Cluster,
) -> None:
    assert cluster.proxy.put("/probe-c").status_code == 201
    victim, _ = cluster.replicas("probe-c")[0]
    victim.kill("containers")
    try:
        names = [f"o{i:03}" for i in range(30)]
        for name in names:
            assert cluster.proxy.put(f"/probe-c/{name}", content=name.encode()).status_code == 201
        assert cluster.proxy.delete("/probe-c/o000").status_code == 204
        survivors = [n for n in listed(cluster, "probe-c") if n]
        assert survivors == [names[1:]] * 2  # the two live replicas have every row
        pending = [p for n in cluster.nodes for p in n.devices.glob("*/async_pending/*")]
        assert pending  # the updates the victim missed wait on the object servers
    finally:
        victim.start("containers")
    eventually(lambda: listed(cluster, "probe-c"), [names[1:]] * 3, "listings converge")
    listing = cluster.proxy.get("/probe-c", params={"format": "json"}).json()
    assert [row["name"] for row in listing] == names[1:]


def _md5(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def _data_files(node: Node, container: str, obj: str, cluster: Cluster) -> list[Path]:
    """The object's ``.data`` files on ``node``'s device."""
    part = cluster.ring("object").get_part(cluster.account, container, obj)
    hash_ = path_hash(PREFIX, SUFFIX, cluster.account, container, obj)
    folder = node.devices / node.device / data_dir(0) / str(part) / hash_[-3:] / hash_
    return sorted(folder.glob("*.data"))


def _strays(cluster: Cluster, container: str, names: list[str]) -> list[str]:
    """Objects found on a device that is not one of their primaries."""
    found = []
    ring = cluster.ring("object")
    for name in names:
        _, primaries = ring.get_nodes(cluster.account, container, name)
        owners = {d.device for d in primaries}
        for node in cluster.nodes:
            if node.device not in owners and _data_files(node, container, name, cluster):
                found.append(f"{name} on {node.device}")
    return found
