"""Scheduler benchmark: decisions per second and latency over 1,000 to 1,000,000 hosts.

    python bench/scheduler.py [--hosts 1000 100000 1000000] [--decisions 20000] [--repeat 3]

Part (b) of the compute benchmark, on the scheduler's in-memory host index alone
(the same object the conductor asks in the cloud). Hosts are varied: four sizes,
three availability zones, one in ten with an AVX2 trait, one in twenty in an
``ssd`` aggregate. Requests mix what users send: plain flavors, a zone, a trait,
an aggregate, anti-affinity groups of 5. Each decision places one instance and
counts its resources as taken, so the index changes as it goes, as in a cloud
filling up. The table shows medians of ``--repeat`` runs; JSON goes to
bench/results/scheduler.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overcast.scheduler.hosts import DISK_GB, MEMORY_MB, VCPU, HostState, Inventory, RequestSpec
from overcast.scheduler.index import HostIndex, NoValidHost, place
from overcast.scheduler.plugins import FILTERS, WEIGHERS

RESULTS = Path(__file__).with_name("results")
SIZES = [(16, 65536), (32, 131072), (64, 262144), (8, 32768)]
FLAVORS = [{VCPU: 1, MEMORY_MB: 512, DISK_GB: 1}, {VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40},
           {VCPU: 4, MEMORY_MB: 8192, DISK_GB: 80}]  # fmt: skip


def make_hosts(count: int) -> list[HostState]:
    inventories = [
        {VCPU: Inventory(cpus, allocation_ratio=4.0), MEMORY_MB: Inventory(memory, reserved=512),
         DISK_GB: Inventory(2000)}
        for cpus, memory in SIZES
    ]  # fmt: skip
    avx = frozenset({"HW_CPU_X86_AVX2"})
    ssd = frozenset({"ssd"})
    return [
        HostState(
            f"compute-{i:07}",
            inventories[i % len(SIZES)],
            availability_zone=f"az{i % 3}",
            traits=avx if i % 10 == 0 else frozenset(),
            aggregates=ssd if i % 20 == 0 else frozenset(),
        )
        for i in range(count)
    ]


def requests(count: int, seed: int) -> list[RequestSpec]:
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        flavor = rng.choice(FLAVORS)
        kind = i % 10
        if kind < 5:
            specs.append(RequestSpec(flavor))
        elif kind < 7:
            specs.append(RequestSpec(flavor, availability_zone=f"az{rng.randrange(3)}"))
        elif kind == 7:
            specs.append(RequestSpec(flavor, required_traits=frozenset({"HW_CPU_X86_AVX2"})))
        elif kind == 8:
            specs.append(RequestSpec(flavor, aggregates=frozenset({"ssd"})))
        else:
            specs.append(RequestSpec(flavor, group_policy="anti-affinity"))
    return specs


def run(hosts: int, decisions: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    index = HostIndex(
        [cls() for cls in FILTERS.values()],
        [(WEIGHERS["RAMWeigher"](), 1.0), (WEIGHERS["ServerGroupSoftAffinityWeigher"](), 1.0)],
    )
    index.load(make_hosts(hosts))
    built = time.perf_counter() - started
    latencies = []
    failures = 0
    for spec in requests(decisions, seed):
        count = 5 if spec.group_policy else 1
        began = time.perf_counter_ns()
        try:
            place(index, spec, count)
        except NoValidHost:
            failures += 1
        latencies.append((time.perf_counter_ns() - began) / 1e6 / count)
    total_s = sum(latencies) / 1000
    latencies.sort()
    return {
        "hosts": hosts,
        "build_s": round(built, 2),
        "decisions_per_s": round(len(latencies) / total_s),
        "p50_ms": round(latencies[len(latencies) // 2], 4),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 4),
        "max_ms": round(latencies[-1], 3),
        "no_valid_host": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report: dict[str, Any] = {"settings": vars(args), "runs": {}, "median": {}}
    for hosts in args.hosts:
        samples = [run(hosts, args.decisions, seed) for seed in range(args.repeat)]
        report["runs"][hosts] = samples
        report["median"][hosts] = {
            key: statistics.median(s[key] for s in samples) for key in samples[0]
        }
        m = report["median"][hosts]
        print(
            f"{hosts:>9} hosts: {m['decisions_per_s']:>8.0f} decisions/s  p50 {m['p50_ms']:.3f} ms"
            f"  p99 {m['p99_ms']:.3f} ms  (index built in {m['build_s']:.1f} s)",
            flush=True,
        )
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"peak RSS {report['peak_rss_mib']} MiB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scheduler.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'scheduler.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
