"""Servers with the real ``openstack`` CLI and openstacksdk against a real ``overcast up``
(in-process bus, one fake-driver compute agent in the same process)."""

from __future__ import annotations

from pathlib import Path

import openstack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.functional.clients import cli, name
from tests.functional.cloud import RunningCloud

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def bootable(running_cloud: RunningCloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("img") / "disk.raw"
    disk.write_bytes(bytes(1 << 20))
    image = cli(
        running_cloud,
        "image",
        "create",
        "--public",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--file",
        str(disk),
        name("bootable"),
    )
    return str(image["id"])


def public_key_file(directory: Path) -> Path:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    path = directory / "id_ed25519.pub"
    text = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path.write_bytes(text + b" me@example\n")
    return path


def test_keypair_server_create_list_show_delete(
    running_cloud: RunningCloud, bootable: str, tmp_path: Path
) -> None:
    demo = {"cloud_name": "overcast-demo"}
    key = name("k")
    created = cli(
        running_cloud,
        "keypair",
        "create",
        "--public-key",
        str(public_key_file(tmp_path)),
        key,
        **demo,
    )
    assert created["name"] == key
    vm = name("vm")
    server = cli(
        running_cloud,
        "server",
        "create",
        "--image",
        bootable,
        "--flavor",
        "m1.small",
        "--key-name",
        key,
        "--wait",
        vm,
        **demo,
    )
    assert server["status"] == "ACTIVE"
    listed = cli(running_cloud, "server", "list", **demo)
    assert [(s["Name"], s["Status"]) for s in listed if s["Name"] == vm] == [(vm, "ACTIVE")]
    shown = cli(running_cloud, "server", "show", vm, **demo)
    assert shown["key_name"] == key
    assert shown["flavor"]["original_name"] == "m1.small"
    cli(running_cloud, "server", "delete", "--wait", vm, **demo)
    assert all(s["Name"] != vm for s in cli(running_cloud, "server", "list", **demo))


def test_flavors_are_there_for_everyone(running_cloud: RunningCloud) -> None:
    flavors = cli(running_cloud, "flavor", "list", cloud_name="overcast-demo")
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= {
        f["Name"] for f in flavors
    }


def test_sdk_boots_ten_servers_in_one_request(
    running_cloud: RunningCloud, bootable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(running_cloud.clouds_yaml))
    conn = openstack.connect(cloud="overcast-admin")
    flavor = conn.compute.find_flavor("m1.tiny")
    base = name("many")
    conn.compute.create_server(
        name=base,
        image_id=bootable,
        flavor_id=flavor.id,
        networks="none",
        min_count=10,
        max_count=10,
    )
    servers = [s for s in conn.compute.servers() if s.name.startswith(base)]
    assert len(servers) == 10  # the default quota (Nova's: 10 instances)
    for server in servers:
        conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.2, wait=60)
