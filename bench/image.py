"""Image benchmark: a 1 GiB image through the API against the disk it lands on.

    python bench/image.py [--repeat 3] [--mib 1024] [--quick]

In one run, on the filesystem that holds the cloud's data directory, it measures:

* the disk: ``dd`` sequential write and read with O_DIRECT (bs 1 MiB, as
  ``../shared/anchors/limits/disk.sh`` does), and a *durable* buffered write
  (``conv=fsync``: what any store that promises the data is on disk pays);
* the hashing ceiling: md5 and sha512 over the same bytes in two threads at once,
  which every Glance-compatible upload must compute;
* upload: ``PUT /v2/images/{id}/file`` of a 1 GiB file with curl (a C client,
  so that the client is not what is measured), until the 204 (data fsync'd,
  image active);
* download: ``GET /v2/images/{id}/file`` with curl into /dev/null, page cache
  dropped first so that the data comes from the disk, as dd's does.

While each transfer runs the server's resident memory (all its processes) is
sampled every 50 ms, to show it stays flat however big the image is. The table
shows medians of ``--repeat`` runs and each API rate as a share of the disk's;
JSON goes to bench/results/image.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.functional.cloud import RunningCloud, start_cloud

RESULTS = Path(__file__).with_name("results")
MB = 1e6
MIB = 1 << 20


def drop_caches() -> bool:
    """Write back and drop the page cache (root only); False when not allowed."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def dd(*args: str) -> float:
    """Run dd; its rate in MB/s from the bytes and seconds it reports."""
    done = subprocess.run(["dd", *args], capture_output=True, text=True, check=True)
    match = re.search(r"^(\d+) bytes .* copied, ([\d.]+) s", done.stderr, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"cannot read dd's report: {done.stderr}")
    return int(match[1]) / float(match[2]) / MB


def disk_rates(directory: Path, mib: int) -> dict[str, float]:
    target = directory / "dd.bin"
    count = f"count={mib}"
    try:
        write = dd("if=/dev/zero", f"of={target}", "bs=1M", count, "oflag=direct")
        drop_caches()
        read = dd(f"if={target}", "of=/dev/null", "bs=1M", "iflag=direct")
        target.unlink()
        durable = dd("if=/dev/zero", f"of={target}", "bs=1M", count, "conv=fsync")
    finally:
        target.unlink(missing_ok=True)
    return {"write_direct": write, "read_direct": read, "write_durable": durable}


def hashing_rate(source: Path) -> float:
    """MB/s of md5 and sha512 of ``source`` computed together, one thread each."""
    data = source.read_bytes()
    view = memoryview(data)

    def digest(name: str) -> None:
        state = hashlib.new(name)
        for start in range(0, len(view), 8 * MIB):
            state.update(view[start : start + 8 * MIB])

    started = time.perf_counter()
    threads = [threading.Thread(target=digest, args=(name,)) for name in ("md5", "sha512")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(data) / (time.perf_counter() - started) / MB


class MemorySampler:
    """Peak and starting resident memory of a process and its children, in MiB."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.start = rss_mib(pid)
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mib(self.pid))


def rss_mib(pid: int) -> float:
    total = 0
    for member in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match[1]) if match else 0
    return total / 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


class ImageClient:
    def __init__(self, cloud: RunningCloud) -> None:
        assert cloud.image_url is not None
        self.base = f"{cloud.image_url}/v2/images"
        self.token, _ = cloud.admin_token()
        self.headers = {"X-Auth-Token": self.token}

    def create(self, name: str) -> str:
        body = {"name": name, "disk_format": "raw", "container_format": "bare"}
        response = httpx.post(self.base, json=body, headers=self.headers, timeout=30)
        response.raise_for_status()
        image_id: str = response.json()["id"]
        return image_id

    def show(self, image_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.base}/{image_id}", headers=self.headers, timeout=30)
        response.raise_for_status()
        image: dict[str, Any] = response.json()
        return image

    def delete(self, image_id: str) -> None:
        httpx.delete(f"{self.base}/{image_id}", headers=self.headers, timeout=60)

    def curl(self, *args: str) -> float:
        """Run curl against the image API; the seconds the transfer took."""
        done = subprocess.run(
            [
                "curl",
                "-sS",
                "--fail",
                "-H",
                f"X-Auth-Token: {self.token}",
                "-w",
                "%{time_total}",
                *args,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout.strip().splitlines()[-1])


def transfer(pid: int, client: ImageClient, size: int, *curl: str) -> dict[str, float]:
    cpu = cpu_seconds(pid)
    with MemorySampler(pid) as memory:
        seconds = client.curl(*curl)
    return {
        "mb_s": size / seconds / MB,
        "seconds": seconds,
        "server_cpu_s": cpu_seconds(pid) - cpu,
        "rss_start_mib": memory.start,
        "rss_peak_mib": memory.peak,
    }


def measure_api(cloud: RunningCloud, source: Path, expected_md5: str, repeat: int) -> list[Any]:
    assert cloud.process is not None
    pid = cloud.process.pid
    client = ImageClient(cloud)
    size = source.stat().st_size
    runs = []
    for number in range(repeat):
        image_id = client.create(f"bench-{number}")
        target = f"{client.base}/{image_id}/file"
        cache(source)  # the client reads from the page cache, not the disk under test
        octets = "Content-Type: application/octet-stream"
        upload = transfer(pid, client, size, "-T", str(source), "-H", octets, target)
        image = client.show(image_id)
        if image["status"] != "active" or image["checksum"] != expected_md5:
            raise RuntimeError(f"upload went wrong: {image}")
        drop_caches()
        download = transfer(pid, client, size, "-o", "/dev/null", target)
        client.delete(image_id)
        print(
            f"  run {number + 1}: upload {upload['mb_s']:6.0f} MB/s "
            f"(server CPU {upload['server_cpu_s']:.1f} s, RSS peak {upload['rss_peak_mib']:.0f}"
            f" MiB)  download {download['mb_s']:6.0f} MB/s "
            f"(RSS peak {download['rss_peak_mib']:.0f} MiB)",
            flush=True,
        )
        runs.append({"upload": upload, "download": download})
    return runs


def cache(path: Path) -> None:
    """Read ``path`` into the page cache, a MiB at a time (not into this process)."""
    with path.open("rb", buffering=0) as f:
        while f.read(MIB):
            pass


def make_source(path: Path, mib: int) -> str:
    """A file of ``mib`` MiB of random bytes; its md5."""
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("wb") as out:
        for _ in range(mib):
            block = os.urandom(MIB)
            md5.update(block)
            out.write(block)
    return md5.hexdigest()


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mib", type=int, default=1024, help="image size in MiB")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the cloud's data")
    parser.add_argument("--quick", action="store_true", help="256 MiB, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.mib = 1, 256
    size = args.mib * MIB
    report: dict[str, Any] = {
        "settings": {"repeat": args.repeat, "mib": args.mib},
        "cpus": os.cpu_count(),
        "page_cache_dropped": drop_caches(),
    }
    with tempfile.TemporaryDirectory(prefix="overcast-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        source = work / "source.img"
        print(f"writing a {args.mib} MiB source file ...", flush=True)
        expected_md5 = make_source(source, args.mib)
        print("disk (dd, O_DIRECT and durable) and hashing ceiling ...", flush=True)
        disk = [disk_rates(work, args.mib) for _ in range(args.repeat)]
        hashing = [hashing_rate(source) for _ in range(args.repeat)]
        print("Overcast all-in-one (1 worker) ...", flush=True)
        cloud = start_cloud(work / "cloud")
        try:
            runs = measure_api(cloud, source, expected_md5, args.repeat)
        finally:
            cloud.stop()
    report["disk_mb_s"] = {key: median([d[key] for d in disk]) for key in disk[0]}
    report["hashing_mb_s"] = median(hashing)
    report["runs"] = runs
    report["api"] = {
        way: {key: median([run[way][key] for run in runs]) for key in runs[0][way]}
        for way in ("upload", "download")
    }
    up, down = report["api"]["upload"]["mb_s"], report["api"]["download"]["mb_s"]
    disk_median = report["disk_mb_s"]
    report["shares"] = {
        "upload_of_direct_write": round(up / disk_median["write_direct"], 3),
        "upload_of_durable_write": round(up / disk_median["write_durable"], 3),
        "upload_of_hashing": round(up / report["hashing_mb_s"], 3),
        "download_of_direct_read": round(down / disk_median["read_direct"], 3),
    }
    print_table(report, size)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "image.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'image.json'}")
    return 0


def print_table(report: dict[str, Any], size: int) -> None:
    disk, api, shares = report["disk_mb_s"], report["api"], report["shares"]
    print(f"\n{size / MIB:.0f} MiB image, medians of {report['settings']['repeat']} runs")
    print(f"{'measure':<34}{'MB/s':>8}{'share':>9}{'server RSS start/peak MiB':>28}")
    rows = [
        ("disk write, dd O_DIRECT", disk["write_direct"], None, None),
        ("disk write durable, dd conv=fsync", disk["write_durable"], None, None),
        ("md5 + sha512, two threads", report["hashing_mb_s"], None, None),
        ("API upload (of O_DIRECT write)", api["upload"]["mb_s"],
         shares["upload_of_direct_write"], api["upload"]),
        ("  of durable write", None, shares["upload_of_durable_write"], None),
        ("  of hashing ceiling", None, shares["upload_of_hashing"], None),
        ("disk read, dd O_DIRECT", disk["read_direct"], None, None),
        ("API download (of O_DIRECT read)", api["download"]["mb_s"],
         shares["download_of_direct_read"], api["download"]),
    ]  # fmt: skip
    for name, rate, share, transfer_ in rows:
        rate_text = f"{rate:8.0f}" if rate is not None else " " * 8
        share_text = f"{share * 100:8.0f}%" if share is not None else " " * 9
        memory = (
            f"{transfer_['rss_start_mib']:>16.0f}/{transfer_['rss_peak_mib']:.0f}"
            if transfer_
            else ""
        )
        print(f"{name:<34}{rate_text}{share_text}{memory}")


if __name__ == "__main__":
    sys.exit(main())
