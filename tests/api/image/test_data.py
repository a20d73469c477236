"""``/v2/images/{id}/file``: uploads that are checked, counted and all-or-nothing; downloads."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from overcast.common.config import ImageQuota
from overcast.image import data
from overcast.image.stores import FileStore, StorageFull, StoreError
from overcast.image.stores.file import FileWriter
from tests.api.identity.conftest import Api
from tests.api.image.conftest import OCTETS, ImageCloud, active_image, make_image, upload
from tests.unit.image.test_formats import qcow2


def stored_files(cloud: ImageCloud) -> set[str]:
    root: Path = cloud.image.default_store.root  # type: ignore[attr-defined]
    return {p.name for p in root.rglob("*") if p.is_file()}


async def test_upload_then_download_gives_back_the_same_bytes(owner: Api) -> None:
    payload = os.urandom(300_000)
    image = await make_image(owner)
    assert (await upload(owner, image["id"], payload)).status_code == 204
    shown = (await owner.get(f"/v2/images/{image['id']}")).json()
    assert shown["status"] == "active" and shown["size"] == len(payload)
    assert shown["checksum"] == hashlib.md5(payload).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(payload).hexdigest()
    assert shown["virtual_size"] == len(payload) and shown["stores"] == "file"
    response = await owner.get(f"/v2/images/{image['id']}/file")
    assert response.status_code == 200 and response.content == payload
    assert response.headers["Content-MD5"] == shown["checksum"]
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(payload))


async def test_a_chunked_upload_streams(owner: Api) -> None:
    pieces = [os.urandom(50_000) for _ in range(7)]

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    image = await make_image(owner)
    response = await owner.put(f"/v2/images/{image['id']}/file", content=body(), headers=OCTETS)
    assert response.status_code == 204, response.text
    assert (await owner.get(f"/v2/images/{image['id']}/file")).content == b"".join(pieces)


async def test_ranges_are_served_partially(owner: Api) -> None:
    payload = bytes(range(256)) * 40
    image = await active_image(owner, data=payload)
    base = f"/v2/images/{image['id']}/file"
    part = await owner.get(base, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == payload[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(payload)}"
    assert "Content-MD5" not in part.headers
    tail = await owner.get(base, headers={"Range": "bytes=-7"})
    assert tail.content == payload[-7:]
    beyond = await owner.get(base, headers={"Range": f"bytes={len(payload)}-"})
    assert (
        beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(payload)}"
    )
    head = await owner.head(base)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(payload))


async def test_an_image_without_data_downloads_as_no_content(owner: Api) -> None:
    image = await make_image(owner)
    response = await owner.get(f"/v2/images/{image['id']}/file")
    assert response.status_code == 204 and response.content == b""


async def test_uploads_need_octet_stream_formats_and_a_queued_image(owner: Api) -> None:
    image = await make_image(owner)
    wrong = await owner.put(
        f"/v2/images/{image['id']}/file", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert wrong.status_code == 415
    bare = (await owner.post("/v2/images", json={"name": "no formats"})).json()
    missing = await upload(owner, bare["id"], b"x")
    assert missing.status_code == 400 and "disk_format" in missing.json()["message"]
    active = await active_image(owner)
    again = await upload(owner, active["id"], b"more")
    assert again.status_code == 409 and "active to saving" in again.json()["message"]
    bad_length = await owner.put(
        f"/v2/images/{image['id']}/file",
        content=b"x",
        headers={**OCTETS, "X-Image-Meta-Store": "nowhere"},
    )
    assert bad_length.status_code == 400 and "nowhere" in bad_length.json()["message"]


async def test_other_projects_cannot_upload_or_download(owner: Api, other: Api) -> None:
    private = await active_image(owner, visibility="private")
    assert (await other.get(f"/v2/images/{private['id']}/file")).status_code == 404
    assert (await upload(other, private["id"], b"x")).status_code == 404
    community = await make_image(owner, visibility="community")
    refused = await upload(other, community["id"], b"x")
    assert refused.status_code == 403 and "upload_image" in refused.json()["message"]


async def test_readers_download_nothing(owner: Api, reader: Api, admin: Api) -> None:
    public = await active_image(admin, visibility="public")
    assert (await reader.get(f"/v2/images/{public['id']}")).status_code == 200
    assert (await reader.get(f"/v2/images/{public['id']}/file")).status_code == 403


async def test_data_in_another_format_is_refused_and_the_image_stays_queued(
    owner: Api, image_cloud: ImageCloud
) -> None:
    before = stored_files(image_cloud)
    image = await make_image(owner, disk_format="raw")
    response = await upload(owner, image["id"], qcow2() + os.urandom(100_000))
    assert response.status_code == 400 and "qcow2 format" in response.json()["message"]
    assert (await owner.get(f"/v2/images/{image['id']}")).json()["status"] == "queued"
    assert stored_files(image_cloud) == before
    assert (await upload(owner, image["id"], b"plain raw bytes")).status_code == 204


async def test_qcow2_virtual_size_is_read_and_unsafe_qcow2_refused(owner: Api) -> None:
    good = await make_image(owner, disk_format="qcow2")
    assert (await upload(owner, good["id"], qcow2(5 << 30) + b"\0" * 4096)).status_code == 204
    assert (await owner.get(f"/v2/images/{good['id']}")).json()["virtual_size"] == 5 << 30
    risky = await make_image(owner, disk_format="qcow2")
    response = await upload(owner, risky["id"], qcow2(backing=1024) + b"\0" * 4096)
    assert response.status_code == 400 and "backing file" in response.json()["message"]
    liar = await make_image(owner, disk_format="qcow2")
    assert (await upload(owner, liar["id"], b"not a qcow2 at all")).status_code == 400


async def test_the_project_quota_limits_image_bytes(owner: Api, image_cloud: ImageCloud) -> None:
    conf = image_cloud.image.conf
    quotas = {owner.project_id: ImageQuota(image_size_total=1)}
    image_cloud.image.conf = conf.model_copy(update={"project_quotas": quotas})
    before = stored_files(image_cloud)
    try:
        first = await make_image(owner)
        assert (await upload(owner, first["id"], b"a" * 700_000)).status_code == 204
        second = await make_image(owner)
        response = await upload(owner, second["id"], b"b" * 700_000)
        assert response.status_code == 413 and "quota" in response.json()["message"]
        assert (await owner.get(f"/v2/images/{second['id']}")).json()["status"] == "queued"
        assert stored_files(image_cloud) == before | {first["id"]}
        usage = (await owner.get("/v2/info/usage")).json()["usage"]
        assert usage["image_size_total"] == {"limit": 1, "usage": 0}
        assert usage["image_count_total"]["usage"] == 2
    finally:
        image_cloud.image.conf = conf


async def test_the_size_cap_refuses_big_images_up_front(
    owner: Api, image_cloud: ImageCloud
) -> None:
    conf = image_cloud.image.conf
    image_cloud.image.conf = conf.model_copy(update={"image_size_cap": 1000})
    try:
        image = await make_image(owner)
        response = await upload(owner, image["id"], b"c" * 1001)
        assert response.status_code == 413 and "too large" in response.json()["message"]
        assert (await upload(owner, image["id"], b"c" * 1000)).status_code == 204
    finally:
        image_cloud.image.conf = conf


class FailingWriter(FileWriter):
    failure: Exception = StoreError("could not write image data: Input/output error")

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self.written > 100_000:
            raise self.failure
        super()._write(chunk)


class FailingStore(FileStore):
    def __init__(self, real: FileStore, failure: Exception) -> None:
        super().__init__(real.root, real.executor)
        self.failure = failure

    def writer(self, image_id: str) -> FileWriter:
        writer = FailingWriter(self, image_id)
        writer.failure = self.failure
        return writer


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        (
            StorageFull("image storage is full (No space left on device)"),
            413,
            "storage media is full",
        ),
        (StoreError("could not write image data: Input/output error"), 503, "store failed"),
    ],
)
async def test_store_failures_are_clean_errors_and_leave_nothing(
    owner: Api, image_cloud: ImageCloud, failure: Exception, status: int, words: str
) -> None:
    service = image_cloud.image
    real = service.stores["file"]
    service.stores["file"] = FailingStore(real, failure)  # type: ignore[arg-type]
    before = stored_files(image_cloud)
    try:
        image = await make_image(owner)
        response = await upload(owner, image["id"], os.urandom(500_000))
        assert response.status_code == status and words in response.json()["message"]
        assert (await owner.get(f"/v2/images/{image['id']}")).json()["status"] == "queued"
        assert stored_files(image_cloud) == before
    finally:
        service.stores["file"] = real
    assert (await upload(owner, image["id"], b"second try")).status_code == 204


async def test_an_interrupted_upload_leaves_a_retryable_image(
    owner: Api, image_cloud: ImageCloud
) -> None:
    service = image_cloud.image
    image = await make_image(owner)
    before = stored_files(image_cloud)

    async def cut_off() -> AsyncIterator[bytes]:
        yield b"d" * 200_000
        raise ConnectionResetError("peer closed the connection")

    context = await _context(image_cloud, owner)
    with pytest.raises(ConnectionResetError):
        await data.upload(service, context, image["id"], cut_off(), content_length=None)
    assert (await owner.get(f"/v2/images/{image['id']}")).json()["status"] == "queued"
    assert stored_files(image_cloud) == before
    assert (await upload(owner, image["id"], b"complete")).status_code == 204


async def test_a_second_upload_waits_its_turn_unless_the_first_died(
    owner: Api, image_cloud: ImageCloud
) -> None:
    image = await make_image(owner)
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"e" * 1000
        await gate.wait()
        yield b"e" * 1000

    first = asyncio.create_task(
        owner.put(f"/v2/images/{image['id']}/file", content=slow(), headers=OCTETS)
    )
    for _ in range(100):
        if (await owner.get(f"/v2/images/{image['id']}")).json()["status"] == "saving":
            break
        await asyncio.sleep(0.01)
    second = await upload(owner, image["id"], b"other data")
    assert second.status_code == 409 and "saving to saving" in second.json()["message"]
    gate.set()
    assert (await first).status_code == 204


async def test_an_upload_dead_for_a_minute_is_taken_over(
    owner: Api, image_cloud: ImageCloud
) -> None:
    image = await make_image(owner)
    context = await _context(image_cloud, owner)
    claim = await data._claim(image_cloud.image, context, image["id"], None, None)  # crashed here
    assert (await upload(owner, image["id"], b"x")).status_code == 409
    image_cloud.clock.advance(data.STALE_AFTER + 1)
    assert (await upload(owner, image["id"], b"fresh")).status_code == 204
    assert claim.upload_id != ""


async def test_deleting_an_image_during_its_upload_removes_the_data(
    owner: Api, image_cloud: ImageCloud
) -> None:
    image = await make_image(owner)
    before = stored_files(image_cloud)
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"f" * 5000
        await gate.wait()

    uploading = asyncio.create_task(
        owner.put(f"/v2/images/{image['id']}/file", content=slow(), headers=OCTETS)
    )
    for _ in range(100):
        if (await owner.get(f"/v2/images/{image['id']}")).json()["status"] == "saving":
            break
        await asyncio.sleep(0.01)
    assert (await owner.delete(f"/v2/images/{image['id']}")).status_code == 204
    gate.set()
    response = await uploading
    assert response.status_code == 410 and "deleted during the upload" in response.json()["message"]
    assert stored_files(image_cloud) == before


async def _context(cloud: ImageCloud, api: Api):  # type: ignore[no-untyped-def]
    """A request context for ``api``'s token, as the middleware would build it."""
    from overcast.common.auth.context import RequestContext

    validator = cloud.image_validator
    context = RequestContext(request_id="req-test", enforcer=cloud.image.enforcer)
    context.auth = await validator.validate(api.token or "")
    return context
