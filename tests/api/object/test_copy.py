"""Server-side copy (COPY and X-Copy-From), crossdomain and sysmeta kept from clients."""

from __future__ import annotations

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


async def test_copy_keeps_metadata_and_can_replace_it(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/src")
    await me.put(f"{base}/dst")
    meta = {"Content-Type": "text/x-note", "X-Object-Meta-Colour": "blue"}
    await me.put(f"{base}/src/a", content=b"note", headers=meta)

    copied = await me.request(
        "COPY", f"{base}/src/a", headers={"Destination": "/dst/b", "X-Object-Meta-Size": "s"}
    )
    assert copied.status_code == 201
    assert copied.headers["x-copied-from"] == "src/a"
    assert copied.headers["x-object-meta-colour"] == "blue"
    assert copied.headers["x-object-meta-size"] == "s"
    assert "x-copied-from-last-modified" in copied.headers
    got = await me.get(f"{base}/dst/b")
    assert got.content == b"note" and got.headers["content-type"] == "text/x-note"
    assert got.headers["x-object-meta-colour"] == "blue"
    assert got.headers["x-object-meta-size"] == "s"

    fresh = {"X-Copy-From": "src/a", "X-Fresh-Metadata": "true", "X-Object-Meta-Only": "1"}
    assert (await me.put(f"{base}/dst/c", headers=fresh, content=b"")).status_code == 201
    got = await me.head(f"{base}/dst/c")
    assert got.headers["x-object-meta-only"] == "1"
    assert "x-object-meta-colour" not in got.headers
    assert got.headers["content-type"] == "text/x-note"


async def test_copy_onto_itself_updates_metadata(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/self")
    await me.put(f"{base}/self/o", content=b"x", headers={"X-Object-Meta-A": "1"})
    copied = await me.request(
        "COPY", f"{base}/self/o", headers={"Destination": "self/o", "X-Object-Meta-B": "2"}
    )
    assert copied.status_code == 201
    got = await me.head(f"{base}/self/o")
    assert (got.headers["x-object-meta-a"], got.headers["x-object-meta-b"]) == ("1", "2")


async def test_bad_copies(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/bad")
    await me.put(f"{base}/bad/o", content=b"x")
    no_dest = await me.request("COPY", f"{base}/bad/o")
    assert no_dest.status_code == 412
    half = await me.request("COPY", f"{base}/bad/o", headers={"Destination": "only-container"})
    assert half.status_code == 412 and "<container name>/<object name>" in half.text
    body = await me.put(f"{base}/bad/p", headers={"X-Copy-From": "bad/o"}, content=b"data")
    assert body.status_code == 400
    missing = await me.put(f"{base}/bad/p", headers={"X-Copy-From": "bad/none"}, content=b"")
    assert missing.status_code == 404
    stranger = await swift.tenant()
    theirs = f"/v1/AUTH_{stranger.project_id}"
    await stranger.put(f"{theirs}/c")
    cross = {"X-Copy-From": "bad/o", "X-Copy-From-Account": f"AUTH_{me.project_id}"}
    denied = await stranger.put(f"{theirs}/c/o", headers=cross, content=b"")
    assert denied.status_code == 403  # the stranger may not read the source


async def test_sysmeta_is_neither_taken_nor_shown(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/sys")
    sent = {"X-Object-Sysmeta-Slo-Size": "99", "X-Container-Sysmeta-X": "1"}
    await me.put(f"{base}/sys/o", content=b"x", headers=sent)
    got = await me.head(f"{base}/sys/o")
    assert not any("sysmeta" in name for name in got.headers)


async def test_crossdomain_policy(swift: Swift) -> None:
    got = await swift.proxy.get("/crossdomain.xml")
    assert got.status_code == 200
    assert got.text.startswith('<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy')
    assert '<allow-access-from domain="*" secure="false" />' in got.text
    info = (await swift.proxy.get("/info")).json()
    assert "crossdomain" in info
