"""The image service for real: the ``openstack image`` commands and openstacksdk, big files,
an upload cut off mid-stream, seed images, and data kept across a restart."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openstack
import pytest

from tests.functional.clients import cli, name
from tests.functional.cloud import RunningCloud, start_cloud

pytestmark = pytest.mark.functional
MIB = 1 << 20


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def tool_digest(tool: str, path: Path) -> str:
    """What ``md5sum``/``sha512sum`` print for ``path``."""
    output = subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout
    return output.split()[0]


@pytest.fixture(scope="module")
def image_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    data = tmp_path_factory.mktemp("image-cloud") / "data"
    seeds = data / "seed-images"
    seeds.mkdir(parents=True)
    qemu_img("create", "-f", "qcow2", str(seeds / "tiny-bootable.qcow2"), "64M")
    cloud = start_cloud(data)
    yield cloud
    cloud.stop()


@pytest.fixture(scope="module")
def qcow2_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-megabyte qcow2 with real (random) data in it."""
    folder = tmp_path_factory.mktemp("disks")
    raw = folder / "disk.raw"
    raw.write_bytes(os.urandom(24 * MIB))
    disk = folder / "disk.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(raw), str(disk))
    return disk


def test_the_cli_round_trip_is_byte_identical(
    image_cloud: RunningCloud, qcow2_disk: Path, tmp_path: Path
) -> None:
    image_name = name("mydisk")
    created = cli(
        image_cloud,
        "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
        "--file", str(qcow2_disk), "--property", "os_distro=debian", image_name,
        cloud_name="overcast-demo",
    )  # fmt: skip
    assert created["status"] == "active" and created["size"] == qcow2_disk.stat().st_size
    assert created["checksum"] == tool_digest("md5sum", qcow2_disk)
    properties = created["properties"]
    assert properties["os_hash_algo"] == "sha512"
    assert properties["os_hash_value"] == tool_digest("sha512sum", qcow2_disk)
    assert properties["os_distro"] == "debian"
    assert created["virtual_size"] == 24 * MIB

    listed = cli(image_cloud, "image", "list", cloud_name="overcast-demo")
    assert image_name in {row["Name"] for row in listed}
    cli(image_cloud, "image", "set", "--tag", "x", image_name, cloud_name="overcast-demo")
    shown = cli(image_cloud, "image", "show", image_name, cloud_name="overcast-demo")
    assert shown["tags"] == ["x"] or shown["tags"] == "x"

    out = tmp_path / "out.qcow2"
    cli(image_cloud, "image", "save", "--file", str(out), image_name, cloud_name="overcast-demo")
    assert out.read_bytes() == qcow2_disk.read_bytes()


def test_visibility_rules_hold_for_the_cli(image_cloud: RunningCloud) -> None:
    public = name("public")
    refused = subprocess_cli(
        image_cloud, "overcast-demo",
        "image", "create", "--public", "--disk-format", "raw", "--container-format", "bare", public,
    )  # fmt: skip
    assert refused.returncode != 0 and "publicize_image" in refused.stderr
    created = cli(
        image_cloud,
        "image", "create", "--public", "--disk-format", "raw", "--container-format", "bare", public,
    )  # fmt: skip
    assert created["visibility"] == "public"
    seen = cli(image_cloud, "image", "list", "--public", cloud_name="overcast-demo")
    assert public in {row["Name"] for row in seen}
    private = name("private")
    cli(
        image_cloud,
        "image", "create", "--private", "--disk-format", "raw", "--container-format", "bare",
        private, cloud_name="overcast-demo",
    )  # fmt: skip
    admins_projects_view = cli(image_cloud, "image", "list", "--private", "--project", "demo")
    assert private in {row["Name"] for row in admins_projects_view}


def subprocess_cli(
    cloud: RunningCloud, cloud_name: str, *args: str
) -> subprocess.CompletedProcess[str]:
    from tests.functional.clients import OPENSTACK

    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    return subprocess.run(
        [str(OPENSTACK), "--os-cloud", cloud_name, *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_sharing_with_another_project(image_cloud: RunningCloud) -> None:
    image_name = name("shared")
    image = cli(
        image_cloud,
        "image", "create", "--disk-format", "raw", "--container-format", "bare", image_name,
        cloud_name="overcast-demo",
    )  # fmt: skip
    admin_project = cli(image_cloud, "project", "show", "admin")["id"]
    cli(
        image_cloud,
        "image",
        "add",
        "project",
        image_name,
        admin_project,
        cloud_name="overcast-demo",
    )
    members = cli(image_cloud, "image", "member", "list", image_name, cloud_name="overcast-demo")
    assert [(m["Member ID"], m["Status"]) for m in members] == [(admin_project, "pending")]
    cli(image_cloud, "image", "set", "--accept", image["id"])
    members = cli(image_cloud, "image", "member", "list", image_name, cloud_name="overcast-demo")
    assert members[0]["Status"] == "accepted"
    cli(
        image_cloud,
        "image",
        "remove",
        "project",
        image_name,
        admin_project,
        cloud_name="overcast-demo",
    )
    assert cli(image_cloud, "image", "member", "list", image_name, cloud_name="overcast-demo") == []


def test_openstacksdk_streams_big_images_both_ways(
    image_cloud: RunningCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = os.urandom(40 * MIB)
    source = tmp_path / "big.raw"
    source.write_bytes(payload)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(image_cloud.clouds_yaml))
    conn = openstack.connect(cloud="overcast-demo")
    try:
        image = conn.image.create_image(
            name=name("sdk"), filename=str(source), disk_format="raw", container_format="bare",
            wait=True,
        )  # fmt: skip
        image = conn.image.get_image(image.id)
        assert image.status == "active" and image.size == len(payload)
        assert image.checksum == hashlib.md5(payload).hexdigest()
        digest = hashlib.md5()
        response = conn.image.download_image(image, stream=True)
        for chunk in response.iter_content(chunk_size=MIB):
            digest.update(chunk)
        assert digest.hexdigest() == image.checksum
        conn.image.delete_image(image)
        assert conn.image.find_image(image.id) is None
    finally:
        conn.close()


def test_an_upload_cut_off_mid_stream_leaves_a_retryable_image(image_cloud: RunningCloud) -> None:
    token, _ = image_cloud.admin_token()
    url = image_cloud.image_url
    assert url is not None
    headers = {"X-Auth-Token": token}
    created = httpx.post(
        f"{url}/v2/images", headers=headers, json={"disk_format": "raw", "container_format": "bare"}
    )
    image_id = created.json()["id"]
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = (
            f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {64 * MIB}\r\n\r\n"
        )
        sock.sendall(head.encode() + os.urandom(8 * MIB))
        wait_for(lambda: status(url, headers, image_id) == "saving")
    wait_for(lambda: status(url, headers, image_id) == "queued")
    assert image_cloud.data_dir is not None
    partial = image_cloud.data_dir / "images" / ".partial"
    wait_for(lambda: not any(partial.iterdir()))
    again = httpx.put(
        f"{url}/v2/images/{image_id}/file",
        headers={**headers, "Content-Type": "application/octet-stream"},
        content=b"whole data",
    )
    assert again.status_code == 204 and status(url, headers, image_id) == "active"


def status(url: str, headers: dict[str, str], image_id: str) -> str:
    shown: str = httpx.get(f"{url}/v2/images/{image_id}", headers=headers).json()["status"]
    return shown


def wait_for(condition, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_seed_images_are_public_and_kept_across_a_restart(image_cloud: RunningCloud) -> None:
    seeded = cli(image_cloud, "image", "show", "tiny-bootable", cloud_name="overcast-demo")
    assert seeded["visibility"] == "public" and seeded["disk_format"] == "qcow2"
    assert seeded["virtual_size"] == 64 * MIB and seeded["status"] == "active"
    assert image_cloud.process is not None
    image_cloud.stop()
    port = int(image_cloud.auth_url.split(":")[-1].split("/")[0])
    assert image_cloud.data_dir is not None
    again = start_cloud(image_cloud.data_dir, port=port)
    try:
        images = cli(again, "image", "list", "--public", cloud_name="overcast-demo")
        assert [row["Name"] for row in images].count("tiny-bootable") == 1
        out = httpx.get(
            f"{again.image_url}/v2/images/{seeded['id']}/file",
            headers={"X-Auth-Token": again.admin_token()[0]},
        )
        assert hashlib.md5(out.content).hexdigest() == seeded["checksum"]
    finally:
        again.stop()
