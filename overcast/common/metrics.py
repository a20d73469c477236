"""Prometheus metrics for every API, served at ``/metrics``.

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` must be set before
this module is imported (the server runner does it), and ``/metrics`` then sums
every worker's samples.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter(
    "overcast_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "overcast_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def observe(service: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count and time one request. The labelled series are looked up once and kept:
    ``labels()`` takes a lock and builds its key on every call."""
    key = (service, method, route, status)
    children = _children.get(key)
    if children is None:
        children = (
            REQUESTS.labels(service, method, route, str(status)),
            LATENCY.labels(service, method, route),
        )
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


async def metrics_endpoint(request: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, media_type=CONTENT_TYPE_LATEST)
