"""Run OpenStack's Tempest against Overcast and report per-service results.

    python -m tests.conformance.runner [--services "identity ..."] [--workers N]
                                       [--check-baseline] [--update-baseline]

Tempest is installed from PyPI into its own venv (kept between runs under
``$TEMPEST_HOME``, default ``~/.cache/overcast/tempest-<version>``).
Without ``OS_AUTH_URL`` the runner starts an all-in-one cloud on a temporary
data directory and free ports; with ``OS_AUTH_URL`` (plus ``OS_PASSWORD``)
it tests that running cloud. Results go to ``conformance/results/latest.json``;
the ids that must keep passing are tracked in ``conformance/baseline/<service>.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conformance import tempest_conf
from tests.functional.cloud import RunningCloud, start_cloud

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "conformance" / "results"
BASELINE = ROOT / "conformance" / "baseline"
TEMPEST_VERSION = "47.0.0"
SUITES = {
    "identity": "identity",
    "image": "image",
    "compute": "compute",
    "object-store": "object_storage",
    "block-storage": "volume",
    "network": "network",
}
SUMMARIZER = Path(__file__).with_name("summarize_subunit.py")


@dataclass
class ServiceResult:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "passed": len(self.passed),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "failed_ids": sorted(self.failed),
            "skipped_ids": {k: self.skipped[k] for k in sorted(self.skipped)},
        }


def tempest_home() -> Path:
    default = Path.home() / ".cache" / "overcast" / f"tempest-{TEMPEST_VERSION}"
    return Path(os.environ.get("TEMPEST_HOME", default))


def ensure_tempest(home: Path) -> Path:
    """The tempest venv's bin directory, installing Tempest first if needed."""
    venv = home / "venv"
    marker = venv / f".tempest-{TEMPEST_VERSION}"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                f"tempest=={TEMPEST_VERSION}",
                "stestr",
                "junitxml",
            ],
            check=True,
        )
        marker.touch()
    return venv / "bin"


def run_tempest(
    bin_dir: Path, workspace: Path, regex: str, concurrency: int
) -> dict[str, ServiceResult]:
    subprocess.run(
        [str(bin_dir / "tempest"), "run", "--regex", regex, "--concurrency", str(concurrency)],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    stream = subprocess.run(
        [str(bin_dir / "stestr"), "last", "--subunit"],
        cwd=workspace,
        capture_output=True,
        check=False,
    ).stdout
    summary = subprocess.run(
        [str(bin_dir / "python"), str(SUMMARIZER)], input=stream, capture_output=True, check=True
    ).stdout
    results: dict[str, ServiceResult] = {}
    if not summary.strip() or summary.strip() == b"[]":
        raise SystemExit(f"tempest ran no test (see {workspace}/tempest.log and its conf)")
    for test_id, status, reason in json.loads(summary):
        service = _service_of(test_id)
        result = results.setdefault(service, ServiceResult())
        if status == "success":
            result.passed.append(test_id)
        elif status == "skip":
            result.skipped[test_id] = reason
        else:
            result.failed[test_id] = reason
    return results


def _service_of(test_id: str) -> str:
    for service, suite in SUITES.items():
        if f"tempest.api.{suite}." in test_id:
            return service
    return "other"


def check_baseline(results: dict[str, ServiceResult], services: list[str]) -> list[str]:
    """Baseline ids of ``services`` that did not pass this time."""
    missing = []
    for service in services:
        path = BASELINE / f"{service}.txt"
        if not path.exists():
            continue
        expected = {line.strip() for line in path.read_text().splitlines() if line.strip()}
        passed = set(results.get(service, ServiceResult()).passed)
        missing += sorted(expected - passed)
    return missing


def update_baseline(results: dict[str, ServiceResult], services: list[str]) -> None:
    BASELINE.mkdir(parents=True, exist_ok=True)
    for service in services:
        passed = sorted(results.get(service, ServiceResult()).passed)
        (BASELINE / f"{service}.txt").write_text("".join(f"{t}\n" for t in passed))


def print_table(results: dict[str, ServiceResult], services: list[str], elapsed: float) -> None:
    print(f"\n{'service':<16}{'passed':>8}{'failed':>8}{'skipped':>9}")
    for service in services:
        r = results.get(service, ServiceResult())
        print(f"{service:<16}{len(r.passed):>8}{len(r.failed):>8}{len(r.skipped):>9}")
    print(f"(Tempest {TEMPEST_VERSION}, {elapsed:.0f} s)")
    for service in services:
        r = results.get(service, ServiceResult())
        for test_id, reason in sorted(r.failed.items()):
            print(f"FAILED  {test_id}\n        {reason[:300]}")
        for test_id, reason in sorted(r.skipped.items()):
            print(f"SKIPPED {test_id}: {reason[:200]}")
    flags = tempest_conf.DISABLED_FEATURES
    if flags:
        print("\nFeature flags turned off in the generated tempest.conf:")
        for name, reason in flags.items():
            print(f"  {name}: {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--services", help="catalog types to test (default: every one in the catalog)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes of the started cloud"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--regex", help="override the test selection")
    parser.add_argument("--check-baseline", action="store_true")
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args(argv)

    bin_dir = ensure_tempest(tempest_home())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="overcast-tempest-") as tmp:
        cloud = _cloud(Path(tmp), args.workers)
        try:
            services = args.services.split() if args.services else cloud.catalog_types()
            services = [s for s in services if s in SUITES]
            workspace = Path(tmp) / "workspace"
            tempest_conf.init_workspace(bin_dir, workspace)
            tempest_conf.write(workspace / "etc" / "tempest.conf", cloud, services)
            suites = "|".join(SUITES[s] for s in services)
            regex = args.regex or rf"^tempest\.api\.({suites})\."
            results = run_tempest(bin_dir, workspace, regex, args.concurrency)
        finally:
            cloud.stop()
    elapsed = time.monotonic() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {s: results.get(s, ServiceResult()).as_json() for s in services}
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print_table(results, services, elapsed)
    if args.update_baseline:
        update_baseline(results, services)
    if args.check_baseline:
        missing = check_baseline(results, services)
        if missing:
            print(f"\n{len(missing)} baseline test(s) no longer pass:")
            print("\n".join(f"  {m}" for m in missing))
            return 1
    return 0


def _cloud(tmp: Path, workers: int) -> RunningCloud:
    url = os.environ.get("OS_AUTH_URL")
    if url:
        password = os.environ["OS_PASSWORD"]
        httpx.get(url, timeout=10).raise_for_status()
        return RunningCloud.external(url, password)
    return start_cloud(
        tmp / "data",
        workers=workers,
        compliance=tempest_conf.COMPLIANCE,
        env=tempest_conf.CLOUD_SETTINGS,
    )


if __name__ == "__main__":
    sys.exit(main())
