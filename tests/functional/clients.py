"""The real ``openstack`` CLI, run against a :class:`RunningCloud`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.functional.cloud import RunningCloud

OPENSTACK = Path(sys.executable).with_name("openstack")


def cli(
    cloud: RunningCloud,
    *args: str,
    cloud_name: str = "overcast-admin",
    env: dict[str, str] | None = None,
) -> Any:
    """Run ``openstack --os-cloud NAME ARGS -f json`` and return the parsed output."""
    environ = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml), **(env or {})}
    command = [str(OPENSTACK)]
    if cloud_name:
        command += ["--os-cloud", cloud_name]
    command += list(args)
    wants_json = args[-1] not in ("--quiet",) and any(
        a in ("list", "show", "create", "issue") for a in args
    )
    if wants_json:
        command += ["-f", "json"]
    result = subprocess.run(
        command, env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr}"
    return json.loads(result.stdout) if wants_json and result.stdout.strip() else result.stdout


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def public_raw_image(cloud: RunningCloud, directory: Path, prefix: str = "bootable") -> str:
    """A public 1 MiB raw image made with ``image create``; its id."""
    disk = directory / "disk.raw"
    disk.write_bytes(bytes(1 << 20))
    image = cli(
        cloud,
        "image",
        "create",
        "--public",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--file",
        str(disk),
        name(prefix),
    )
    return str(image["id"])
