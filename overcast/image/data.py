"""Image data: uploads that claim, stream, and activate; streamed downloads with ranges.

An upload is three short steps around the long one, so that no database
transaction stays open while bytes move::

    claim     queued -> saving, with a fresh upload id (a second upload gets 409)
    stream    ingest.ingest(): hash, inspect and write the data, then commit it
    activate  saving -> active, but only if the image still carries our upload id;
              an image deleted meanwhile gets its data removed and the client a 410

Any failure while streaming puts the image back to ``queued`` (ready for another
try) with nothing left in the store. If the whole process dies instead, the image
stays ``saving`` with a stale heartbeat; a new upload (or the next start) takes it
back after :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    PayloadTooLarge,
    ServiceUnavailable,
)
from overcast.common.auth.context import RequestContext
from overcast.image.access import Caller, enforce, image_for_update, visible_image
from overcast.image.formats import FormatMismatch
from overcast.image.ingest import HASH_ALGO, Expectations, Limit, Stored, TooLarge, ingest
from overcast.image.models import Image
from overcast.image.service import ImageService
from overcast.image.stores import DataNotFound, StorageFull, Store, StoreError

LOG = logging.getLogger(__name__)
HEARTBEAT = 10.0
"""Seconds between the marks a running upload leaves on its image."""
STALE_AFTER = 60.0
"""Seconds without a mark after which an upload is taken for dead."""
MIB = 1 << 20


@dataclass(frozen=True)
class Claim:
    image_id: str
    upload_id: str
    store: Store
    expect: Expectations


async def upload(
    service: ImageService,
    context: RequestContext,
    image_id: str,
    chunks: AsyncIterable[bytes],
    *,
    content_length: int | None,
    store_id: str | None = None,
) -> None:
    """Store ``chunks`` as the image's data and make the image active.

    :raises NotFound, Forbidden, BadRequest, Conflict, PayloadTooLarge, Gone,
        ServiceUnavailable: as Glance does; on any failure the image is queued again.
    """
    claim = await _claim(service, context, image_id, content_length, store_id)
    await receive(service, claim, chunks)


async def receive(service: ImageService, claim: Claim, chunks: AsyncIterable[bytes]) -> None:
    """Stream the data of a claimed image into its store, then activate the image.

    :raises PayloadTooLarge, BadRequest, Gone, ServiceUnavailable: as :func:`upload`.
    """
    heartbeat = asyncio.create_task(_heartbeat(service, claim))
    try:
        stored = await ingest(
            chunks,
            claim.store.writer(claim.image_id),
            claim.expect,
            executor=service.executor,
            chunk_size=service.conf.chunk_size,
        )
    except BaseException as exc:
        heartbeat.cancel()
        await asyncio.shield(_release(service, claim))
        raise _api_error(exc) from None
    heartbeat.cancel()
    await _activate(service, claim, stored)


async def _claim(
    service: ImageService,
    context: RequestContext,
    image_id: str,
    content_length: int | None,
    store_id: str | None,
) -> Claim:
    now = service.clock.now()
    async with service.db.write() as session:
        image = await image_for_update(session, context, image_id, "upload_image")
        if image.disk_format is None or image.container_format is None:
            raise BadRequest(
                "Properties disk_format, container_format must be set prior to saving data."
            )
        stale = now - timedelta(seconds=STALE_AFTER)
        if image.status != "queued" and not (image.status == "saving" and image.updated_at < stale):
            raise Conflict(f"Image status transition from {image.status} to saving is not allowed")
        store = service.store(store_id) if store_id else service.default_store
        if store is None:
            raise BadRequest(f"Store for identifier {store_id} not found")
        limit = await _limit(service, session, image.owner)
        if content_length is not None and content_length > limit.bytes:
            raise PayloadTooLarge(limit.message)
        claim = Claim(
            image_id,
            str(uuid.uuid4()),
            store,
            Expectations(image.disk_format, service.conf.require_format_match, limit),
        )
        image.status = "saving"
        image.upload_id = claim.upload_id
        image.updated_at = now
    return claim


async def _limit(service: ImageService, session: AsyncSession, owner: str | None) -> Limit:
    cap = service.conf.image_size_cap
    quota = service.quota(owner).image_size_total
    if quota < 0:
        return Limit(cap, f"The incoming image is too large: the limit is {cap} bytes.")
    used = await session.scalar(
        select(func.coalesce(func.sum(Image.size), 0)).where(
            Image.owner == owner, Image.deleted.is_(False)
        )
    )
    room = max(quota * MIB - int(used or 0), 0)
    if room < cap:
        return Limit(
            room,
            f"Image exceeds the storage quota: the project's image_size_total limit is "
            f"{quota} MiB and {int(used or 0) // MIB} MiB are in use.",
        )
    return Limit(cap, f"The incoming image is too large: the limit is {cap} bytes.")


def claim_unchecked(service: ImageService, image: Image, store: Store) -> Claim:
    """Claim ``image`` (queued) for an upload the service itself makes: no policy, no quota."""
    claim = Claim(
        image.id,
        str(uuid.uuid4()),
        store,
        Expectations(
            image.disk_format or "raw",
            service.conf.require_format_match,
            Limit(service.conf.image_size_cap, "The image is larger than image_size_cap."),
        ),
    )
    image.status = "saving"
    image.upload_id = claim.upload_id
    return claim


async def _heartbeat(service: ImageService, claim: Claim) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT)
        async with service.db.write() as session:
            await session.execute(
                update(Image)
                .where(Image.id == claim.image_id, Image.upload_id == claim.upload_id)
                .values(updated_at=service.clock.now())
            )


async def _release(service: ImageService, claim: Claim) -> None:
    """Put the image back to ``queued`` after a failed upload (if it is still ours)."""
    try:
        async with service.db.write() as session:
            await session.execute(
                update(Image)
                .where(Image.id == claim.image_id, Image.upload_id == claim.upload_id)
                .values(status="queued", upload_id=None, updated_at=service.clock.now())
            )
    except Exception:
        LOG.exception("could not put image %s back to queued", claim.image_id)


async def _activate(service: ImageService, claim: Claim, stored: Stored) -> None:
    async with service.db.write() as session:
        result = await session.execute(
            update(Image)
            .where(
                Image.id == claim.image_id,
                Image.upload_id == claim.upload_id,
                Image.status == "saving",
                Image.deleted.is_(False),
            )
            .values(
                status="active",
                upload_id=None,
                size=stored.size,
                virtual_size=stored.virtual_size,
                checksum=stored.checksum,
                os_hash_algo=HASH_ALGO,
                os_hash_value=stored.os_hash_value,
                store=claim.store.info.id,
                location=stored.location,
                updated_at=service.clock.now(),
            )
        )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        await claim.store.delete(stored.location)
        raise Gone(
            f"Image {claim.image_id} could not be found after upload. The image may have "
            "been deleted during the upload; the uploaded data was removed."
        )


def _api_error(exc: BaseException) -> BaseException:
    if isinstance(exc, TooLarge):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, FormatMismatch):
        return BadRequest(str(exc))
    if isinstance(exc, StorageFull):
        return PayloadTooLarge(f"Image storage media is full: {exc}")
    if isinstance(exc, StoreError):
        return ServiceUnavailable(f"The image store failed: {exc}")
    return exc


async def release_stale_uploads(service: ImageService) -> int:
    """Put images whose upload died with its process back to ``queued``; returns how many."""
    stale = service.clock.now() - timedelta(seconds=STALE_AFTER)
    async with service.db.write() as session:
        result = await session.execute(
            update(Image)
            .where(Image.status == "saving", Image.updated_at < stale)
            .values(status="queued", upload_id=None, updated_at=service.clock.now())
        )
    count: int = result.rowcount  # type: ignore[attr-defined]
    return count


@dataclass(frozen=True)
class Download:
    size: int
    checksum: str | None
    offset: int
    length: int
    partial: bool
    body: AsyncIterator[bytes]


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


async def download(
    service: ImageService, context: RequestContext, image_id: str, range_header: str | None
) -> Download | None:
    """The image's data (or the asked range of it); None when the image has no data.

    :raises NotFound, Forbidden, ServiceUnavailable: as Glance does.
    :raises RangeNotSatisfiable: for a range past the end of the data.
    """
    caller = Caller.of(context)
    async with service.db.read() as session:
        image, member = await visible_image(session, context, image_id)
        enforce(context, "download_image", image, member)
    if image.status == "deactivated" and not caller.is_admin:
        raise Forbidden(
            "The requested image has been deactivated. Image data download is forbidden."
        )
    store = service.store(image.store)
    if image.status not in ("active", "deactivated") or store is None or not image.location:
        return None
    size = image.size or 0
    span = parse_range(range_header, size)
    offset, length = span if span else (0, size)
    body = store.read(image.location, offset, length)
    first = await _first_chunk(body, image_id) if length else b""
    return Download(size, image.checksum, offset, length, span is not None, _chain(first, body))


async def _first_chunk(body: AsyncIterator[bytes], image_id: str) -> bytes:
    """Open the data before answering, so a missing file is an error, not a short body."""
    try:
        return await anext(body)
    except (DataNotFound, StopAsyncIteration):
        raise ServiceUnavailable(
            f"The data of image {image_id} is missing from its store."
        ) from None
    except StoreError as exc:
        raise ServiceUnavailable(f"The image store failed: {exc}") from None


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        with contextlib.suppress(Exception):
            await rest.aclose()  # type: ignore[attr-defined]


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(offset, length)`` of a single ``bytes=`` range; None to send everything.

    :raises RangeNotSatisfiable: when the range starts past the end.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if not first:  # the last N bytes
            suffix = int(last)
            if suffix <= 0:
                raise RangeNotSatisfiable(size)
            start = max(size - suffix, 0)
            return start, size - start
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise RangeNotSatisfiable(size)
    end = min(end, size - 1)
    return start, end - start + 1
