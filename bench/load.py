"""Load generation with wrk (C, from Debian): the client must not be what is measured.

Each measurement runs wrk for a fixed time with a fixed number of connections,
each with one request in flight; a Lua script sets the request (method, body,
headers, rotating tokens) and prints wrk's summary as JSON.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

WRK = shutil.which("wrk") or "/usr/bin/wrk"

SCRIPT = """
local bodies = {bodies}
local tokens = {tokens}
local counter = 0
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{extra_headers}
request = function()
  counter = counter + 1
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  if #tokens > 0 then headers["X-Subject-Token"] = tokens[(counter % #tokens) + 1] end
  local body = nil
  if #bodies > 0 then body = bodies[(counter % #bodies) + 1] end
  return wrk.format(nil, nil, headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Sample:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    status_errors: int = 0
    socket_errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _lua_list(values: Sequence[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def run(
    url: str,
    *,
    method: str = "GET",
    bodies: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    tokens: Sequence[str] = (),
    connections: int = 8,
    seconds: float = 10,
    keepalive: bool = False,
) -> Sample:
    """``connections`` closed-loop clients hitting ``url`` for ``seconds``."""
    all_headers = dict(headers or {})
    if not keepalive:
        all_headers["Connection"] = "close"
    extra = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in all_headers.items()
    )
    script = SCRIPT.format(
        bodies=_lua_list(bodies), tokens=_lua_list(tokens), method=method, extra_headers=extra
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="overcast-wrk-") as f:
        f.write(script)
        f.flush()
        result = subprocess.run(
            [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "60s",
                "-s",
                f.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return Sample(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=summary["status_errors"] + summary["socket_errors"],
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        status_errors=summary["status_errors"],
        socket_errors=summary["socket_errors"],
    )


async def run_count(url: str, body: str, total: int, concurrency: int, expect: int) -> Sample:
    """``total`` POSTs of ``body`` with ``concurrency`` in flight, each on a new connection.

    For slow requests (password hashing) a fixed count measures better than a fixed
    time: requests still in flight when a time window closes would go uncounted.
    """
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(total))
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def worker() -> None:
            nonlocal errors
            for _ in remaining:
                start = time.perf_counter()
                try:
                    response = await client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                    errors += response.status_code != expect
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Sample(
        total,
        elapsed,
        errors,
        _pct(latencies, 0.5) * 1000,
        _pct(latencies, 0.99) * 1000,
        status_errors=errors,
    )


def _pct(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(fraction * len(values)))]


def median_sample(samples: list[Sample]) -> Sample:
    """The sample with the median rate (its own latencies and error count come with it)."""
    ordered = sorted(samples, key=lambda s: s.rate)
    return ordered[len(ordered) // 2]


def spread(samples: list[Sample]) -> tuple[float, float]:
    rates = [s.rate for s in samples]
    return min(rates), max(rates)
