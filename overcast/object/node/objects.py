"""The object server: bodies and their metadata on this node's devices.

Every write carries the proxy's ``X-Timestamp``; the newest one wins on each
replica. After a PUT or DELETE the server tells the container server the proxy
named (``X-Container-Host/-Device/-Partition``) about the change; when that
server cannot be reached, the update is queued on the device for the updater.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from overcast.common.threads import in_thread
from overcast.object import conditions, ranges
from overcast.object.headers import OBJECT_SETTINGS
from overcast.object.node.common import (
    NodeConfig,
    Target,
    has_device,
    is_replication,
    plain,
    policy_of,
    suffix_of,
    timestamp_of,
    title,
)
from overcast.object.storage.diskfile import (
    Corrupt,
    Deleted,
    DiskFile,
    Found,
    NotFound,
    Writer,
    data_dir,
    path_hash,
    suffix_hashes,
    suffix_listing,
)
from overcast.object.storage.flush import Flushes
from overcast.object.timestamps import Timestamp

LOG = logging.getLogger(__name__)

KEPT = (*OBJECT_SETTINGS, "x-delete-at", "x-static-large-object")
KEPT_PREFIXES = ("x-object-meta-", "x-object-sysmeta-", "x-object-transient-sysmeta-")
POSTED = (*OBJECT_SETTINGS, "x-delete-at")
"""What a POST replaces (with every x-object-meta- and transient sysmeta header)."""
POSTED_PREFIXES = ("x-object-meta-", "x-object-transient-sysmeta-")
WHOLE_BODY = 64 * 1024
"""A body up to this size is answered in one piece: streaming it costs more than reading it."""
UPDATE_OVERRIDE = "x-object-sysmeta-container-update-override-"
"""What the container listing shows instead of the stored body's size and ETag."""


def kept_headers(
    request: Request, names: tuple[str, ...], prefixes: tuple[str, ...]
) -> dict[str, str]:
    return {
        title(name): value
        for name, value in request.headers.items()
        if name in names or name.startswith(prefixes)
    }


def merged(found: Found) -> dict[str, Any]:
    """The object's metadata with a newer POST's applied."""
    metadata = dict(found.metadata)
    if found.meta is not None:
        for key in list(metadata):
            low = key.lower()
            if low in POSTED or low.startswith(POSTED_PREFIXES):
                del metadata[key]
        metadata.update({k: v for k, v in found.meta.items() if k != "X-Timestamp"})
    return metadata


class ObjectServer:
    def __init__(self, config: NodeConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client
        self.flushes = Flushes()

    def diskfile(self, request: Request, target: Target) -> DiskFile:
        policy = policy_of(request)
        hash_ = path_hash(
            self.config.hash_prefix,
            self.config.hash_suffix,
            target.account,
            target.container or "",
            target.obj or "",
        )
        return DiskFile(self.config.devices / target.device, policy, target.partition, hash_)

    async def handle(self, request: Request, target: Target) -> Response:
        if not has_device(self.config, target.device):
            return plain(507, f"{target.device} is not a device here")
        if is_replication(request):
            return await self.replicate(request, target)
        method = request.method
        if method == "PUT":
            return await self.put(request, target)
        if method in ("GET", "HEAD"):
            return await self.get(request, target)
        if method == "POST":
            return await self.post(request, target)
        if method == "DELETE":
            return await self.delete(request, target)
        return plain(405)

    async def replicate(self, request: Request, target: Target) -> Response:
        """Replication (:data:`REPLICATE`) of ``/<device>/<partition>/*``: the partition's
        suffix hashes; of ``/<device>/<partition>/<suffix>``: that suffix's objects and files.
        """
        policy = policy_of(request)
        partition = self.config.devices / target.device / data_dir(policy) / str(target.partition)
        suffix = suffix_of(target)
        if suffix == "*":
            found: dict[str, Any] = await in_thread(suffix_hashes, partition)
        else:
            found = await in_thread(suffix_listing, partition, suffix)
        return Response(json.dumps(found), media_type="application/json")

    # -- reads ----------------------------------------------------------------------------

    def _current(self, df: DiskFile) -> Found | Response:
        try:
            found = df.current()
        except Deleted as gone:
            return plain(404, headers={"X-Backend-Timestamp": gone.timestamp.internal})
        except NotFound:
            return plain(404)
        except Corrupt as exc:
            LOG.warning("quarantining %s: %s", df.path, exc)
            df.quarantine()
            return plain(404)
        metadata = merged(found)
        delete_at = metadata.get("X-Delete-At")
        if delete_at and delete_at.isdigit() and int(delete_at) <= time.time():
            return plain(404, headers={"X-Backend-Timestamp": found.timestamp.internal})
        return found

    async def get(self, request: Request, target: Target) -> Response:
        df = self.diskfile(request, target)
        found = self._current(df)
        if isinstance(found, Response):
            return found
        metadata = merged(found)
        headers = {k: str(v) for k, v in metadata.items() if k not in ("Content-Length",)}
        timestamp = found.timestamp
        last_modified = float(int(timestamp.seconds + 0.99999))  # rounded up, like Swift
        headers["Last-Modified"] = formatdate(last_modified, usegmt=True)
        headers["X-Backend-Timestamp"] = timestamp.internal
        headers["X-Timestamp"] = timestamp.normal
        headers["Accept-Ranges"] = "bytes"
        etag = str(metadata.get("ETag", ""))
        headers["ETag"] = f'"{etag}"' if etag else ""
        reading = request.method in ("GET", "HEAD")
        named = {k.lower(): str(v) for k, v in metadata.items()}
        # a large object's manifest answers conditions with the whole object's ETag
        etag_at = request.headers.get("x-backend-etag-is-at", "").lower()
        status = conditions.evaluate(
            request.headers, named.get(etag_at, etag), last_modified, reading=reading
        )
        if status is not None:
            # what the proxy needs to tell a large object's answer from its manifest's
            shown = {"etag", "last-modified", "x-object-manifest", "x-static-large-object", etag_at}
            keep = {k: v for k, v in headers.items() if k.lower() in shown}
            return Response(status_code=status, headers=keep)
        size = found.size
        asked = request.headers.get("range")
        # a manifest is read whole: the proxy takes the range of what it assembles
        whole_if = request.headers.get("x-backend-ignore-range-if-metadata-present", "")
        if any(name.strip().lower() in named for name in whole_if.split(",") if name.strip()):
            asked = None
        try:
            wanted = ranges.parse(asked, size)
        except ranges.Unsatisfiable:
            return plain(416, headers={"Content-Range": f"bytes */{size}"})
        # the stored type, exactly: Starlette's media_type would add a charset to text/*
        content_type = headers.setdefault("Content-Type", "application/octet-stream")
        if request.method == "HEAD" or wanted is None:
            headers["Content-Length"] = str(size)
            if request.method == "HEAD":
                return Response(status_code=200, headers=headers)
            if size <= WHOLE_BODY:
                return Response(b"".join(found.chunks()), headers=headers)
            return StreamingResponse(_iterate(found.chunks()), headers=headers)
        if len(wanted) == 1:
            start, end = wanted[0]
            headers["Content-Range"] = ranges.content_range(start, end, size)
            headers["Content-Length"] = str(end - start)
            return StreamingResponse(
                _iterate(found.chunks(start, end)),
                status_code=206,
                headers=headers,
            )
        mark = ranges.boundary()
        pieces = list(ranges.multipart_parts(wanted, size, content_type, mark))
        headers["Content-Length"] = str(
            sum(len(text) + (span[1] - span[0] if span else 0) for text, span in pieces)
        )
        headers["Content-Type"] = f"multipart/byteranges;boundary={mark}"
        return StreamingResponse(
            _iterate(_multipart(found, pieces)),
            status_code=206,
            headers=headers,
        )

    # -- writes ---------------------------------------------------------------------------

    async def put(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        df = self.diskfile(request, target)
        newest = _newest(df)
        if newest is not None and newest >= timestamp:
            return plain(409, headers={"X-Backend-Timestamp": newest.internal})
        length = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        if length is None and not chunked:
            return plain(411, "Missing Content-Length or Transfer-Encoding: chunked")
        if "content-type" not in request.headers:
            return plain(400, "No content type")
        with df.writer() as writer:
            try:
                await _receive(request, writer)
            except ClientDisconnect:
                return plain(499, "Client disconnected")
            if length is not None and writer.size != int(length):
                return plain(499, "Client disconnected: the body was short")
            sent = request.headers.get("etag", "").strip('"').lower()
            if sent and sent != writer.etag:
                return plain(422, "Unprocessable Entity: the body does not match its ETag")
            metadata = {
                **kept_headers(request, KEPT, KEPT_PREFIXES),
                "Name": target.name,
                "X-Timestamp": timestamp.internal,
                "ETag": writer.etag,
                "Content-Length": str(writer.size),
            }
            # made durable by a flush of the device's filesystem, shared with the PUTs of now
            await in_thread(partial(writer.commit, metadata, durable=False))
            await self.flushes.flushed(df.device_path)
        await self._update_container(request, target, "PUT", timestamp, metadata)
        return plain(201, headers={"ETag": f'"{writer.etag}"'})

    async def post(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        df = self.diskfile(request, target)
        found = self._current(df)
        if isinstance(found, Response):
            return found
        # a POST's metadata is only kept when newer than the data it applies to
        newest = Timestamp.parse(found.meta["X-Timestamp"]) if found.meta else found.timestamp
        if newest >= timestamp:
            return plain(409, headers={"X-Backend-Timestamp": newest.internal})
        posted = kept_headers(request, POSTED, POSTED_PREFIXES)
        if "Content-Type" not in posted:
            posted["Content-Type"] = found.metadata.get("Content-Type", "")
        await in_thread(df.post, timestamp, posted)
        return plain(202)

    async def delete(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        df = self.diskfile(request, target)
        newest = _newest(df)
        try:
            existed = not isinstance(self._current(df), Response)
        except OSError:
            existed = False
        if newest is not None and newest >= timestamp:
            return plain(409, headers={"X-Backend-Timestamp": newest.internal})
        await in_thread(df.delete, timestamp, {"Name": target.name})
        await self._update_container(request, target, "DELETE", timestamp, {})
        return plain(204 if existed else 404)

    async def _update_container(
        self,
        request: Request,
        target: Target,
        method: str,
        timestamp: Timestamp,
        metadata: dict[str, Any],
    ) -> None:
        if "x-backend-replication" in request.headers:
            return  # a copy between replicas: the container has its row already
        host = request.headers.get("x-container-host")
        device = request.headers.get("x-container-device")
        partition = request.headers.get("x-container-partition")
        if not (host and device and partition):
            return
        names = (device, partition, target.account, target.container or "", target.obj or "")
        path = "/".join(quote(name, safe="") for name in names)
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
        url = f"http://{host}/{path}"
        try:
            response = await self.client.request(
                method, url, headers=headers, timeout=self.config.update_timeout
            )
            if response.status_code < 300:
                return
        except httpx.HTTPError as exc:
            LOG.info("container update %s %s failed: %s", method, url, exc)
        await in_thread(_queue_update, self.config.devices / target.device, method, url, headers)


def _newest(df: DiskFile) -> Timestamp | None:
    files = df.files()
    return files[0][0] if files else None


def _queue_update(device: Path, method: str, url: str, headers: dict[str, str]) -> None:
    """Keep a container update the container server did not take, for the updater."""
    folder = device / "async_pending"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{headers['X-Timestamp']}-{os.urandom(4).hex()}.json"
    temporary = folder / f".{name}"
    temporary.write_text(json.dumps({"method": method, "url": url, "headers": headers}))
    os.replace(temporary, folder / name)


async def _iterate(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _multipart(found: Found, pieces: list[tuple[bytes, tuple[int, int] | None]]) -> Iterator[bytes]:
    for text, span in pieces:
        if span is None:
            yield text
        else:
            yield from found.chunks(*span)


async def _receive(request: Request, writer: Writer) -> None:
    """Write the request's body: a megabyte at a time in a thread, where hashing and
    writing run beside the other replicas' (hashlib lets go of the GIL); a smaller body
    is only held, for the commit's thread to write."""
    batch: list[bytes] = []
    held = 0
    async for chunk in request.stream():
        batch.append(chunk)
        held += len(chunk)
        if held >= Writer.SPILL:
            await in_thread(writer.write_all, batch)
            batch, held = [], 0
    if writer.size:  # a large body's tail goes to its file like the rest
        await in_thread(writer.write_all, batch)
    else:
        writer.write_all(batch)
