"""Two real worker processes on the embedded SQLite database.

The real Keystone on SQLite with two workers drops requests ("database is
locked") under concurrent writes and keeps revoked tokens alive in the other
worker's cache; neither may happen here.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import openstack
import pytest

from tests.functional.clients import name, public_raw_image
from tests.functional.cloud import RunningCloud, password_auth

pytestmark = pytest.mark.functional
CONCURRENCY = 16


async def gather_limited(calls: list, limit: int = CONCURRENCY) -> list[httpx.Response]:  # type: ignore[type-arg]
    semaphore = asyncio.Semaphore(limit)

    async def run(call):  # type: ignore[no-untyped-def]
        async with semaphore:
            return await call()

    return await asyncio.gather(*(run(c) for c in calls))


def fresh_client() -> httpx.AsyncClient:
    """A client that opens a new connection for every request (so requests spread over workers)."""
    return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=60)


async def test_concurrent_writes_all_succeed(two_worker_cloud: RunningCloud) -> None:
    token, _ = two_worker_cloud.admin_token()
    base, headers = two_worker_cloud.auth_url, {"X-Auth-Token": token}
    tag = uuid.uuid4().hex[:6]
    async with fresh_client() as client:
        creates = [
            (
                lambda i=i: client.post(
                    f"{base}/projects", headers=headers, json={"project": {"name": f"p{tag}-{i}"}}
                )
            )
            for i in range(60)
        ] + [
            (
                lambda i=i: client.post(
                    f"{base}/users",
                    headers=headers,
                    json={"user": {"name": f"u{tag}-{i}", "password": "x"}},
                )
            )
            for i in range(60)
        ]
        responses = await gather_limited(creates)
        assert [r.status_code for r in responses] == [201] * 120
        projects = [r.json()["project"]["id"] for r in responses[:60]]
        deletes = [
            (lambda p=p: client.delete(f"{base}/projects/{p}", headers=headers)) for p in projects
        ]
        assert {r.status_code for r in await gather_limited(deletes)} == {204}
        listed = (await client.get(f"{base}/projects", headers=headers)).json()["projects"]
        assert not [p for p in listed if p["name"].startswith(f"p{tag}-")]


async def test_revoked_token_is_rejected_by_every_worker(two_worker_cloud: RunningCloud) -> None:
    admin, _ = two_worker_cloud.admin_token()
    base = two_worker_cloud.auth_url
    body = password_auth("demo", two_worker_cloud.demo_password, "demo")
    async with fresh_client() as client:
        issued = await client.post(f"{base}/auth/tokens", json=body)
        subject = issued.headers["X-Subject-Token"]
        headers = {"X-Auth-Token": admin, "X-Subject-Token": subject}

        def validate():  # type: ignore[no-untyped-def]
            return client.get(f"{base}/auth/tokens", headers=headers)

        warm = await gather_limited([validate for _ in range(40)], limit=4)
        assert {r.status_code for r in warm} == {200}
        revoked = await client.delete(
            f"{base}/auth/tokens", headers={"X-Auth-Token": subject, "X-Subject-Token": subject}
        )
        assert revoked.status_code == 204
        after = await gather_limited([validate for _ in range(40)], limit=4)
        assert {r.status_code for r in after} == {404}


def test_servers_boot_through_the_first_workers_bus(
    two_worker_cloud: RunningCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compute API runs in the second worker; its casts and calls reach the engines in the
    first one through the relay: servers boot, answer a call (console output), and go."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(two_worker_cloud.clouds_yaml))
    conn = openstack.connect(cloud="overcast-admin")
    image = public_raw_image(two_worker_cloud, tmp_path)
    flavor = conn.compute.find_flavor("m1.tiny")
    base = name("relayed")
    for index in range(6):
        conn.compute.create_server(
            name=f"{base}-{index}", image_id=image, flavor_id=flavor.id, networks="none"
        )
    servers = [s for s in conn.compute.servers() if s.name.startswith(base)]
    assert len(servers) == 6
    for server in servers:
        active = conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
        assert active.compute_host
    assert isinstance(conn.compute.get_server_console_output(servers[0])["output"], str)
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.2, wait=60)
