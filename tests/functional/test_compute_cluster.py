"""Compute scaled out: separate processes over RabbitMQ and PostgreSQL.

One process serves the identity, image and compute APIs with the conductor and
its scheduler; three ``overcast serve compute-agent`` processes run the fake
driver, each as its own host. Servers booted through openstacksdk spread over
the three; when one agent is killed, its service goes down and new servers
avoid its host.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openstack
import pytest
from openstack.connection import Connection

from overcast.compute import messages as m
from overcast.scheduler.messages import TOPIC as SCHEDULER
from tests.conftest import POSTGRES_URL, RABBIT_URL, PostgresSchema, bus_settings, drop_namespace
from tests.functional.clients import cli, name, public_raw_image
from tests.functional.cloud import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    OVERCAST,
    RunningCloud,
    free_port,
    stop_processes,
    wait_ready,
)

pytestmark = [pytest.mark.functional, pytest.mark.postgres, pytest.mark.rabbitmq]

AGENTS = ("node-1", "node-2", "node-3")
SERVICE_DOWN_TIME = 4


@dataclass
class Cluster:
    control: RunningCloud
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def kill(self, host: str) -> None:
        """SIGKILL the agent of ``host``: no goodbye, its heartbeats just stop."""
        agent = self.agents.pop(host)
        agent.send_signal(signal.SIGKILL)
        agent.wait()

    def stop(self) -> None:
        stop_processes(self.agents.values())
        self.control.stop()


def _run(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen([str(OVERCAST), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    schema = PostgresSchema()
    bus = bus_settings("amqp")
    ports = {service: free_port() for service in ("IDENTITY", "IMAGE", "COMPUTE")}
    env = {
        **os.environ,
        "OVERCAST_DATABASE__URL": POSTGRES_URL,
        "OVERCAST_DATABASE__SCHEMA": schema.name,
        "OVERCAST_BUS__DRIVER": "amqp",
        "OVERCAST_BUS__URL": RABBIT_URL,
        "OVERCAST_BUS__NAMESPACE": bus.namespace,
        "OVERCAST_BOOTSTRAP__ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OVERCAST_BOOTSTRAP__DEMO_PASSWORD": DEMO_PASSWORD,
        "OVERCAST_COMPUTE__REPORT_INTERVAL": "1",
        "OVERCAST_COMPUTE__SERVICE_DOWN_TIME": str(SERVICE_DOWN_TIME),
        **{f"OVERCAST_{service}__PORT": str(port) for service, port in ports.items()},
    }
    data = root / "control"
    bootstrap = subprocess.run(
        [str(OVERCAST), "bootstrap", "--data-dir", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    roles = ["identity", "image", "compute", "conductor"]
    control = RunningCloud(
        f"http://127.0.0.1:{ports['IDENTITY']}/v3",
        ADMIN_PASSWORD,
        DEMO_PASSWORD,
        data,
        _run(
            ["serve", *roles, "--data-dir", str(data)],
            {**env, "OVERCAST_COMPUTE__HOST": "control"},
            data / "overcast.log",
        ),
        env,
        image_url=f"http://127.0.0.1:{ports['IMAGE']}",
    )
    the_cluster = Cluster(control)
    try:
        wait_ready(control, 90)
        for host in AGENTS:
            agent_data = root / host
            agent_data.mkdir()
            the_cluster.agents[host] = _run(
                ["serve", "compute-agent", "--data-dir", str(agent_data)],
                {**env, "OVERCAST_COMPUTE__HOST": host},
                agent_data / "overcast.log",
            )
        yield the_cluster
    finally:
        the_cluster.stop()
        asyncio.run(schema.drop())
        servers = (*AGENTS, "control")
        asyncio.run(drop_namespace(bus.namespace, (m.CONDUCTOR, m.COMPUTE, SCHEDULER), servers))


def compute_states(cluster: Cluster) -> dict[str, str]:
    """``compute service list``: nova-compute host -> up/down."""
    rows = cli(cluster.control, "compute", "service", "list", "--service", "nova-compute")
    return {row["Host"]: row["State"] for row in rows}


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.5)


def boot(conn: Connection, image: str, count: int) -> list[Any]:
    """``count`` servers in one min_count request, once all are ACTIVE (as admins see them)."""
    base = name("probe")
    flavor = conn.compute.find_flavor("m1.tiny")
    conn.compute.create_server(
        name=base,
        image_id=image,
        flavor_id=flavor.id,
        networks="none",
        min_count=count,
        max_count=count,
    )
    servers = [s for s in conn.compute.servers() if s.name.startswith(base)]
    assert len(servers) == count
    return [
        conn.compute.wait_for_server(s, status="ACTIVE", interval=0.5, wait=120) for s in servers
    ]


def test_servers_spread_over_three_agents_and_avoid_a_dead_one(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = cluster.control
    wait_for(
        lambda: compute_states(cluster) == dict.fromkeys(AGENTS, "up"),
        "three compute agents up",
    )
    hypervisors = cli(control, "hypervisor", "list")
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == list(AGENTS)
    image = public_raw_image(control, tmp_path, "probe-image")
    cli(control, "quota", "set", "--instances", "100", "--cores", "100", "admin")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(control.clouds_yaml))
    conn = openstack.connect(cloud="overcast-admin")

    first = boot(conn, image, 60)
    spread = Counter(s.compute_host for s in first)
    assert set(spread) == set(AGENTS), spread
    assert min(spread.values()) >= 15, spread  # the spread weigher: about 20 each

    cluster.kill("node-3")
    wait_for(lambda: compute_states(cluster).get("node-3") == "down", "node-3 to go down")
    assert compute_states(cluster) == {"node-1": "up", "node-2": "up", "node-3": "down"}

    second = boot(conn, image, 12)
    landed = Counter(s.compute_host for s in second)
    assert "node-3" not in landed, landed
    assert set(landed) == {"node-1", "node-2"}, landed

    # cold migration: with node-3 down, a server of node-1 can only go to node-2
    moving = next(s for s in second if s.compute_host == "node-1")
    conn.compute.migrate_server(moving)
    conn.compute.wait_for_server(moving, status="VERIFY_RESIZE", interval=0.5, wait=60)
    conn.compute.confirm_server_resize(moving)
    moved = conn.compute.wait_for_server(moving, status="ACTIVE", interval=0.5, wait=60)
    assert conn.compute.get_server(moved.id).compute_host == "node-2"
