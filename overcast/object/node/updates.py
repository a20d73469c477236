"""An object server's news for the container servers: a row per object change.

After a PUT or DELETE, each replica tells the container server the proxy named
for it (``X-Container-Host/-Device/-Partition``). Updates bound for one container
server go in one request (see :mod:`overcast.object.together`); an update the
container server did not take is queued on the object's device for the updater.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.requests import Request

from overcast.common.threads import in_thread
from overcast.object import together
from overcast.object.node.common import Target, title
from overcast.object.timestamps import Timestamp

LOG = logging.getLogger(__name__)
UPDATE_OVERRIDE = "x-object-sysmeta-container-update-override-"
"""What the container listing shows instead of the stored body's size and ETag."""


@dataclass(frozen=True)
class Update:
    """One replica's news for one container server."""

    device: Path
    """The object's device, where the update waits when it cannot be sent."""
    host: str
    container_device: str
    partition: str
    names: tuple[str, ...]
    headers: dict[str, str]

    @property
    def url(self) -> str:
        parts = (self.container_device, self.partition, *self.names)
        return f"http://{self.host}/" + "/".join(quote(p, safe="") for p in parts)


def update_for(
    devices: Path,
    request: Request,
    target: Target,
    method: str,
    timestamp: Timestamp,
    metadata: dict[str, Any],
) -> Update | None:
    """What the replica that ``request`` wrote tells its container server (None: nothing)."""
    if "x-backend-replication" in request.headers:
        return None  # a copy between replicas: the container has its row already
    host = request.headers.get("x-container-host")
    device = request.headers.get("x-container-device")
    partition = request.headers.get("x-container-partition")
    if not (host and device and partition):
        return None
    headers = {"X-Timestamp": timestamp.internal}
    if method == "PUT":
        headers |= {
            "X-Size": metadata["Content-Length"],
            "X-Content-Type": metadata.get("Content-Type", ""),
            "X-Etag": metadata["ETag"],
        }
        for name, value in metadata.items():  # a large object lists as its whole
            what = name.lower().removeprefix(UPDATE_OVERRIDE)
            if what != name.lower() and what in ("size", "etag", "content-type"):
                headers[f"X-{title(what)}"] = value
    policy = request.headers.get("x-backend-storage-policy-index")
    if policy:
        headers["X-Backend-Storage-Policy-Index"] = policy
    for name in ("x-account-host", "x-account-device", "x-account-partition"):
        if name in request.headers:  # the container reports its new totals there
            headers[title(name)] = request.headers[name]
    names = (target.account, target.container or "", target.obj or "")
    return Update(devices / target.device, host, device, partition, names, headers)


async def send_updates(
    client: httpx.AsyncClient, updates: list[Update], method: str, patience: float
) -> None:
    """Send ``updates``, one request per container server, each given ``patience`` seconds;
    queue those a server did not take."""
    groups: dict[tuple[str, str], list[Update]] = {}
    for update in updates:
        groups.setdefault((update.host, update.partition), []).append(update)
    await asyncio.gather(*(_send(client, g, method, patience) for g in groups.values()))


async def _send(
    client: httpx.AsyncClient, group: list[Update], method: str, patience: float
) -> None:
    first, others = group[0], group[1:]
    headers = together.ask(first.headers, [(u.container_device, u.headers) for u in others])
    statuses: list[int] | None = None
    try:
        response = await client.request(method, first.url, headers=headers, timeout=patience)
        if not others:
            statuses = [response.status_code]
        elif together.ANSWERED.lower() in response.headers:
            answered = together.answers(response.content, len(group))
            statuses = [status for status, _ in answered] if answered else None
    except httpx.HTTPError as exc:
        LOG.info("container update %s %s failed: %s", method, first.url, exc)
    for update, status in zip(group, statuses or [599] * len(group), strict=True):
        if status >= 300:
            await in_thread(_queue, update, method)


def _queue(update: Update, method: str) -> None:
    """Keep a container update the container server did not take, for the updater."""
    folder = update.device / "async_pending"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{update.headers['X-Timestamp']}-{os.urandom(4).hex()}.json"
    temporary = folder / f".{name}"
    record = {"method": method, "url": update.url, "headers": update.headers}
    temporary.write_text(json.dumps(record))
    os.replace(temporary, folder / name)
