"""The real Nova (34.0.0, fake virt driver) from ``shared/anchors/nova``, for side-by-side runs.

Its scripts install Nova, Placement, Glance and Keystone from PyPI into their own
venv, with their own RabbitMQ and PostgreSQL on other ports (5673, 5433), and
start four fake-driver computes. Setting up takes tens of minutes the first time.

Its RabbitMQ node would read the machine's ``/etc/rabbitmq/rabbitmq.conf``, which
here pins ``listeners.tcp`` to the machine broker's 5672; the scripts run
``rabbitmq-server`` through ``su``, which keeps the environment, so
``RABBITMQ_CONFIG_FILE`` points it at an empty config of its own instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.functional.cloud import password_auth

ANCHOR = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "nova"
ADMIN_PASSWORD = os.environ.get("ADMIN_PASS", "adminpass")
KEYSTONE_PORT = int(os.environ.get("KS_PORT", "5001"))


SCRATCH = Path(os.environ.get("ANCHORS", "/tmp/nova-anchor"))


def _script(name: str, *args: str) -> None:
    subprocess.run(["bash", str(ANCHOR / name), *args], check=True, env=_environment())


def _environment() -> dict[str, str]:
    """This environment, with the anchor's broker on a config of its own."""
    config = SCRATCH / "rabbitmq-own" / "rabbitmq.conf"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("# the Nova anchor's broker: ports come from its environment\n")
    config.parent.chmod(0o755)
    config.chmod(0o644)
    return {**os.environ, "RABBITMQ_CONFIG_FILE": str(config)}


@contextmanager
def running() -> Iterator[tuple[str, dict[str, Any]]]:
    """Nova set up afresh and started; yields its auth URL and an admin password auth body."""
    if not ANCHOR.is_dir():
        raise SystemExit(f"the Nova anchor is not at {ANCHOR}")
    _script("setup.sh")  # a fresh deployment each time (the venvs are reused)
    _script("run.sh", "start")
    auth = password_auth("admin", ADMIN_PASSWORD, "admin")
    try:
        yield f"http://127.0.0.1:{KEYSTONE_PORT}/v3", auth
    finally:
        _script("run.sh", "stop")
