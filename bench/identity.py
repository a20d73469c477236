"""Identity benchmark: Overcast against the real Keystone, measured in the same run.

    python bench/identity.py [--repeat 3] [--quick]

Both run with two worker processes on SQLite, Fernet tokens and bcrypt at cost 12
(Keystone's default); Keystone with its in-process cache on. For each system and
concurrency (8, 32) it measures, as requests/s with p50/p99 latency and errors:

* ``password``: POST /v3/auth/tokens with the password method (bound by bcrypt);
* ``token``: POST /v3/auth/tokens with the token method (re-scoping, no hashing);
* ``validate``: GET /v3/auth/tokens (X-Subject-Token).

It also measures the machine's bare bcrypt rate (two processes checking cost-12
hashes), which bounds the password issue rate of any server here. The load comes
from wrk (a C client, so that the client is not what is measured); every request
opens a new connection, for both systems alike. The table shows medians of
``--repeat`` runs; JSON goes to bench/results/identity.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bcrypt
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load
from bench.peers import keystone
from tests.functional.cloud import free_port, start_cloud

RESULTS = Path(__file__).with_name("results")
CONCURRENCY = (8, 32)
BCRYPT_COST = 12


def _check_hashes(seconds: float) -> int:
    hashed = bcrypt.hashpw(b"benchmark-password", bcrypt.gensalt(BCRYPT_COST))
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        bcrypt.checkpw(b"benchmark-password", hashed)
        done += 1
    return done


def bare_bcrypt_rate(processes: int = 2, seconds: float = 6.0) -> float:
    """bcrypt checks per second with ``processes`` processes busy at once."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        started = time.perf_counter()
        counts = pool.map(_check_hashes, [seconds] * processes)
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed


def auth_body(password: str, *, token: str | None = None) -> dict[str, Any]:
    identity: dict[str, Any]
    if token is None:
        identity = {
            "methods": ["password"],
            "password": {
                "user": {"name": "admin", "domain": {"id": "default"}, "password": password}
            },
        }
    else:
        identity = {"methods": ["token"], "token": {"id": token}}
    return {
        "auth": {
            "identity": identity,
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }


def measure(url: str, password: str, args: argparse.Namespace) -> dict[str, Any]:
    admin = _token(url, auth_body(password))
    token_body = json.dumps(auth_body(password, token=admin))
    subjects = [_token(url, json.loads(token_body)) for _ in range(100)]
    password_body = json.dumps(auth_body(password))
    timed: dict[str, dict[str, Any]] = {
        "token": {"method": "POST", "bodies": [token_body]},
        "validate": {"headers": {"X-Auth-Token": admin}, "tokens": subjects},
    }
    target = f"{url}/auth/tokens"
    results: dict[str, Any] = {}
    for name in ("password", *timed):
        for concurrency in CONCURRENCY:
            if name == "password":
                samples = [
                    asyncio.run(
                        load.run_count(
                            target, password_body, args.password_requests, concurrency, 201
                        )
                    )
                    for _ in range(args.repeat)
                ]
            else:
                options = timed[name]
                load.run(target, connections=concurrency, seconds=2, **options)
                samples = [
                    load.run(target, connections=concurrency, seconds=args.seconds, **options)
                    for _ in range(args.repeat)
                ]
            results[f"{name}@{concurrency}"] = _summarise(name, concurrency, samples)
    return results


def _summarise(name: str, concurrency: int, samples: list[load.Sample]) -> dict[str, Any]:
    best = load.median_sample(samples)
    low, high = load.spread(samples)
    errors = sum(s.status_errors for s in samples)
    closes = sum(s.socket_errors for s in samples)
    print(
        f"  {name:<9} c={concurrency:<3} {best.rate:8.1f} req/s  p50 {best.p50_ms:7.1f} ms  "
        f"p99 {best.p99_ms:7.1f} ms  errors {errors}  socket errors {closes}",
        flush=True,
    )
    return {
        **asdict(best),
        "rate": round(best.rate, 1),
        "rate_min": round(low, 1),
        "rate_max": round(high, 1),
        "errors_total": errors,
        "socket_errors_total": closes,
        "requests_total": sum(s.requests for s in samples),
    }


def _token(url: str, body: dict[str, Any]) -> str:
    response = httpx.post(f"{url}/auth/tokens", json=body, timeout=60)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8, help="length of each measurement")
    parser.add_argument("--password-requests", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="short measurements, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.seconds, args.password_requests = 1, 4, 32

    print(f"bare bcrypt (cost {BCRYPT_COST}, 2 processes) ...", flush=True)
    bare = bare_bcrypt_rate()
    print(f"  {bare:.1f} checks/s")
    report: dict[str, Any] = {"bare_bcrypt_per_s": round(bare, 2), "settings": vars(args)}
    with tempfile.TemporaryDirectory(prefix="overcast-bench-") as tmp:
        print("Overcast (2 workers) ...", flush=True)
        cloud = start_cloud(Path(tmp) / "overcast", workers=2)
        try:
            report["overcast"] = measure(cloud.auth_url, cloud.admin_password, args)
        finally:
            cloud.stop()
        print(f"Keystone {keystone.VERSION} (uWSGI, 2 workers, cache on) ...", flush=True)
        peer = keystone.start(Path(tmp) / "keystone", free_port())
        try:
            report["keystone"] = measure(peer.url, keystone.ADMIN_PASSWORD, args)
        finally:
            peer.stop()
    report["ratios"] = {
        key: round(report["overcast"][key]["rate"] / report["keystone"][key]["rate"], 2)
        for key in report["overcast"]
    }
    report["password_vs_bare_bcrypt"] = {
        key: round(report["overcast"][key]["rate"] / bare, 3)
        for key in report["overcast"]
        if key.startswith("password")
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "identity.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'identity.json'}")
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\n{'test':<14}{'Overcast req/s':>16}{'Keystone req/s':>16}{'ratio':>8}"
        f"{'OC p50/p99 ms':>18}{'KS p50/p99 ms':>18}{'errors OC/KS':>14}"
    )
    for key, ratio in report["ratios"].items():
        oc, ks = report["overcast"][key], report["keystone"][key]
        print(
            f"{key:<14}{oc['rate']:>16.1f}{ks['rate']:>16.1f}{ratio:>7.2f}x"
            f"{oc['p50_ms']:>10.1f}/{oc['p99_ms']:<7.1f}{ks['p50_ms']:>10.1f}/{ks['p99_ms']:<7.1f}"
            f"{oc['errors_total']:>8}/{ks['errors_total']}"
        )
    for key, share in report["password_vs_bare_bcrypt"].items():
        print(
            f"Overcast {key}: {share:.0%} of the bare bcrypt rate ({report['bare_bcrypt_per_s']}/s)"
        )


if __name__ == "__main__":
    sys.exit(main())
