"""Replicas that share a node, written with one request.

A ring spreads an object's replicas over devices; where several of those devices
are on one node (an all-in-one, a small cluster), the proxy sends that node one
PUT for all of them instead of one each. The body then crosses the network once
and is hashed once, and the node writes a copy to each device, each made durable
as if it had come alone.

The request is the first replica's, with :data:`REPLICAS`: a JSON list of the
others, each ``{"device": ..., "headers": {...}}`` where ``headers`` are those
of its own that differ from the first's (which container server it tells of the
new object). The node answers every replica in order, in a JSON list of
``{"status": ..., "headers": {...}}``, marked by :data:`ANSWERED`. The proxy
strips ``X-Backend-*`` headers from clients, so only a proxy can ask for this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

REPLICAS = "X-Backend-Replicas"
ANSWERED = "X-Backend-Replicas-Answered"


class BadReplicas(ValueError):
    """:data:`REPLICAS` is not a list of replicas."""


def ask(first: Mapping[str, str], others: list[tuple[str, Mapping[str, str]]]) -> dict[str, str]:
    """The headers of one request for the replica with ``first`` headers and ``others``
    (each a device and its own headers)."""
    if not others:
        return dict(first)
    listed = [
        {"device": device, "headers": {k: v for k, v in own.items() if first.get(k) != v}}
        for device, own in others
    ]
    return {**first, REPLICAS: json.dumps(listed, separators=(",", ":"))}


def asked(value: str) -> list[tuple[str, dict[str, str]]]:
    """The other replicas :data:`REPLICAS` names: (device, headers) each.

    :raises BadReplicas: when it is not a list of them, or names a device that is not
        a plain name.
    """
    try:
        listed = json.loads(value)
    except ValueError:
        raise BadReplicas(f"Invalid {REPLICAS}: not JSON") from None
    if not isinstance(listed, list):
        raise BadReplicas(f"Invalid {REPLICAS}: not a list")
    found = []
    for item in listed:
        device = item.get("device") if isinstance(item, dict) else None
        headers = item.get("headers", {}) if isinstance(item, dict) else None
        if not isinstance(device, str) or device in ("", ".", "..") or "/" in device:
            raise BadReplicas(f"Invalid {REPLICAS}: bad device {device!r}")
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise BadReplicas(f"Invalid {REPLICAS}: bad headers for {device}")
        found.append((device, headers))
    return found


def answer(replies: list[tuple[int, Mapping[str, str]]]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the answer for every replica's (status, headers)."""
    listed = [{"status": status, "headers": dict(headers)} for status, headers in replies]
    return json.dumps(listed).encode(), {ANSWERED: str(len(listed))}


def answers(body: bytes, count: int) -> list[tuple[int, dict[str, str]]] | None:
    """Every replica's (status, headers) from a node's answer; None when it is not one
    for ``count`` replicas."""
    try:
        listed: Any = json.loads(body)
        found = [(int(item["status"]), dict(item["headers"])) for item in listed]
    except (ValueError, TypeError, KeyError):
        return None
    return found if len(found) == count else None
