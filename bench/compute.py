"""Compute benchmark: servers booted to ACTIVE per second, and the scheduler at scale.

    python bench/compute.py [--counts 100 500 1000] [--repeat 3] [--quick]
                            [--workers 1 2]         # the all-in-one as one process, and
                                                    # as two (overcast up --workers 2)
                            [--cloud NAME]          # any cloud in clouds.yaml, instead of
                                                    # a fresh all-in-one
                            [--nova]                # also the real Nova (shared/anchors/nova)

(a) For each count, twice: ``count`` separate ``POST /servers`` at concurrency
10, and one POST with ``min_count = count``. It reports boots/s (servers ACTIVE
÷ seconds from the first POST until the last is ACTIVE), the POST latency
p50/p99, the time to all ACTIVE, and deletes/s (until the last is gone from
the listing). Servers boot with ``networks: none`` on a 1-vCPU flavor. Waiting
polls for one server still building (or still listed), so watching costs the
cloud little; a full listing then checks the count and that each is ACTIVE.
(b) The scheduler's decisions/s and p99 with 1,000 to 1,000,000 hosts in its
index (bench/scheduler.py's workload).
(c) The all-in-one's resident memory (its whole process tree), peak and at the
largest count.

A fresh all-in-one uses the fake driver with no delay. It is measured as one
process (``overcast up``, the default) and with two worker processes (the second
one serves the compute API while the first builds servers). With ``--nova`` the real
Nova with its fake driver (set up by shared/anchors/nova, PostgreSQL and RabbitMQ)
runs (a) in the same run and the table shows the ratios. The table shows medians
of ``--repeat`` runs; JSON goes to bench/results/compute.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import scheduler
from bench.peers import nova
from tests.functional.cloud import ADMIN_PASSWORD, password_auth, start_cloud

RESULTS = Path(__file__).with_name("results")
MICROVERSION = {"OpenStack-API-Version": "compute 2.79"}
FLAVOR = {"name": "bench.tiny", "ram": 64, "vcpus": 1, "disk": 1}
MODES = ("separate", "min_count")


class Cloud:
    """An admin's view of one cloud: a token and its compute and image endpoints."""

    def __init__(self, auth_url: str, auth: dict[str, Any]) -> None:
        response = httpx.post(f"{auth_url.rstrip('/')}/auth/tokens", json=auth, timeout=60)
        response.raise_for_status()
        token = response.json()["token"]
        self.project_id: str = token["project"]["id"]
        self.headers = {"X-Auth-Token": response.headers["X-Subject-Token"], **MICROVERSION}
        self.endpoints = {
            entry["type"]: endpoint["url"].rstrip("/")
            for entry in token["catalog"]
            for endpoint in entry["endpoints"]
            if endpoint["interface"] == "public"
        }

    @property
    def compute(self) -> str:
        return self.endpoints["compute"]

    def prepare(self) -> tuple[str, str]:
        """The bench flavor and image (made when missing), and no instance quota; their ids."""
        with httpx.Client(headers=self.headers, timeout=60) as client:
            flavors = client.get(f"{self.compute}/flavors").json()["flavors"]
            flavor = next((f["id"] for f in flavors if f["name"] == FLAVOR["name"]), None)
            if flavor is None:
                made = client.post(f"{self.compute}/flavors", json={"flavor": FLAVOR})
                made.raise_for_status()
                flavor = made.json()["flavor"]["id"]
            image = self.endpoints["image"]
            meta = {"name": "bench-tiny", "disk_format": "raw", "container_format": "bare"}
            made = client.post(f"{image}/v2/images", json={**meta, "visibility": "public"})
            made.raise_for_status()
            image_id = made.json()["id"]
            client.put(
                f"{image}/v2/images/{image_id}/file",
                content=bytes(1024),
                headers={"Content-Type": "application/octet-stream"},
            ).raise_for_status()
            unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
            client.put(
                f"{self.compute}/os-quota-sets/{self.project_id}", json=unlimited
            ).raise_for_status()
        return flavor, image_id


async def _names(client: httpx.AsyncClient, url: str, prefix: str) -> dict[str, str]:
    """Every server whose name starts with ``prefix``: id -> status (following pages)."""
    found: dict[str, str] = {}
    next_url: str | None = f"{url}/servers/detail?name=^{prefix}&limit=1000"
    while next_url:
        body = (await client.get(next_url)).json()
        found.update({s["id"]: s["status"] for s in body.get("servers", [])})
        links = [link["href"] for link in body.get("servers_links", []) if link["rel"] == "next"]
        next_url = links[0] if links else None
    return found


def _pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)


async def boot_round(
    cloud: Cloud, flavor: str, image: str, count: int, mode: str, concurrency: int
) -> dict[str, Any]:
    """Boot ``count`` servers, wait for all ACTIVE, delete them all, wait until gone."""
    prefix = f"b{uuid.uuid4().hex[:8]}-"
    latencies: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(headers=cloud.headers, timeout=600, limits=limits) as client:

        async def post(index: int, extra: dict[str, Any]) -> None:
            server = {"name": f"{prefix}{index}", "imageRef": image, "flavorRef": flavor}
            body = {"server": {**server, "networks": "none", **extra}}
            began = time.perf_counter()
            response = await client.post(f"{cloud.compute}/servers", json=body)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 202:
                failures.append(f"{response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        if mode == "min_count":
            await post(0, {"min_count": count, "max_count": count})
        else:
            queue = iter(range(count))

            async def worker() -> None:
                for index in queue:
                    await post(index, {})

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        posted = time.perf_counter() - started
        statuses = await _wait_active(client, cloud.compute, prefix, count)
        to_active = time.perf_counter() - started
        errors = sum(1 for s in statuses.values() if s == "ERROR")

        began = time.perf_counter()
        pending = iter(list(statuses))

        async def deleter() -> None:
            for server_id in pending:
                await client.delete(f"{cloud.compute}/servers/{server_id}")

        await asyncio.gather(*(deleter() for _ in range(concurrency)))
        await _wait_gone(client, cloud.compute, prefix)
        deleting = time.perf_counter() - began
    return {
        "count": count,
        "mode": mode,
        "boots_per_s": round(count / to_active, 1),
        "to_all_active_s": round(to_active, 2),
        "posts_s": round(posted, 2),
        "post_p50_ms": _pct(latencies, 0.5),
        "post_p99_ms": _pct(latencies, 0.99),
        "deletes_per_s": round(count / deleting, 1),
        "post_failures": len(failures),
        "error_servers": errors,
        "failure_samples": failures[:3],
    }


WAIT_LIMIT_S = 1800
POLL_S = 0.05
"""How often waiting looks: at 100 servers booted in about a second, polling every
0.25 s (as this benchmark first did) added up to a quarter of the time measured."""


async def _wait_active(
    client: httpx.AsyncClient, url: str, prefix: str, count: int
) -> dict[str, str]:
    """Wait until the ``count`` servers named ``prefix...`` are all ACTIVE (or ERROR).

    The poll is cheap for the cloud: one server still in BUILD, if any (a detail
    listing of every server costs the cloud ~0.3 ms a server, which at 1,000
    servers polled 20 times a second would be most of what it does). Only when
    none builds any more does a full listing check the count and the states.
    """
    deadline = time.perf_counter() + WAIT_LIMIT_S
    building = f"{url}/servers?name=^{prefix}&status=BUILD&limit=1"
    while True:
        if not (await client.get(building)).json().get("servers"):
            statuses = await _names(client, url, prefix)
            if len(statuses) == count and all(s in ("ACTIVE", "ERROR") for s in statuses.values()):
                return statuses
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{prefix}: not all {count} servers ACTIVE in time")
        await asyncio.sleep(POLL_S)


async def _wait_gone(client: httpx.AsyncClient, url: str, prefix: str) -> None:
    """Wait until no server named ``prefix...`` is listed (polling for one of them)."""
    deadline = time.perf_counter() + WAIT_LIMIT_S
    while (await client.get(f"{url}/servers?name=^{prefix}&limit=1")).json().get("servers"):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{prefix}: servers still listed")
        await asyncio.sleep(POLL_S)


class MemoryWatch:
    """The peak resident memory of a process tree, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now_mib(self) -> float:
        return sum(_rss_kib(p) for p in _tree(self.pid)) / 1024

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mib = max(self.peak_mib, self.now_mib())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        try:
            children = Path(f"/proc/{pids[index]}/task/{pids[index]}/children").read_text()
        except OSError:
            children = ""
        pids.extend(int(c) for c in children.split())
        index += 1
    return pids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure_boots(
    cloud: Cloud, counts: list[int], repeat: int, concurrency: int, memory: MemoryWatch | None
) -> dict[str, Any]:
    flavor, image = cloud.prepare()
    results: dict[str, Any] = {}
    for count in counts:
        for mode in MODES:
            runs = []
            for _ in range(repeat):
                runs.append(asyncio.run(boot_round(cloud, flavor, image, count, mode, concurrency)))
                if memory is not None:
                    runs[-1]["rss_after_mib"] = round(memory.now_mib())
            median = {
                key: statistics.median(r[key] for r in runs)
                for key in runs[0]
                if isinstance(runs[0][key], int | float)
            }
            results[f"{mode}@{count}"] = {"median": median, "runs": runs}
            print(
                f"  {mode:<9} {count:>5}: {median['boots_per_s']:8.1f} boots/s  all ACTIVE in "
                f"{median['to_all_active_s']:6.2f} s  POST p50 {median['post_p50_ms']:7.1f} ms  "
                f"p99 {median['post_p99_ms']:7.1f} ms  {median['deletes_per_s']:8.1f} deletes/s  "
                f"errors {sum(r['post_failures'] + r['error_servers'] for r in runs)}",
                flush=True,
            )
    return results


def measure_scheduler(hosts: list[int], decisions: int, repeat: int) -> dict[str, Any]:
    results = {}
    for count in hosts:
        runs = [scheduler.run(count, decisions, seed) for seed in range(repeat)]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        results[str(count)] = median
        print(
            f"  {count:>9} hosts: {median['decisions_per_s']:8.0f} decisions/s  "
            f"p99 {median['p99_ms']:.3f} ms",
            flush=True,
        )
    return results


def measure_all_in_one(args: argparse.Namespace, workers: int) -> tuple[dict[str, Any], int]:
    """(a) and (c) on a fresh ``overcast up --workers N``: the results and the peak RSS."""
    with tempfile.TemporaryDirectory(prefix="overcast-bench-") as tmp:
        cloud = start_cloud(Path(tmp) / "data", workers=workers)
        assert cloud.process is not None
        memory = MemoryWatch(cloud.process.pid)
        try:
            admin = Cloud(cloud.auth_url, password_auth("admin", ADMIN_PASSWORD, "admin"))
            results = measure_boots(admin, args.counts, args.repeat, args.concurrency, memory)
        finally:
            memory.stop()
            cloud.stop()
    print(f"(c) all-in-one resident memory: peak {memory.peak_mib:.0f} MiB", flush=True)
    return results, round(memory.peak_mib)


def from_clouds_yaml(name: str) -> tuple[str, dict[str, Any]]:
    """The auth URL and a password auth body of cloud ``name`` in clouds.yaml."""
    import openstack.config

    auth = openstack.config.OpenStackConfig().get_one(cloud=name).auth
    domain = {"name": auth.get("user_domain_name", "Default")}
    project_domain = {"name": auth.get("project_domain_name", "Default")}
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "domain": domain,
                        "password": auth["password"],
                    }
                },
            },
            "scope": {"project": {"name": auth["project_name"], "domain": project_domain}},
        }
    }
    return str(auth["auth_url"]).rstrip("/").removesuffix("/v3") + "/v3", body


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="measure the all-in-one with each of these worker counts (1: one process)",
    )
    parser.add_argument("--cloud", help="a cloud of clouds.yaml to measure instead")
    parser.add_argument("--nova", action="store_true", help="also the real Nova, same run")
    parser.add_argument("--nova-counts", type=int, nargs="+", default=[100])
    parser.add_argument("--quick", action="store_true", help="100 and 500 servers, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.counts, args.repeat, args.hosts = [100, 500], 1, [1000, 100_000]
    report: dict[str, Any] = {"settings": vars(args)}

    print("(a) boots, Overcast", flush=True)
    if args.cloud:
        auth_url, auth = from_clouds_yaml(args.cloud)
        report["overcast"] = measure_boots(
            Cloud(auth_url, auth), args.counts, args.repeat, args.concurrency, None
        )
    else:
        for workers in args.workers:
            key = "overcast" if workers == 1 else f"overcast_{workers}_workers"
            if workers != 1:
                print(f"(a) boots, Overcast with {workers} worker processes", flush=True)
            report[key], report[f"rss_peak_mib_{key}"] = measure_all_in_one(args, workers)
        report["rss_peak_mib"] = report.get("rss_peak_mib_overcast")

    if args.nova:
        print("(a) boots, the real Nova (shared/anchors/nova)", flush=True)
        with nova.running() as (auth_url, auth):
            report["nova"] = measure_boots(
                Cloud(auth_url, auth), args.nova_counts, args.repeat, args.concurrency, None
            )
        report["ratios"] = {
            key: round(
                report["overcast"][key]["median"]["boots_per_s"]
                / report["nova"][key]["median"]["boots_per_s"],
                1,
            )
            for key in report["nova"]
            if key in report["overcast"]
        }
        for key, ratio in report["ratios"].items():
            print(f"  {key}: Overcast {ratio}x Nova's boots/s")

    print("(b) scheduler", flush=True)
    report["scheduler"] = measure_scheduler(args.hosts, args.decisions, args.repeat)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compute.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'compute.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
