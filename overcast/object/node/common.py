"""What the node's three servers share: its configuration, paths, timestamps, headers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from overcast.object import together
from overcast.object.timestamps import BadTimestamp, Timestamp


@dataclass(frozen=True)
class NodeConfig:
    devices: Path
    """Where the node's devices are (one directory each)."""
    hash_prefix: str = ""
    hash_suffix: str = ""
    fsync: bool = True
    update_timeout: float = 3.0
    """How long an object server waits for a container server's update before queueing it."""


DEVICE_SEEN_SECONDS = 1.0
"""How long a device found in place is taken to be still there without looking again."""
_devices_seen: dict[Path, float] = {}


def has_device(config: NodeConfig, name: str) -> bool:
    """Whether ``name`` is one of the node's devices (a directory under ``devices``).

    Every request asks: a stat each time cost the event loop more than the rest
    of a small GET's work on the node when other threads held the GIL.
    """
    path = config.devices / name
    now = time.monotonic()
    seen = _devices_seen.get(path)
    if seen is not None and now - seen < DEVICE_SEEN_SECONDS:
        return True
    if path.is_dir():
        _devices_seen[path] = now
        return True
    _devices_seen.pop(path, None)
    return False


class BadPath(Exception):
    pass


@dataclass(frozen=True)
class Target:
    device: str
    partition: int
    account: str
    container: str | None = None
    obj: str | None = None

    @property
    def name(self) -> str:
        """``/account/container/object`` (kept with an object, for replication)."""
        return "/" + "/".join(n for n in (self.account, self.container, self.obj) if n is not None)


def split_target(request: Request) -> Target:
    """The device, partition and names a request is for.

    :raises BadPath: when the path is not ``/device/partition/account[/container[/object]]``.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = unquote(raw.decode("latin-1").split("?", 1)[0], encoding="utf-8", errors="strict")
    parts = path.lstrip("/").split("/", 4)
    if len(parts) < 3 or not all(parts[:3]):
        raise BadPath(f"Invalid path: {path}")
    device, partition, account, *rest = parts
    if device in (".", "..") or "/" in device:
        raise BadPath(f"Invalid device: {device}")
    try:
        part = int(partition)
    except ValueError:
        raise BadPath(f"Invalid partition: {partition}") from None
    container = rest[0] if rest else None
    obj = rest[1] if len(rest) > 1 else None
    if container == "" or obj == "":
        raise BadPath(f"Invalid path: {path}")
    return Target(device, part, account, container, obj)


REPLICATE = ("POST", {"X-Backend-Replicate": "1"})
"""How a replicator asks a node (Swift's ``REPLICATE`` verb): a POST with this header.

Swift sends a verb of its own; uvicorn's HTTP parser refuses any but the standard
methods, so here the verb travels as a header. The proxy strips ``X-Backend-*``
headers from clients, so only nodes and their daemons can send it.
"""


def is_replication(request: Request) -> bool:
    return request.method == "POST" and "x-backend-replicate" in request.headers


def policy_of(request: Request) -> int:
    """``X-Backend-Storage-Policy-Index`` (0 when absent).

    :raises BadPath: when it is not a policy index.
    """
    value = request.headers.get("x-backend-storage-policy-index", "0")
    if not value.isdigit():
        raise BadPath(f"Invalid storage policy index: {value!r}")
    return int(value)


def suffix_of(target: Target) -> str:
    """The suffix a replication request names in the account's place: ``*`` or three hex digits.

    :raises BadPath: for anything else.
    """
    suffix = target.account
    if suffix != "*" and (len(suffix) != 3 or any(c not in "0123456789abcdef" for c in suffix)):
        raise BadPath(f"Invalid suffix: {suffix!r}")
    return suffix


def timestamp_of(request: Request) -> Timestamp:
    """``X-Timestamp``, which every write must carry.

    :raises BadTimestamp: when it is missing or not a timestamp.
    """
    value = request.headers.get("x-timestamp")
    if value is None:
        raise BadTimestamp("Missing X-Timestamp header")
    return Timestamp.parse(value)


_NOT_ANSWERED = ("content-length", "content-type")
"""A replica's answer headers that a node's one answer for several replicas leaves out."""


def title(header: str) -> str:
    """``x-object-meta-color`` -> ``X-Object-Meta-Color`` (how Swift shows header names)."""
    return "-".join(word.capitalize() for word in header.split("-"))


def plain(status: int, text: str = "", headers: dict[str, str] | None = None) -> Response:
    return Response(text, status_code=status, headers=headers, media_type="text/plain")


def other_replicas(request: Request, target: Target) -> list[tuple[Request, Target]]:
    """The other replicas of ``target`` on this node that the request names
    (:data:`~overcast.object.together.REPLICAS`), each as its own request: the same
    but for the device in its path and its own headers. Their body is the first's.

    :raises BadPath: when the header does not name replicas.
    """
    value = request.headers.get(together.REPLICAS)
    if value is None:
        return []
    try:
        listed = together.asked(value)
    except together.BadReplicas as exc:
        raise BadPath(str(exc)) from None
    scope = request.scope
    rest = scope.get("raw_path", b"").lstrip(b"/").partition(b"/")[2]
    found = []
    for device, own in listed:
        changed = {name.lower().encode("latin-1") for name in own}
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name not in changed and name != together.REPLICAS.lower().encode()
        ]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in own.items()]
        raw_path = b"/" + quote(device, safe="").encode() + b"/" + rest
        path = "/" + device + "/" + scope["path"].lstrip("/").partition("/")[2]
        found.append(
            (
                Request({**scope, "headers": headers, "raw_path": raw_path, "path": path}),
                Target(device, target.partition, target.account, target.container, target.obj),
            )
        )
    return found


def answer_each(answers: list[Response]) -> Response:
    """One answer for every replica of a request that named several."""
    body, headers = together.answer(
        [
            (a.status_code, {k: v for k, v in a.headers.items() if k not in _NOT_ANSWERED})
            for a in answers
        ]
    )
    return Response(body, headers=headers, media_type="application/json")
