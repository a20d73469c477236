"""A real ``overcast up`` process on free ports, for functional tests, Tempest and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ADMIN_PASSWORD = "functional-admin-pw"
DEMO_PASSWORD = "functional-demo-pw"
OVERCAST = Path(sys.executable).with_name("overcast")


class CloudFailed(RuntimeError):
    """The cloud process exited or never answered."""


def password_auth(user: str, password: str, project: str) -> dict[str, Any]:
    """A token request by names in the default domain, scoped to ``project``."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }


def public_url(token: dict[str, Any], service_type: str) -> str:
    """The public endpoint of ``service_type`` in a token's catalog."""
    return next(
        endpoint["url"]
        for entry in token["catalog"]
        if entry["type"] == service_type
        for endpoint in entry["endpoints"]
        if endpoint["interface"] == "public"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningCloud:
    auth_url: str
    admin_password: str
    demo_password: str = ""
    data_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    image_url: str | None = None

    @classmethod
    def external(cls, auth_url: str, admin_password: str) -> RunningCloud:
        return cls(auth_url.rstrip("/"), admin_password)

    @property
    def clouds_yaml(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "clouds.yaml"

    @property
    def log(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "overcast.log"

    def token(self, user: str, password: str, project: str) -> tuple[str, dict[str, Any]]:
        """A project-scoped token: its id and its body (with the catalog)."""
        body = password_auth(user, password, project)
        response = httpx.post(f"{self.auth_url}/auth/tokens", json=body, timeout=30)
        response.raise_for_status()
        return response.headers["X-Subject-Token"], response.json()["token"]

    def admin_token(self) -> tuple[str, dict[str, Any]]:
        return self.token("admin", self.admin_password, "admin")

    def catalog_types(self) -> list[str]:
        _, token = self.admin_token()
        return [entry["type"] for entry in token["catalog"]]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGINT to every process, then wait for each (killing one that does not stop)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGINT)
    for process in running:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_cloud(
    data_dir: Path,
    *,
    workers: int = 1,
    compliance: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 90,
) -> RunningCloud:
    """``overcast up`` on ``data_dir`` (on ``port``, or a free one); returns once it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    image_port = free_port()
    environ = {
        **os.environ,
        "OVERCAST_IDENTITY__PORT": str(port),
        "OVERCAST_IMAGE__PORT": str(image_port),
        "OVERCAST_COMPUTE__PORT": str(free_port()),
        "OVERCAST_OBJECT__PORT": str(free_port()),
        "OVERCAST_OBJECT__OBJECT_PORT": str(free_port()),
        "OVERCAST_OBJECT__CONTAINER_PORT": str(free_port()),
        "OVERCAST_OBJECT__ACCOUNT_PORT": str(free_port()),
        "OVERCAST_BOOTSTRAP__ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OVERCAST_BOOTSTRAP__DEMO_PASSWORD": DEMO_PASSWORD,
        **(env or {}),
    }
    if compliance:
        environ["OVERCAST_IDENTITY__SECURITY_COMPLIANCE"] = json.dumps(compliance)
    log = (data_dir / "overcast.log").open("ab")
    process = subprocess.Popen(
        [str(OVERCAST), "up", "--data-dir", str(data_dir), "--workers", str(workers)],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    cloud = RunningCloud(
        f"http://127.0.0.1:{port}/v3",
        ADMIN_PASSWORD,
        DEMO_PASSWORD,
        data_dir,
        process,
        environ,
        image_url=f"http://127.0.0.1:{image_port}",
    )
    wait_ready(cloud, timeout)
    return cloud


def wait_ready(cloud: RunningCloud, timeout: float) -> None:
    """Return once the identity (and image) API answer; stop the cloud if it never does."""
    deadline = time.monotonic() + timeout
    assert cloud.process is not None
    while time.monotonic() < deadline:
        if cloud.process.poll() is not None:
            raise CloudFailed(
                f"overcast exited with {cloud.process.returncode}:\n{cloud.log.read_text()}"
            )
        try:
            if httpx.get(cloud.auth_url, timeout=2).status_code == 200 and (
                cloud.image_url is None or httpx.get(cloud.image_url, timeout=2).status_code == 300
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    cloud.stop()
    raise CloudFailed(f"overcast did not answer within {timeout} s:\n{cloud.log.read_text()}")
