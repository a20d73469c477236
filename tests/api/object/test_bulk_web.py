"""Bulk extract and delete, and static websites."""

from __future__ import annotations

import io
import tarfile

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


def archive(files: dict[str, bytes], compression: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


async def test_extract_archive_and_bulk_delete(me: Api) -> None:
    base = account(me)
    files = {"site/index.html": b"<h1>hi</h1>", "site/img/a.png": b"png", "logs/1": b"x"}
    made = await me.put(
        f"{base}?extract-archive=tar.gz",
        content=archive(files, "gz"),
        headers={"Accept": "application/json"},
    )
    assert made.status_code == 200
    report = made.json()
    assert report["Number Files Created"] == 3 and report["Response Status"] == "201 Created"
    assert (await me.get(f"{base}/site/img/a.png")).content == b"png"

    into = await me.put(f"{base}/site/sub?extract-archive=tar", content=archive({"b": b"b"}))
    assert "Number Files Created: 1" in into.text
    assert (await me.get(f"{base}/site/sub/b")).content == b"b"
    broken = await me.put(f"{base}?extract-archive=tar", content=b"not a tar")
    assert "400 Bad Request" in broken.text
    assert (await me.put(f"{base}?extract-archive=zip", content=b"")).status_code == 400

    paths = "logs/1\nlogs\nsite\nnothing/here\n"
    gone = await me.request(
        "DELETE", f"{base}?bulk-delete", content=paths, headers={"Accept": "application/json"}
    )
    report = gone.json()
    assert (report["Number Deleted"], report["Number Not Found"]) == (2, 1)
    assert report["Errors"] == [["/site", "409 Conflict"]]
    assert report["Response Status"] == "400 Bad Request"
    posted = await me.post(f"{base}?bulk-delete", content="site/sub/b\n")
    assert "Number Deleted: 1" in posted.text


async def test_static_web_serves_anonymous_readers(me: Api, swift: Swift) -> None:
    base = account(me)
    web = swift.anonymous()
    public = {"X-Container-Read": ".r:*,.rlistings", "X-Container-Meta-Web-Index": "index.html"}
    await me.put(f"{base}/www", headers=public)
    await me.put(f"{base}/www/index.html", content=b"home")
    await me.put(f"{base}/www/docs/a.txt", content=b"a")
    await me.put(f"{base}/www/404err.html", content=b"custom missing")

    home = await web.get(f"{base}/www", follow_redirects=True)
    assert home.content == b"home"
    moved = await web.get(f"{base}/www/docs")
    assert moved.status_code == 301 and moved.headers["location"].endswith("/www/docs/")
    assert (await web.get(f"{base}/www/docs/")).status_code == 404  # no index, no listings

    await me.post(
        f"{base}/www",
        headers={"X-Container-Meta-Web-Listings": "true", "X-Container-Meta-Web-Error": "err.html",
                 "X-Container-Meta-Web-Listings-Css": "style.css"},
    )  # fmt: skip
    listing = await web.get(f"{base}/www/docs/")
    assert listing.status_code == 200 and 'href="a.txt"' in listing.text
    assert 'href="../style.css"' in listing.text
    missing = await web.get(f"{base}/www/nope")
    assert missing.status_code == 404 and missing.content == b"custom missing"
    # the owner, with a token, sees the API as ever
    assert (await me.get(f"{base}/www")).text.splitlines()[0] == "404err.html"
    web_mode = await me.get(f"{base}/www/", headers={"X-Web-Mode": "true"})
    assert web_mode.content == b"home"


async def test_cors_follows_the_container_settings(me: Api, swift: Swift) -> None:
    base = account(me)
    browser = swift.anonymous()
    allow = {
        "X-Container-Meta-Access-Control-Allow-Origin": "https://app.example",
        "X-Container-Meta-Access-Control-Max-Age": "600",
        "X-Container-Read": ".r:*",
    }
    await me.put(f"{base}/cors", headers=allow)
    await me.put(f"{base}/cors/o", content=b"x", headers={"X-Object-Meta-Tag": "t"})
    ask = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
           "Access-Control-Request-Headers": "x-auth-token"}  # fmt: skip
    ok = await browser.request("OPTIONS", f"{base}/cors/o", headers=ask)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert ok.headers["access-control-max-age"] == "600"
    assert ok.headers["access-control-allow-headers"] == "x-auth-token"
    other = {**ask, "Origin": "https://evil.example"}
    assert (await browser.request("OPTIONS", f"{base}/cors/o", headers=other)).status_code == 401
    got = await browser.get(f"{base}/cors/o", headers={"Origin": "https://app.example"})
    assert got.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-object-meta-tag" in got.headers["access-control-expose-headers"]
    plain = await browser.get(f"{base}/cors/o", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


async def test_bulk_operations_in_another_account_are_refused(me: Api, swift: Swift) -> None:
    base = account(me)
    stranger = await swift.tenant()
    await me.put(f"{base}/mine")
    await me.put(f"{base}/mine/o", content=b"x")
    headers = {"Accept": "application/json"}
    gone = await stranger.request(
        "DELETE", f"{base}?bulk-delete", content="mine/o\nmine\n", headers=headers
    )
    assert gone.json()["Number Deleted"] == 0
    assert [status for _, status in gone.json()["Errors"]] == ["403 Forbidden"] * 2
    made = await stranger.put(
        f"{base}?extract-archive=tar", content=archive({"mine/p": b"p"}), headers=headers
    )
    assert made.json()["Number Files Created"] == 0
    assert (await me.get(f"{base}/mine/o")).content == b"x"
    assert (await me.get(f"{base}/mine/p")).status_code == 404
