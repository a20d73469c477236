"""``overcast up``: clean stop on Ctrl-C, data kept across restarts, idempotent bootstrap."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from tests.functional.cloud import OVERCAST, start_cloud

pytestmark = pytest.mark.functional


def test_restart_keeps_data_and_tokens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cloud = start_cloud(data)
    token, _ = cloud.admin_token()
    headers = {"X-Auth-Token": token}
    created = httpx.post(
        f"{cloud.auth_url}/projects", headers=headers, json={"project": {"name": "kept"}}
    )
    assert created.status_code == 201
    assert cloud.process is not None
    cloud.process.send_signal(signal.SIGINT)
    assert cloud.process.wait(timeout=30) == 0

    again = start_cloud(data, port=int(cloud.auth_url.split(":")[-1].split("/")[0]))
    try:
        shown = httpx.get(
            f"{again.auth_url}/projects/{created.json()['project']['id']}", headers=headers
        )
        assert shown.status_code == 200, "a token issued before the restart must still be valid"
        assert shown.json()["project"]["name"] == "kept"
    finally:
        again.stop()


def test_client_files_point_at_the_cloud(tmp_path: Path) -> None:
    cloud = start_cloud(tmp_path / "data")
    try:
        clouds = yaml.safe_load(cloud.clouds_yaml.read_text())["clouds"]
        assert set(clouds) == {"overcast-admin", "overcast-demo"}
        assert clouds["overcast-admin"]["auth"]["auth_url"] == cloud.auth_url
        assert oct(cloud.clouds_yaml.stat().st_mode & 0o777) == "0o600"
        openrc = (tmp_path / "data" / "openrc").read_text()
        assert f"export OS_AUTH_URL={cloud.auth_url}" in openrc
        assert "Overcast is up" in cloud.log.read_text()
    finally:
        cloud.stop()


def test_bootstrap_is_idempotent(tmp_path: Path) -> None:
    env = {**os.environ, "OVERCAST_IDENTITY__PASSWORD_HASH_ROUNDS": "4"}
    command = [str(OVERCAST), "bootstrap", "--data-dir", str(tmp_path / "data")]
    for _ in range(2):
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "identity.db") as db:
        roles = [r[0] for r in db.execute("SELECT name FROM role ORDER BY name")]
        users = [r[0] for r in db.execute("SELECT name FROM user ORDER BY name")]
    assert roles == ["ResellerAdmin", "admin", "manager", "member", "reader", "service"]
    assert users == ["admin", "demo"]


def test_a_typo_in_the_configuration_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "OVERCAST_IDENTITY__PORTT": "1"}
    result = subprocess.run(
        [str(OVERCAST), "up", "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "identity.portt" in result.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    cloud = start_cloud(tmp_path / "one")
    try:
        port = cloud.auth_url.split(":")[-1].split("/")[0]
        env = {
            **os.environ,
            "OVERCAST_IDENTITY__PORT": port,
            "OVERCAST_IDENTITY__PASSWORD_HASH_ROUNDS": "4",
        }
        result = subprocess.run(
            [str(OVERCAST), "up", "--data-dir", str(tmp_path / "two")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    finally:
        cloud.stop()
