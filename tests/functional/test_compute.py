"""Servers with the real ``openstack`` CLI and openstacksdk against a real ``overcast up``
(in-process bus, one fake-driver compute agent in the same process)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openstack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.functional.clients import cli, name, public_raw_image
from tests.functional.cloud import RunningCloud

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def bootable(running_cloud: RunningCloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    return public_raw_image(running_cloud, tmp_path_factory.mktemp("img"))


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


def test_sdk_boots_twenty_servers_in_one_request(
    running_cloud: RunningCloud, bootable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(running_cloud.clouds_yaml))
    conn = openstack.connect(cloud="overcast-admin")
    # Nova's default quota is 10 instances: raise the admin project's, as an operator would
    cli(running_cloud, "quota", "set", "--instances", "40", "--cores", "80", "admin")
    assert quota_of(running_cloud, "admin")["instances"] == 40
    flavor = conn.compute.find_flavor("m1.tiny")
    base = name("many")
    conn.compute.create_server(
        name=base,
        image_id=bootable,
        flavor_id=flavor.id,
        networks="none",
        min_count=20,
        max_count=20,
    )
    servers = [s for s in conn.compute.servers() if s.name.startswith(base)]
    assert len(servers) == 20
    for server in servers:
        conn.compute.wait_for_server(server, status="ACTIVE", interval=0.2, wait=60)
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.2, wait=60)


def quota_of(cloud: RunningCloud, *project: str, cloud_name: str = "overcast-admin") -> Any:
    """``quota show --compute`` as {resource: limit}."""
    rows = cli(cloud, "quota", "show", "--compute", *project, cloud_name=cloud_name)
    return {row["Resource"]: row["Limit"] for row in rows}


def wait_status(cloud: RunningCloud, server: str, status: str, **who: str) -> dict[str, Any]:
    """``server show`` until the server's status is ``status`` (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        shown: dict[str, Any] = cli(cloud, "server", "show", server, **who)
        if shown["status"] == status:
            return shown
        assert shown["status"] != "ERROR", shown
        assert time.monotonic() < deadline, f"{server} is still {shown['status']}"
        time.sleep(0.2)


def test_server_lifecycle_with_the_cli(running_cloud: RunningCloud, bootable: str) -> None:
    demo = {"cloud_name": "overcast-demo"}
    vm = name("life")
    create = ("server", "create", "--image", bootable, "--flavor", "m1.tiny", "--wait", vm)
    assert cli(running_cloud, *create, **demo)["status"] == "ACTIVE"
    steps = [
        (("server", "stop", vm), "SHUTOFF"),
        (("server", "start", vm), "ACTIVE"),
        (("server", "reboot", "--wait", vm), "ACTIVE"),
        (("server", "reboot", "--hard", "--wait", vm), "ACTIVE"),
        (("server", "pause", vm), "PAUSED"),
        (("server", "unpause", vm), "ACTIVE"),
        (("server", "suspend", vm), "SUSPENDED"),
        (("server", "resume", vm), "ACTIVE"),
        (("server", "shelve", "--wait", vm), "SHELVED_OFFLOADED"),
        (("server", "unshelve", "--wait", vm), "ACTIVE"),
        (("server", "rebuild", "--image", bootable, "--wait", vm), "ACTIVE"),
    ]
    for command, status in steps:
        cli(running_cloud, *command, **demo)
        wait_status(running_cloud, vm, status, **demo)
    cli(running_cloud, "server", "lock", vm, **demo)
    assert cli(running_cloud, "server", "show", vm, **demo)["locked"] is True
    cli(running_cloud, "server", "unlock", vm, **demo)
    renamed = name("renamed")
    cli(running_cloud, "server", "set", "--name", renamed, "--property", "a=b", vm, **demo)
    shown = cli(running_cloud, "server", "show", renamed, **demo)
    assert shown["properties"] == {"a": "b"}
    snapshot = cli(
        running_cloud,
        "server",
        "image",
        "create",
        "--name",
        name("snap"),
        "--wait",
        renamed,
        **demo,
    )
    assert cli(running_cloud, "image", "show", snapshot["id"], **demo)["status"] == "active"
    actions = cli(running_cloud, "server", "event", "list", renamed, **demo)
    assert {"create", "stop", "shelve", "rebuild", "createImage"} <= {a["Action"] for a in actions}
    cli(running_cloud, "server", "delete", "--wait", renamed, **demo)


def test_server_group_hint_quota_and_limits(running_cloud: RunningCloud, bootable: str) -> None:
    demo = {"cloud_name": "overcast-demo"}
    group = cli(
        running_cloud, "server", "group", "create", "--policy", "anti-affinity", name("g"), **demo
    )
    vm = name("grouped")
    server = cli(
        running_cloud,
        "server",
        "create",
        "--image",
        bootable,
        "--flavor",
        "m1.tiny",
        "--hint",
        f"group={group['id']}",
        "--wait",
        vm,
        **demo,
    )
    assert server["status"] == "ACTIVE"
    members = cli(running_cloud, "server", "group", "show", group["id"], **demo)["members"]
    assert server["id"] in str(members)
    assert quota_of(running_cloud, cloud_name="overcast-demo")["instances"] == 10
    limits = cli(running_cloud, "limits", "show", "--absolute", **demo)
    used = {item["Name"]: item["Value"] for item in limits}
    assert used["instances"] == 10
    assert used["instances_used"] >= 1
    cli(running_cloud, "server", "delete", "--wait", vm, **demo)
    cli(running_cloud, "server", "group", "delete", group["id"], **demo)


def test_admin_sees_hypervisors_hosts_services_and_makes_aggregates(
    running_cloud: RunningCloud,
) -> None:
    hypervisors = cli(running_cloud, "hypervisor", "list")
    assert hypervisors and hypervisors[0]["State"] == "up"
    services = cli(running_cloud, "compute", "service", "list")
    assert {"nova-compute", "nova-conductor", "nova-scheduler"} <= {s["Binary"] for s in services}
    assert all(s["State"] == "up" for s in services)
    hosts = cli(running_cloud, "host", "list")
    assert "compute" in {h["Service"] for h in hosts}
    aggregate = cli(running_cloud, "aggregate", "create", "--zone", "az-1", name("agg"))
    assert aggregate["availability_zone"] == "az-1"
    compute_host = next(s["Host"] for s in services if s["Binary"] == "nova-compute")
    cli(running_cloud, "aggregate", "add", "host", aggregate["name"], compute_host)
    zones = cli(running_cloud, "availability", "zone", "list", "--compute")
    assert "az-1" in {z["Zone Name"] for z in zones}
    cli(running_cloud, "aggregate", "remove", "host", aggregate["name"], compute_host)
    cli(running_cloud, "aggregate", "delete", aggregate["name"])
