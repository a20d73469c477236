"""Swift's API through the proxy, in process: identity tokens, a storage node with three
devices behind the rings, and every replica reached through :class:`Hosts`."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import replace

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


async def account_totals(api: Api, wait: float = 2.0) -> list[tuple[str, int, int]]:
    """The account's containers with their counts, once containers have reported them.

    Containers report object changes to their account a moment later (as Swift's
    container updater does), so the totals are polled for a short while.
    """
    totals: list[tuple[str, int, int]] = []
    for _ in range(int(wait / 0.05)):
        listed = (await api.get(f"{account(api)}?format=json")).json()
        totals = [(c["name"], c["count"], c["bytes"]) for c in listed]
        if all(count for _, count, _ in totals):
            break
        await asyncio.sleep(0.05)
    return totals


async def test_containers_and_objects_round_trip(me: Api) -> None:
    base = account(me)
    created = await me.put(f"{base}/photos")
    assert created.status_code == 201 and created.headers["content-type"].startswith("text/html")
    assert (await me.put(f"{base}/photos")).status_code == 202
    made = await me.put(
        f"{base}/photos/2026/a.jpg",
        content=b"jpeg bytes",
        headers={"Content-Type": "image/jpeg", "X-Object-Meta-Camera": "x100"},
    )
    assert made.status_code == 201
    assert made.headers["etag"] == hashlib.md5(b"jpeg bytes").hexdigest()
    assert re.match(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$", made.headers["x-trans-id"])
    got = await me.get(f"{base}/photos/2026/a.jpg")
    assert got.status_code == 200 and got.content == b"jpeg bytes"
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-object-meta-camera"] == "x100"
    assert got.headers["etag"] == hashlib.md5(b"jpeg bytes").hexdigest()
    assert got.headers["accept-ranges"] == "bytes"
    assert not any(h.startswith("x-backend-") for h in got.headers)
    head = await me.head(f"{base}/photos")
    assert head.status_code == 204
    assert head.headers["accept-ranges"] == "bytes" and "x-timestamp" in head.headers
    assert head.headers["x-container-object-count"] == "1"
    assert head.headers["x-storage-policy"] == "gold"
    plain = await me.get(f"{base}/photos")
    assert plain.text == "2026/a.jpg\n"
    listed = (await me.get(f"{base}/photos?format=json")).json()
    assert [(o["name"], o["bytes"], o["content_type"]) for o in listed] == [
        ("2026/a.jpg", 10, "image/jpeg")
    ]
    folded = await me.get(f"{base}/photos?delimiter=/", headers={"Accept": "application/json"})
    assert folded.json() == [{"subdir": "2026/"}]
    xml = await me.get(f"{base}/photos?format=xml")
    assert b"<name>2026/a.jpg</name>" in xml.content
    assert await account_totals(me) == [("photos", 1, 10)]


async def test_every_replica_is_written(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/c")
    await me.put(f"{base}/c/o", content=b"x", headers={"Content-Type": "text/plain"})
    datas = list(swift.devices.rglob("*.data"))
    owners = {p.relative_to(swift.devices).parts[0] for p in datas if p.stat().st_size}
    assert owners == {"d1", "d2", "d3"}


async def test_delete_and_conflicts(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/c")
    await me.put(f"{base}/c/o", content=b"x", headers={"Content-Type": "text/plain"})
    assert (await me.delete(f"{base}/c")).status_code == 409
    assert (await me.delete(f"{base}/c/o")).status_code == 204
    assert (await me.get(f"{base}/c/o")).status_code == 404
    assert (await me.delete(f"{base}/c/o")).status_code == 404
    assert (await me.delete(f"{base}/c")).status_code == 204
    assert (await me.head(f"{base}/c")).status_code == 404
    assert (await me.put(f"{base}/c/o", content=b"x")).status_code == 404  # no container


async def test_metadata_post_and_limits(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/c", headers={"X-Container-Meta-Color": "red"})
    assert (await me.head(f"{base}/c")).headers["x-container-meta-color"] == "red"
    assert (
        await me.post(f"{base}/c", headers={"X-Container-Meta-Color": "blue"})
    ).status_code == 204
    assert (await me.head(f"{base}/c")).headers["x-container-meta-color"] == "blue"
    await me.put(f"{base}/c/o", content=b"x", headers={"X-Object-Meta-A": "1"})
    assert (await me.post(f"{base}/c/o", headers={"X-Object-Meta-B": "2"})).status_code == 202
    head = await me.head(f"{base}/c/o")
    assert head.headers["x-object-meta-b"] == "2" and "x-object-meta-a" not in head.headers
    assert (await me.post(base, headers={"X-Account-Meta-Q": "v"})).status_code == 204
    assert (await me.head(base)).headers["x-account-meta-q"] == "v"
    too_long = {"X-Object-Meta-" + "n" * 129: "v"}
    assert (await me.put(f"{base}/c/p", content=b"x", headers=too_long)).status_code == 400
    assert (await me.put(f"{base}/" + "c" * 257)).status_code == 400
    past = {"X-Delete-At": "1000"}
    assert (await me.put(f"{base}/c/p", content=b"x", headers=past)).status_code == 400
    assert (await me.get(f"{base}/c?limit=10001")).status_code == 412
    assert (await me.get(f"{base}/c", headers={"Accept": "image/png"})).status_code == 406


async def test_a_second_storage_policy(me: Api, swift: Swift) -> None:
    base = account(me)
    bad = await me.put(f"{base}/s", headers={"X-Storage-Policy": "bronze"})
    assert bad.status_code == 400
    assert (await me.put(f"{base}/s", headers={"X-Storage-Policy": "silver"})).status_code == 201
    assert (await me.head(f"{base}/s")).headers["x-storage-policy"] == "silver"
    await me.put(f"{base}/s/o", content=b"silver bytes")
    assert (await me.get(f"{base}/s/o")).content == b"silver bytes"
    assert list(swift.devices.glob("*/objects-1/*/*/*/*.data"))
    await account_totals(me)
    usage = (await me.head(base)).headers
    assert usage["x-account-storage-policy-silver-container-count"] == "1"
    assert usage["x-account-storage-policy-silver-object-count"] == "1"
    assert usage["x-account-storage-policy-silver-bytes-used"] == "12"
    assert not any(h.startswith("x-backend-") for h in usage)


async def test_others_need_an_acl(me: Api, swift: Swift) -> None:
    base = account(me)
    stranger = await swift.tenant()
    anonymous = swift.anonymous()
    await me.put(f"{base}/shared")
    await me.put(f"{base}/shared/o", content=b"hello")
    assert (await stranger.get(f"{base}/shared/o")).status_code == 403
    assert (await anonymous.get(f"{base}/shared/o")).status_code == 401
    assert (await stranger.get(base)).status_code == 403
    assert (await stranger.put(f"{base}/mine")).status_code == 403
    await me.post(f"{base}/shared", headers={"X-Container-Read": ".r:*"})
    assert (await anonymous.get(f"{base}/shared/o")).content == b"hello"
    assert (await anonymous.get(f"{base}/shared")).status_code == 401  # no .rlistings
    await me.post(f"{base}/shared", headers={"X-Container-Read": ".r:*,.rlistings"})
    assert (await anonymous.get(f"{base}/shared")).text == "o\n"
    write = {"X-Container-Write": f"{stranger.project_id}:{stranger.user_id}"}
    await me.post(f"{base}/shared", headers=write)
    assert (await stranger.put(f"{base}/shared/theirs", content=b"x")).status_code == 201
    assert (await anonymous.put(f"{base}/shared/anon", content=b"x")).status_code == 401


async def test_a_change_through_one_proxy_is_seen_at_once_by_the_others(
    me: Api, swift: Swift
) -> None:
    """Each proxy process keeps what it learnt of containers; a change empties them all."""
    base = account(me)
    other = Api(swift.second_proxy, me.token)
    anonymous = Api(swift.second_proxy)
    await me.put(f"{base}/seen")
    await me.put(f"{base}/seen/o", content=b"hello")
    assert (await anonymous.get(f"{base}/seen/o")).status_code == 401  # the other learns: private
    await me.post(f"{base}/seen", headers={"X-Container-Read": ".r:*"})
    assert (await anonymous.get(f"{base}/seen/o")).content == b"hello"
    assert (await other.put(f"{base}/seen/p", content=b"x")).status_code == 201
    await me.delete(f"{base}/seen/o")
    await me.delete(f"{base}/seen/p")
    assert (await me.delete(f"{base}/seen")).status_code == 204
    assert (await other.put(f"{base}/seen/p", content=b"x")).status_code == 404


async def test_quotas_count_what_is_there_now(me: Api, swift: Swift) -> None:
    """Cached container counts never let an upload past a quota."""
    base = account(me)
    other = Api(swift.second_proxy, me.token)
    await me.put(f"{base}/quota", headers={"X-Container-Meta-Quota-Count": "2"})
    assert (await other.put(f"{base}/quota/a", content=b"x")).status_code == 201
    assert (await me.put(f"{base}/quota/b", content=b"x")).status_code == 201
    assert (await other.put(f"{base}/quota/c", content=b"x")).status_code == 413


async def test_info_and_healthcheck(swift: Swift) -> None:
    info = (await swift.proxy.get("/info")).json()["swift"]
    assert info["max_file_size"] == 5 * 1024**3
    assert info["policies"] == [{"name": "gold", "default": True}, {"name": "silver"}]
    assert (await swift.proxy.get("/healthcheck")).text == "OK"
    assert (await swift.proxy.get("/v2/AUTH_x")).status_code == 404


async def test_ranges_and_conditions_pass_through(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/c")
    await me.put(f"{base}/c/r", content=b"0123456789")
    part = await me.get(f"{base}/c/r", headers={"Range": "bytes=3-5"})
    assert (part.status_code, part.content) == (206, b"345")
    etag = hashlib.md5(b"0123456789").hexdigest()
    assert (await me.get(f"{base}/c/r", headers={"If-None-Match": etag})).status_code == 304
    assert (await me.get(f"{base}/c/r", headers={"Range": "bytes=50-"})).status_code == 416
    assert replace(me).token == me.token
