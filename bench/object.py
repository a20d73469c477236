"""Object storage benchmark: Overcast's Swift API against the real Swift, same run.

    python bench/object.py [--swift] [--repeat 3] [--objects 1000] [--listing 10000] [--quick]

Against any Swift-API endpoint (a storage URL and a token), it measures:

* small objects: PUT, GET and HEAD of 4 KiB objects at concurrency 16 and 64
  (ops/s, p50/p99 latency);
* one 256 MiB object: PUT and GET (MB/s), streamed;
* a listing of a 10,000-object container (JSON, in pages of 10,000), in ms.

The endpoints: Overcast's all-in-one (``overcast up`` on free ports, 3 replicas on 3
devices); with ``--swift``, the real Swift 2.38.3 from PyPI set up by
``../shared/anchors/swift`` (3 devices, 3 replicas, 2 workers per server, memcached).
With ``--swift`` the machine's limits are measured too (``../shared/anchors/limits``:
O_DIRECT disk write/read, fsync'd 4 KiB files/s, Python loopback HTTP). Medians of
``--repeat`` runs; each Overcast figure is also shown as a ratio to Swift's. JSON
goes to bench/results/object.json.

The load comes from one aiohttp client (128 connections) for both clouds: httpx's
connection pool checks every idle connection on each request, which at
concurrency 64 made the client, not the server, the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.functional.cloud import RunningCloud, public_url, start_cloud

RESULTS = Path(__file__).with_name("results")
ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "anchors"
SCRATCH = Path(os.environ.get("ANCHORS", "/tmp/anchors"))
SMALL = os.urandom(4096)
MIB = 1 << 20


@dataclass(frozen=True)
class Endpoint:
    name: str
    storage_url: str
    token: str


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def small_objects(
    client: aiohttp.ClientSession, where: str, count: int, concurrency: int
) -> dict[str, dict[str, float]]:
    """PUT, then GET, then HEAD ``count`` 4 KiB objects, ``concurrency`` at a time."""
    results = {}
    for method in ("PUT", "GET", "HEAD"):
        latencies: list[float] = []
        queue = iter(range(count))

        async def worker(
            method: str = method, latencies: list[float] = latencies, queue: Any = queue
        ) -> None:
            for index in queue:
                body = SMALL if method == "PUT" else None
                started = time.perf_counter()
                async with client.request(method, f"{where}/o{index}", data=body) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                if response.status >= 300:
                    raise RuntimeError(f"{method} o{index}: {response.status}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        results[method] = {
            "ops_per_s": count / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
        }
    return results


async def _stream(mib: int) -> AsyncIterator[bytes]:
    chunk = os.urandom(MIB)
    for _ in range(mib):
        yield chunk


async def large_object(client: aiohttp.ClientSession, where: str, mib: int) -> dict[str, float]:
    headers = {"Content-Length": str(mib * MIB)}
    began = time.perf_counter()
    async with client.put(f"{where}/large", data=_stream(mib), headers=headers) as made:
        text = await made.text()
    put_s = time.perf_counter() - began
    if made.status != 201:
        raise RuntimeError(f"large PUT: {made.status} {text[:200]}")
    began = time.perf_counter()
    received = 0
    async with client.get(f"{where}/large") as response:
        async for chunk in response.content.iter_chunked(MIB):
            received += len(chunk)
    get_s = time.perf_counter() - began
    if received != mib * MIB:
        raise RuntimeError(f"large GET returned {received} bytes")
    return {"put_MBps": mib * MIB / put_s / 1e6, "get_MBps": mib * MIB / get_s / 1e6}


async def listing(client: aiohttp.ClientSession, where: str, count: int) -> dict[str, float]:
    """Fill a container with ``count`` empty objects, then time its full JSON listing."""
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            async with client.put(f"{where}/item-{index:06}", data=b"") as response:
                if response.status != 201:
                    raise RuntimeError(f"listing fill: {response.status}")

    await asyncio.gather(*(worker() for _ in range(64)))
    times = []
    for _ in range(3):
        began = time.perf_counter()
        params = {"format": "json", "limit": "10000"}
        async with client.get(where, params=params) as response:
            found = await response.json()
        times.append(time.perf_counter() - began)
        if len(found) != min(count, 10_000):
            raise RuntimeError(f"listing gave {len(found)} objects")
    return {"listing_ms": statistics.median(times) * 1000}


async def measure(endpoint: Endpoint, objects: int, listed: int, mib: int) -> dict[str, Any]:
    headers = {"X-Auth-Token": endpoint.token}
    connector = aiohttp.TCPConnector(limit=128)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=timeout
    ) as client:
        run = uuid.uuid4().hex[:8]
        found: dict[str, Any] = {}
        for concurrency in (16, 64):
            where = f"{endpoint.storage_url}/bench-{run}-c{concurrency}"
            await _create(client, where)
            found[f"c{concurrency}"] = await small_objects(client, where, objects, concurrency)
        where = f"{endpoint.storage_url}/bench-{run}-large"
        await _create(client, where)
        found["large"] = await large_object(client, where, mib)
        where = f"{endpoint.storage_url}/bench-{run}-list"
        await _create(client, where)
        found["listing"] = await listing(client, where, listed)
    return found


async def _create(client: aiohttp.ClientSession, container: str) -> None:
    async with client.put(container) as response:
        if response.status >= 300:
            raise RuntimeError(f"PUT {container}: {response.status}")


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-figure median of several runs' nested results."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: median_of([run[key] for run in runs]) for key in first}
    return statistics.median(runs)


# -- endpoints ---------------------------------------------------------------------------


def overcast_endpoint(cloud: RunningCloud) -> Endpoint:
    token, body = cloud.token("demo", cloud.demo_password, "demo")
    return Endpoint("overcast", public_url(body, "object-store"), token)


def swift_endpoint() -> Endpoint:
    response = httpx.get(
        "http://127.0.0.1:8080/auth/v1.0",
        headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"},
        timeout=30,
    )
    response.raise_for_status()
    return Endpoint("swift", response.headers["x-storage-url"], response.headers["x-auth-token"])


def swift_anchor(action: str) -> None:
    environment = {**os.environ, "SKIP_APT": os.environ.get("SKIP_APT", "0")}
    script = ANCHORS / "swift" / ("setup.sh" if action == "setup" else "run.sh")
    args = [] if action == "setup" else [action]
    subprocess.run(["bash", str(script), *args], check=True, env=environment)


def machine_limits() -> dict[str, Any]:
    """The disk and loopback ceilings, from the shared anchors' scripts."""
    disk = subprocess.run(
        ["bash", str(ANCHORS / "limits" / "disk.sh"), str(SCRATCH / "ddtest")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rates = [
        float(v) * (1000 if u == "G" else 1) for v, u in re.findall(r"([\d.]+) ([GM])B/s", disk)
    ]
    files = [float(v) for v in re.findall(r"([\d.]+) files/s", disk)]
    python = SCRATCH / "swift-venv" / "bin" / "python"
    loop = subprocess.run(
        [str(python), str(ANCHORS / "limits" / "loopback_http.py"), "--reps", "1"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {
        "disk_write_MBps": statistics.median(rates[0::2]) if rates else 0.0,
        "disk_read_MBps": statistics.median(rates[1::2]) if rates else 0.0,
        "fsync_4k_files_per_s": statistics.median(files) if files else 0.0,
        "loopback": loop.strip()[-400:],
    }


# -- report ------------------------------------------------------------------------------


ROWS = [
    ("4 KiB PUT c=16 ops/s", ("c16", "PUT", "ops_per_s")),
    ("4 KiB GET c=16 ops/s", ("c16", "GET", "ops_per_s")),
    ("4 KiB HEAD c=16 ops/s", ("c16", "HEAD", "ops_per_s")),
    ("4 KiB PUT c=64 ops/s", ("c64", "PUT", "ops_per_s")),
    ("4 KiB GET c=64 ops/s", ("c64", "GET", "ops_per_s")),
    ("4 KiB HEAD c=64 ops/s", ("c64", "HEAD", "ops_per_s")),
    ("4 KiB PUT c=64 p50/p99 ms", ("c64", "PUT", "p50_ms", "p99_ms")),
    ("4 KiB GET c=64 p50/p99 ms", ("c64", "GET", "p50_ms", "p99_ms")),
    ("256 MiB PUT MB/s", ("large", "put_MBps")),
    ("256 MiB GET MB/s", ("large", "get_MBps")),
    ("listing of {listed:,} ms", ("listing", "listing_ms")),
]


def pick(found: dict[str, Any], path: tuple[str, ...]) -> str:
    *where, last = path
    node = found
    for key in where[:2]:
        node = node[key]
    if len(path) == 4:  # two latencies
        return f"{node[path[2]]:.1f} / {node[path[3]]:.1f}"
    return f"{node[last]:.1f}"


def report(results: dict[str, Any]) -> None:
    ours, theirs = results["overcast"], results.get("swift")
    print(f"\n{'':28}{'Overcast':>16}{'Swift':>16}{'ratio':>9}")
    for template, path in ROWS:
        label = template.format(listed=results["listing_size"])
        mine = pick(ours, path)
        other = pick(theirs, path) if theirs else "-"
        ratio = ""
        if theirs and len(path) != 4:
            a, b = float(mine), float(other)
            ratio = f"{(b / a if 'ms' in label else a / b):.1f}x" if a and b else ""
        print(f"{label:28}{mine:>16}{other:>16}{ratio:>9}")
    if "limits" in results:
        limits = results["limits"]
        print(
            f"\nmachine: disk write {limits['disk_write_MBps']:.0f} MB/s, read "
            f"{limits['disk_read_MBps']:.0f} MB/s, fsync'd 4 KiB files "
            f"{limits['fsync_4k_files_per_s']:.0f}/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift", action="store_true", help="also measure the real Swift")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--listing", type=int, default=10_000)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="1 run, 200 objects, 1,000 listed")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.objects, args.listing = 1, 200, 1000
    sizes = (args.objects, args.listing, args.mib)
    results: dict[str, Any] = {"objects": args.objects, "listing_size": args.listing}
    with tempfile.TemporaryDirectory(prefix="overcast-bench-") as tmp:
        cloud = start_cloud(Path(tmp) / "data", workers=2)
        try:
            endpoint = overcast_endpoint(cloud)
            runs = [asyncio.run(measure(endpoint, *sizes)) for _ in range(args.repeat)]
            results["overcast"] = median_of(runs)
        finally:
            cloud.stop()
    if args.swift:
        swift_anchor("setup")
        swift_anchor("start")
        try:
            time.sleep(2)
            endpoint = swift_endpoint()
            runs = [asyncio.run(measure(endpoint, *sizes)) for _ in range(args.repeat)]
            results["swift"] = median_of(runs)
        finally:
            swift_anchor("stop")
        results["limits"] = machine_limits()
    report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "object.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
