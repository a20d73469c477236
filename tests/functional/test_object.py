"""Object storage in a real ``overcast up``: the ``swift`` CLI, swiftclient and ``openstack``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import swiftclient.client as swift_client
from keystoneauth1 import session
from keystoneauth1.identity import v3

from tests.functional.clients import cli, name
from tests.functional.cloud import RunningCloud

SWIFT = Path(sys.executable).with_name("swift")


def swift(cloud: RunningCloud, *args: str, cwd: Path | None = None) -> str:
    """The ``swift`` CLI as the demo user (v3 auth against the cloud's identity)."""
    env = {
        **os.environ,
        "OS_AUTH_URL": cloud.auth_url,
        "OS_USERNAME": "demo",
        "OS_PASSWORD": cloud.demo_password,
        "OS_PROJECT_NAME": "demo",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
    }
    result = subprocess.run(
        [str(SWIFT), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"swift {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def test_the_swift_cli_uploads_lists_downloads_and_shares(
    running_cloud: RunningCloud, tmp_path: Path
) -> None:
    box = name("photos")
    source = tmp_path / "up"
    (source / "2026").mkdir(parents=True)
    body = os.urandom(300_000)
    (source / "2026" / "a.jpg").write_bytes(body)
    (source / "notes.txt").write_text("hello\n")
    swift(running_cloud, "upload", box, "2026/a.jpg", "notes.txt", cwd=source)
    assert swift(running_cloud, "list", box).split() == ["2026/a.jpg", "notes.txt"]
    assert swift(running_cloud, "list", box, "--prefix", "2026/").split() == ["2026/a.jpg"]
    stat = swift(running_cloud, "stat", box)
    assert "Objects: 2" in stat
    down = tmp_path / "down"
    down.mkdir()
    swift(running_cloud, "download", box, "2026/a.jpg", cwd=down)
    assert (
        hashlib.md5((down / "2026" / "a.jpg").read_bytes()).digest() == hashlib.md5(body).digest()
    )
    url = swift(running_cloud, "auth").split("OS_STORAGE_URL=")[1].split()[0]
    assert httpx.get(f"{url}/{box}/notes.txt").status_code == 401
    swift(running_cloud, "post", box, "--read-acl", ".r:*")
    public = httpx.get(f"{url}/{box}/notes.txt")
    assert (public.status_code, public.text) == (200, "hello\n")


def test_swiftclient_and_the_openstack_cli(running_cloud: RunningCloud) -> None:
    auth = v3.Password(
        auth_url=running_cloud.auth_url,
        username="demo",
        password=running_cloud.demo_password,
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    conn = swift_client.Connection(session=session.Session(auth=auth))
    box = name("sc")
    conn.put_container(box, headers={"X-Storage-Policy": "silver"})
    etag = conn.put_object(box, "o", contents=b"data", content_type="text/plain")
    assert etag == hashlib.md5(b"data").hexdigest()
    headers, got = conn.get_object(box, "o")
    assert got == b"data" and headers["content-type"] == "text/plain"
    assert conn.head_container(box)["x-storage-policy"] == "silver"
    listed = cli(running_cloud, "object", "list", box, cloud_name="overcast-demo")
    assert [o["Name"] for o in listed] == ["o"]
    other = name("cli")
    cli(running_cloud, "container", "create", other, cloud_name="overcast-demo")
    containers = cli(running_cloud, "container", "list", cloud_name="overcast-demo")
    assert {box, other} <= {c["Name"] for c in containers}
    conn.delete_object(box, "o")
    conn.delete_container(box)
    assert box not in {c["name"] for c in conn.get_account()[1]}


def test_segmented_uploads_and_temp_urls(running_cloud: RunningCloud, tmp_path: Path) -> None:
    box = name("big")
    body = os.urandom(2_500_000)
    (tmp_path / "big.iso").write_bytes(body)
    swift(running_cloud, "upload", box, "big.iso", "--segment-size", "1000000", "--use-slo",
          cwd=tmp_path)  # fmt: skip
    assert "Manifest:" not in swift(running_cloud, "stat", box, "big.iso")  # an SLO
    segments = swift(running_cloud, "list", f"{box}_segments").split()
    assert len(segments) == 3
    down = tmp_path / "down"
    down.mkdir()
    swift(running_cloud, "download", box, "big.iso", cwd=down)
    assert (down / "big.iso").read_bytes() == body

    swift(running_cloud, "post", "-m", "Temp-URL-Key:secret")
    url = swift(running_cloud, "auth").split("OS_STORAGE_URL=")[1].split()[0]
    path = httpx.URL(f"{url}/{box}/big.iso").path
    signed = swift(running_cloud, "tempurl", "GET", "60", path, "secret").strip()
    origin = httpx.URL(url)
    got = httpx.get(f"{origin.scheme}://{origin.netloc.decode()}{signed}")
    assert got.status_code == 200 and got.content == body
    assert httpx.get(f"{url}/{box}/big.iso").status_code == 401  # without the signature
