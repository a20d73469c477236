"""The real Keystone from PyPI, in its own venv, run the way the benchmark compares against.

SQLite, Fernet tokens, bcrypt at Keystone's default cost, its in-process cache
on (dogpile memory backend) and uWSGI with two worker processes, as
``shared/anchors/keystone`` runs it. uWSGI's ``--http-socket`` closes the
connection after every response without announcing it (no ``Connection: close``),
so a client sees a read error *after* each complete response; the benchmark
reports those separately from failed requests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

VERSION = "30.0.0"
ADMIN_PASSWORD = "keystone-bench-admin"


def home() -> Path:
    default = Path.home() / ".cache" / "overcast" / "bench" / f"keystone-{VERSION}"
    return Path(os.environ.get("KEYSTONE_BENCH_HOME", default))


def install(root: Path) -> Path:
    """Keystone and uWSGI in ``root/venv`` (reused between runs); returns the venv's bin."""
    venv = root / "venv"
    marker = venv / f".keystone-{VERSION}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"keystone=={VERSION}", "uwsgi"],
            check=True,
            capture_output=True,
        )
        marker.touch()
    return venv / "bin"


CONF = """\
[DEFAULT]
log_file = {root}/keystone.log
[database]
connection = sqlite:///{root}/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = {root}/fernet-keys
[fernet_receipts]
key_repository = {root}/fernet-keys
[credential]
key_repository = {root}/credential-keys
[identity]
password_hash_algorithm = bcrypt
[cache]
enabled = true
backend = dogpile.cache.memory
"""


@dataclass
class Keystone:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(work: Path, port: int, workers: int = 2) -> Keystone:
    """A freshly bootstrapped Keystone on ``127.0.0.1:port``."""
    bin_dir = install(home())
    work.mkdir(parents=True, exist_ok=True)
    for name in ("fernet-keys", "credential-keys"):
        (work / name).mkdir(mode=0o700, exist_ok=True)
    conf = work / "keystone.conf"
    conf.write_text(CONF.format(root=work))
    manage = [str(bin_dir / "keystone-manage"), "--config-file", str(conf)]
    user, group = str(os.getuid()), str(os.getgid())
    for step in (
        ["db_sync"],
        ["fernet_setup", "--keystone-user", user, "--keystone-group", group],
        ["credential_setup", "--keystone-user", user, "--keystone-group", group],
        [
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-region-id",
            "RegionOne",
            "--bootstrap-public-url",
            f"http://127.0.0.1:{port}/v3/",
        ],
    ):
        subprocess.run(manage + step, check=True, capture_output=True)
    log = (work / "uwsgi.log").open("ab")
    process = subprocess.Popen(
        [
            str(bin_dir / "uwsgi"),
            "--master",
            "--http-socket",
            f"127.0.0.1:{port}",
            "--processes",
            str(workers),
            "--threads",
            "1",
            "--enable-threads",
            "--lazy-apps",
            "--virtualenv",
            str(bin_dir.parent),
            "--module",
            "keystone.wsgi.api:application",
            "--env",
            f"OS_KEYSTONE_CONFIG_FILES={conf}",
            "--die-on-term",
            "--disable-logging",
            "--buffer-size",
            "65535",
            "--listen",
            "1024",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    keystone = Keystone(f"http://127.0.0.1:{port}/v3", process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"keystone exited: see {work / 'uwsgi.log'}")
        try:
            if httpx.get(keystone.url, timeout=2).status_code == 200:
                return keystone
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    keystone.stop()
    raise RuntimeError("keystone did not come up")
