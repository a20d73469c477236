"""The object server: bodies and their metadata on this node's devices.

Every write carries the proxy's ``X-Timestamp``; the newest one wins on each
replica. After a PUT or DELETE the server tells the container server the proxy
named (``X-Container-Host/-Device/-Partition``) about the change; when that
server cannot be reached, the update is queued on the device for the updater.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from typing import Any

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from overcast.common.threads import in_thread
from overcast.object import conditions, ranges
from overcast.object.headers import OBJECT_SETTINGS
from overcast.object.node.common import (
    NodeConfig,
    Target,
    answer_each,
    has_device,
    is_replication,
    other_replicas,
    plain,
    policy_of,
    suffix_of,
    timestamp_of,
    title,
)
from overcast.object.node.updates import send_updates, update_for
from overcast.object.storage.diskfile import (
    Copies,
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
        if request.method == "PUT":
            return await self.put(request, target)  # it looks for each replica's device
        if not has_device(self.config, target.device):
            return plain(507, f"{target.device} is not a device here")
        if is_replication(request):
            return await self.replicate(request, target)
        method = request.method
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
        """A PUT to ``target``, and to the other replicas on this node the proxy named
        (:data:`REPLICAS`): one body for all, each replica answered in a JSON list."""
        replicas = [(request, target), *other_replicas(request, target)]
        answers = await self._put(replicas)
        if len(replicas) == 1:
            return answers[0]
        return answer_each(answers)

    async def _put(self, replicas: list[tuple[Request, Target]]) -> list[Response]:
        request = replicas[0][0]
        timestamp = timestamp_of(request)
        length = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        if length is None and not chunked:
            missing = plain(411, "Missing Content-Length or Transfer-Encoding: chunked")
            return [missing] * len(replicas)
        if "content-type" not in request.headers:
            return [plain(400, "No content type")] * len(replicas)
        answers: list[Response | None] = []
        taking: list[tuple[Request, Target, DiskFile]] = []
        for replica, place in replicas:
            if not has_device(self.config, place.device):
                answers.append(plain(507, f"{place.device} is not a device here"))
                continue
            df = self.diskfile(replica, place)
            newest = _newest(df)
            if newest is not None and newest >= timestamp:
                answers.append(plain(409, headers={"X-Backend-Timestamp": newest.internal}))
                continue
            answers.append(None)
            taking.append((replica, place, df))
        if not taking:
            return [a for a in answers if a is not None]
        files = [df for _, _, df in taking]
        failed = await self._write(request, timestamp, length, files, replicas[0][1].name)
        if isinstance(failed, Response):
            return [failed if a is None else a for a in answers]
        metadata, etag = failed
        await self._tell_containers([(r, t) for r, t, _ in taking], "PUT", timestamp, metadata)
        made = plain(201, headers={"ETag": f'"{etag}"'})
        return [made if a is None else a for a in answers]

    async def _write(
        self,
        request: Request,
        timestamp: Timestamp,
        length: str | None,
        files: list[DiskFile],
        name: str,
    ) -> Response | tuple[dict[str, Any], str]:
        """The request's body as the new data of ``files``, durable: its metadata and ETag,
        or the answer that refuses it."""
        with contextlib.ExitStack() as stack:
            body = Copies([stack.enter_context(df.writer()) for df in files])
            try:
                await _receive(request, body)
            except ClientDisconnect:
                return plain(499, "Client disconnected")
            if length is not None and body.size != int(length):
                return plain(499, "Client disconnected: the body was short")
            sent = request.headers.get("etag", "").strip('"').lower()
            if sent and sent != body.etag:
                return plain(422, "Unprocessable Entity: the body does not match its ETag")
            metadata = {
                **kept_headers(request, KEPT, KEPT_PREFIXES),
                "Name": name,
                "X-Timestamp": timestamp.internal,
                "ETag": body.etag,
                "Content-Length": str(body.size),
            }
            # made durable by a flush of each device's filesystem, shared with the PUTs of now
            await in_thread(body.commit, metadata)
            devices = {df.device_path: None for df in files}
            await asyncio.gather(*(self.flushes.flushed(device) for device in devices))
        return metadata, body.etag

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
        await self._tell_containers([(request, target)], "DELETE", timestamp, {})
        return plain(204 if existed else 404)

    async def _tell_containers(
        self,
        replicas: list[tuple[Request, Target]],
        method: str,
        timestamp: Timestamp,
        metadata: dict[str, Any],
    ) -> None:
        found = [
            update_for(self.config.devices, r, t, method, timestamp, metadata) for r, t in replicas
        ]
        await send_updates(
            self.client, [u for u in found if u is not None], method, self.config.update_timeout
        )


def _newest(df: DiskFile) -> Timestamp | None:
    files = df.files()
    return files[0][0] if files else None


async def _iterate(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _multipart(found: Found, pieces: list[tuple[bytes, tuple[int, int] | None]]) -> Iterator[bytes]:
    for text, span in pieces:
        if span is None:
            yield text
        else:
            yield from found.chunks(*span)


async def _receive(request: Request, body: Copies) -> None:
    """Write the request's body to every copy.

    A large body goes a megabyte at a time to threads, one hashing it and one per
    copy writing it (hashlib and file writes let go of the GIL, so they run side by
    side), while the next megabyte arrives. A smaller body is only held, for the
    commit's thread to write.
    """
    batch: list[bytes] = []
    held = 0
    writing: asyncio.Future[Any] | None = None  # the previous megabyte's
    async for chunk in request.stream():
        batch.append(chunk)
        held += len(chunk)
        if held >= Writer.SPILL:
            if writing is not None:
                await writing
            writing = _write_batch(body, batch)
            batch, held = [], 0
    if writing is not None:
        await writing
        await _write_batch(body, batch)  # a large body's tail goes to its files like the rest
    else:
        body.hold(batch)


def _write_batch(body: Copies, batch: list[bytes]) -> asyncio.Future[Any]:
    jobs = [in_thread(body.hash_all, batch), *(in_thread(w.write_all, batch) for w in body.writers)]
    return asyncio.gather(*jobs)
