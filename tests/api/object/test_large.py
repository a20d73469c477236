"""Static and dynamic large objects: manifests read as their segments' concatenation."""

from __future__ import annotations

import base64
import hashlib
import json

from tests.api.identity.conftest import Api
from tests.api.object.conftest import account


def md5(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.md5(raw).hexdigest()


async def test_static_large_object(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/segs")
    await me.put(f"{base}/segs/1", content=b"aaaa")
    await me.put(f"{base}/segs/2", content=b"bbbbbb")
    manifest = [
        {"path": "/segs/1", "etag": md5(b"aaaa"), "size_bytes": 4},
        {"path": "segs/2", "etag": None, "size_bytes": None, "range": "1-3"},
        {"data": base64.b64encode(b"!!").decode()},
    ]
    made = await me.put(
        f"{base}/segs/big?multipart-manifest=put",
        content=json.dumps(manifest),
        headers={"Content-Type": "text/x-big"},
    )
    assert made.status_code == 201, made.text
    slo_etag = md5(md5(b"aaaa") + f"{md5(b'bbbbbb')}:1-3;" + md5(b"!!"))
    assert made.headers["etag"] == f'"{slo_etag}"'

    got = await me.get(f"{base}/segs/big")
    assert got.content == b"aaaabbb!!"
    assert got.headers["x-static-large-object"] == "True"
    assert got.headers["etag"] == f'"{slo_etag}"'
    assert got.headers["content-type"] == "text/x-big"
    head = await me.head(f"{base}/segs/big")
    assert head.headers["content-length"] == "9"
    part = await me.get(f"{base}/segs/big", headers={"Range": "bytes=3-5"})
    assert (part.status_code, part.content) == (206, b"abb")
    assert part.headers["content-range"] == "bytes 3-5/9"
    tail = await me.get(f"{base}/segs/big", headers={"Range": "bytes=-3"})
    assert tail.content == b"b!!"
    cached = await me.get(f"{base}/segs/big", headers={"If-None-Match": f'"{slo_etag}"'})
    assert cached.status_code == 304
    mismatch = await me.get(f"{base}/segs/big", headers={"If-Match": md5(b"other")})
    assert mismatch.status_code == 412

    listed = (await me.get(f"{base}/segs?format=json")).json()
    big = next(entry for entry in listed if entry["name"] == "big")
    assert (big["bytes"], big["hash"]) == (9, slo_etag)

    stored = (await me.get(f"{base}/segs/big?multipart-manifest=get")).json()
    assert [entry.get("name") for entry in stored] == ["/segs/1", "/segs/2", None]
    raw = (await me.get(f"{base}/segs/big?multipart-manifest=get&format=raw")).json()
    assert raw[1] == {"path": "/segs/2", "etag": md5(b"bbbbbb"), "size_bytes": 6, "range": "1-3"}

    copied = await me.put(f"{base}/segs/copy", headers={"X-Copy-From": "segs/big"}, content=b"")
    assert copied.status_code == 201
    plain = await me.head(f"{base}/segs/copy")
    assert "x-static-large-object" not in plain.headers
    assert plain.headers["content-length"] == "9"

    gone = await me.delete(
        f"{base}/segs/big?multipart-manifest=delete", headers={"Accept": "application/json"}
    )
    assert gone.status_code == 200
    assert gone.json()["Number Deleted"] == 3
    assert (await me.get(f"{base}/segs/1")).status_code == 404


async def test_bad_manifests(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/bad")
    await me.put(f"{base}/bad/seg", content=b"data")
    put = f"{base}/bad/m?multipart-manifest=put"
    assert (await me.put(put, content=b"not json")).status_code == 400
    assert (await me.put(put, content=b"[]")).status_code == 400
    missing = await me.put(put, content=json.dumps([{"path": "bad/none"}]))
    assert missing.status_code == 400 and "/bad/none, 404 Not Found" in missing.text
    wrong = await me.put(put, content=json.dumps([{"path": "bad/seg", "etag": md5(b"x")}]))
    assert wrong.status_code == 400 and "Etag Mismatch" in wrong.text
    size = await me.put(put, content=json.dumps([{"path": "bad/seg", "size_bytes": 5}]))
    assert size.status_code == 400 and "Size Mismatch" in size.text
    keys = await me.put(put, content=json.dumps([{"path": "bad/seg", "colour": "red"}]))
    assert keys.status_code == 400
    reserved = await me.put(f"{base}/bad/r", headers={"X-Static-Large-Object": "True"})
    assert reserved.status_code == 400
    not_slo = await me.delete(f"{base}/bad/seg?multipart-manifest=delete")
    assert not_slo.status_code == 400


async def test_dynamic_large_object(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/dlo")
    for index, text in enumerate((b"one-", b"two-", b"three")):
        await me.put(f"{base}/dlo/parts/{index:02}", content=text)
    made = await me.put(
        f"{base}/dlo/whole", headers={"X-Object-Manifest": "dlo/parts/"}, content=b""
    )
    assert made.status_code == 201
    got = await me.get(f"{base}/dlo/whole")
    assert got.content == b"one-two-three"
    etag = md5("".join(md5(t) for t in (b"one-", b"two-", b"three")))
    assert got.headers["etag"] == f'"{etag}"'
    assert got.headers["x-object-manifest"] == "dlo/parts/"
    assert (await me.head(f"{base}/dlo/whole")).headers["content-length"] == "13"
    part = await me.get(f"{base}/dlo/whole", headers={"Range": "bytes=2-5"})
    assert (part.status_code, part.content) == (206, b"e-tw")
    cached = await me.get(f"{base}/dlo/whole", headers={"If-None-Match": f'"{etag}"'})
    assert cached.status_code == 304
    # the manifest's own (empty) ETag is not the object's: the object is read whole
    own_etag = {"If-None-Match": md5(b"")}
    assert (await me.get(f"{base}/dlo/whole", headers=own_etag)).content == b"one-two-three"
    assert (await me.get(f"{base}/dlo/whole", headers={"If-Match": md5(b"")})).status_code == 412
    own = await me.get(f"{base}/dlo/whole?multipart-manifest=get")
    assert own.content == b""
    await me.put(f"{base}/dlo/parts/03", content=b"!")  # segments are read at read time
    assert (await me.get(f"{base}/dlo/whole")).content == b"one-two-three!"
    bad = await me.put(f"{base}/dlo/bad", headers={"X-Object-Manifest": "no-slash"}, content=b"")
    assert bad.status_code == 400
    posted = await me.post(f"{base}/dlo/parts/00", headers={"X-Object-Manifest": "dlo/parts/0"})
    assert posted.status_code == 202
    assert (await me.head(f"{base}/dlo/parts/00")).headers["x-object-manifest"] == "dlo/parts/0"
