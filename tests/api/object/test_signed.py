"""Temp URLs and form posts: access signed with an account's or a container's key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


def sign(key: str, body: str, digest: str = "sha256") -> str:
    return hmac.new(key.encode(), body.encode(), getattr(hashlib, digest)).hexdigest()


def temp_url(path: str, method: str, key: str, *, ttl: int = 60, digest: str = "sha256") -> str:
    expires = int(time.time()) + ttl
    signature = sign(key, f"{method}\n{expires}\n{path}", digest)
    return f"{path}?temp_url_sig={signature}&temp_url_expires={expires}"


async def test_temp_urls_let_anyone_in_until_they_expire(me: Api, swift: Swift) -> None:
    base = account(me)
    anonymous = swift.anonymous()
    await me.post(base, headers={"X-Account-Meta-Temp-URL-Key": "secret"})
    await me.put(f"{base}/tmp")
    meta = {"X-Object-Meta-Private": "p", "X-Object-Meta-Public-Note": "n"}
    await me.put(f"{base}/tmp/a b.txt", content=b"hello", headers=meta)
    path = f"{base}/tmp/a b.txt"

    got = await anonymous.get(temp_url(path, "GET", "secret"))
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["content-disposition"].startswith('attachment; filename="a b.txt"')
    assert "x-object-meta-private" not in got.headers
    assert got.headers["x-object-meta-public-note"] == "n"
    inline = await anonymous.get(temp_url(path, "GET", "secret") + "&inline")
    assert inline.headers["content-disposition"] == "inline"
    for digest in ("sha1", "sha512"):
        assert (await anonymous.get(temp_url(path, "GET", "secret", digest=digest))).is_success
    assert (await anonymous.head(temp_url(path, "GET", "secret"))).status_code == 200

    expired = await anonymous.get(temp_url(path, "GET", "secret", ttl=-5))
    assert expired.status_code == 401 and "Temp URL invalid" in expired.text
    assert (await anonymous.get(temp_url(path, "GET", "wrong"))).status_code == 401
    wrong_method = await anonymous.put(temp_url(path, "GET", "secret"), content=b"x")
    assert wrong_method.status_code == 401

    put = await anonymous.put(temp_url(path, "PUT", "secret"), content=b"replaced")
    assert put.status_code == 201
    assert (await me.get(path)).content == b"replaced"


async def test_container_keys_prefixes_and_base64_signatures(me: Api, swift: Swift) -> None:
    base = account(me)
    anonymous = swift.anonymous()
    await me.put(f"{base}/pre", headers={"X-Container-Meta-Temp-URL-Key": "ckey"})
    await me.put(f"{base}/pre/public/x", content=b"x")
    await me.put(f"{base}/pre/private/y", content=b"y")
    expires = int(time.time()) + 60
    signature = sign("ckey", f"GET\n{expires}\nprefix:{base}/pre/public/")
    query = f"temp_url_sig={signature}&temp_url_expires={expires}&temp_url_prefix=public/"
    assert (await anonymous.get(f"{base}/pre/public/x?{query}")).content == b"x"
    assert (await anonymous.get(f"{base}/pre/private/y?{query}")).status_code == 401

    raw = hmac.new(b"ckey", f"GET\n{expires}\n{base}/pre/public/x".encode(), "sha512").digest()
    b64 = "sha512:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    got = await anonymous.get(f"{base}/pre/public/x?temp_url_sig={b64}&temp_url_expires={expires}")
    assert got.content == b"x"


def form(
    path: str, key: str, *, expires: int, max_size: int = 1024, redirect: str = ""
) -> tuple[bytes, str]:
    fields = {
        "redirect": redirect,
        "max_file_size": str(max_size),
        "max_file_count": "2",
        "expires": str(expires),
    }
    body = f"{path}\n{redirect}\n{max_size}\n2\n{expires}"
    fields["signature"] = sign(key, body, "sha1")
    boundary = "b0undary"
    lines = []
    for name, value in fields.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    for name, text in (("one.txt", "first"), ("two.txt", "second")):
        lines += [
            f"--{boundary}",
            f'Content-Disposition: form-data; name="file"; filename="{name}"',
            "Content-Type: text/plain",
            "",
            text,
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode(), f"multipart/form-data; boundary={boundary}"


async def test_form_post_uploads_files(me: Api, swift: Swift) -> None:
    base = account(me)
    anonymous = swift.anonymous()
    await me.post(base, headers={"X-Account-Meta-Temp-URL-Key": "formkey"})
    await me.put(f"{base}/forms")
    body, media = form(f"{base}/forms/up-", "formkey", expires=int(time.time()) + 60)
    posted = await anonymous.post(
        f"{base}/forms/up-", content=body, headers={"Content-Type": media}
    )
    assert posted.status_code == 201
    got = await me.get(f"{base}/forms/up-two.txt")
    assert got.content == b"second" and got.headers["content-type"] == "text/plain"

    redirect = "http://example.com/done"
    body, media = form(
        f"{base}/forms/r-", "formkey", expires=int(time.time()) + 60, redirect=redirect
    )
    moved = await anonymous.post(f"{base}/forms/r-", content=body, headers={"Content-Type": media})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{redirect}?status=201&message="

    body, media = form(f"{base}/forms/x-", "formkey", expires=int(time.time()) - 1)
    late = await anonymous.post(f"{base}/forms/x-", content=body, headers={"Content-Type": media})
    assert late.status_code == 401 and "FormPost: Form Expired" in late.text
    body, media = form(f"{base}/forms/x-", "other", expires=int(time.time()) + 60)
    forged = await anonymous.post(f"{base}/forms/x-", content=body, headers={"Content-Type": media})
    assert forged.status_code == 401 and "FormPost: Invalid Signature" in forged.text
    body, media = form(f"{base}/forms/x-", "formkey", expires=int(time.time()) + 60, max_size=3)
    big = await anonymous.post(f"{base}/forms/x-", content=body, headers={"Content-Type": media})
    assert big.status_code == 400 and "max_file_size exceeded" in big.text
    assert (await me.get(f"{base}/forms/x-one.txt")).status_code == 404
