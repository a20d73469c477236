"""Symlinks and versioned containers."""

from __future__ import annotations

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


async def test_symlinks_read_as_their_target(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/links")
    await me.put(f"{base}/other")
    await me.put(f"{base}/other/file", content=b"target", headers={"Content-Type": "text/x-t"})
    made = await me.put(f"{base}/links/ln", headers={"X-Symlink-Target": "other/file"}, content=b"")
    assert made.status_code == 201
    got = await me.get(f"{base}/links/ln")
    assert got.content == b"target" and got.headers["content-type"] == "text/x-t"
    assert got.headers["content-location"] == f"{base}/other/file"
    itself = await me.get(f"{base}/links/ln?symlink=get")
    assert itself.content == b"" and itself.headers["x-symlink-target"] == "other/file"
    assert itself.headers["content-type"] == "application/symlink"
    listed = (await me.get(f"{base}/links?format=json")).json()
    assert listed[0]["content_type"] == "application/symlink"
    assert listed[0]["symlink_path"] == f"{base}/other/file"

    await me.put(f"{base}/links/ln2", headers={"X-Symlink-Target": "links/ln"}, content=b"")
    await me.put(f"{base}/links/ln3", headers={"X-Symlink-Target": "links/ln2"}, content=b"")
    assert (await me.get(f"{base}/links/ln2")).content == b"target"
    assert (await me.get(f"{base}/links/ln3")).status_code == 409  # three hops

    await me.delete(f"{base}/other/file")
    assert (await me.get(f"{base}/links/ln")).status_code == 404
    bad = await me.put(f"{base}/links/x", headers={"X-Symlink-Target": "nocontainer"}, content=b"")
    assert bad.status_code == 412
    body = await me.put(f"{base}/links/x", headers={"X-Symlink-Target": "a/b"}, content=b"data")
    assert body.status_code == 400


async def test_static_links_check_the_target_etag(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/static")
    made = await me.put(f"{base}/static/t", content=b"v1")
    etag = made.headers["etag"]
    link = {"X-Symlink-Target": "static/t", "X-Symlink-Target-Etag": etag}
    assert (await me.put(f"{base}/static/l", headers=link, content=b"")).status_code == 201
    assert (await me.get(f"{base}/static/l")).content == b"v1"
    wrong = {"X-Symlink-Target": "static/t", "X-Symlink-Target-Etag": "0" * 32}
    assert (await me.put(f"{base}/static/w", headers=wrong, content=b"")).status_code == 409
    await me.put(f"{base}/static/t", content=b"v2")
    assert (await me.get(f"{base}/static/l")).status_code == 409


async def test_stack_mode_versions(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/archive")
    assert (await me.put(f"{base}/docs", headers={"X-Versions-Location": "archive"})).is_success
    assert (await me.head(f"{base}/docs")).headers["x-versions-location"] == "archive"
    for text in (b"one", b"two", b"three"):
        await me.put(f"{base}/docs/readme", content=text)
    assert (await me.get(f"{base}/docs/readme")).content == b"three"
    kept = (await me.get(f"{base}/archive?format=json")).json()
    assert [e["name"].split("/")[0] for e in kept] == ["006readme", "006readme"]
    assert (await me.delete(f"{base}/docs/readme")).status_code == 204
    assert (await me.get(f"{base}/docs/readme")).content == b"two"
    await me.delete(f"{base}/docs/readme")
    assert (await me.get(f"{base}/docs/readme")).content == b"one"
    await me.delete(f"{base}/docs/readme")
    assert (await me.get(f"{base}/docs/readme")).status_code == 404
    assert (await me.get(f"{base}/archive?format=json")).json() == []


async def test_history_mode_versions(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/hist")
    await me.put(f"{base}/live", headers={"X-History-Location": "hist"})
    await me.put(f"{base}/live/o", content=b"a")
    await me.put(f"{base}/live/o", content=b"b")
    await me.delete(f"{base}/live/o")
    assert (await me.get(f"{base}/live/o")).status_code == 404
    names = [e["name"] for e in (await me.get(f"{base}/hist?format=json")).json()]
    assert len(names) == 2 and all(n.startswith("001o/") for n in names)
    both = {"X-History-Location": "hist", "X-Versions-Location": "hist"}
    assert (await me.post(f"{base}/live", headers=both)).status_code == 400


async def test_a_link_to_another_projects_object_does_not_open_it(me: Api, swift: Swift) -> None:
    base = account(me)
    await me.put(f"{base}/private")
    await me.put(f"{base}/private/secret", content=b"mine")
    stranger = await swift.tenant()
    theirs = f"/v1/AUTH_{stranger.project_id}"
    await stranger.put(f"{theirs}/links")
    link = {
        "X-Symlink-Target": "private/secret",
        "X-Symlink-Target-Account": f"AUTH_{me.project_id}",
    }
    assert (await stranger.put(f"{theirs}/links/l", headers=link, content=b"")).status_code == 201
    assert (await stranger.get(f"{theirs}/links/l")).status_code == 403


async def test_a_versioned_symlink_is_kept_as_a_link_not_as_its_targets_bytes(me: Api) -> None:
    base = account(me)
    await me.put(f"{base}/old-links")
    await me.put(f"{base}/vlinks", headers={"X-Versions-Location": "old-links"})
    await me.put(f"{base}/vlinks/target", content=b"first target")
    link = {"X-Symlink-Target": "vlinks/target"}
    assert (await me.put(f"{base}/vlinks/ln", headers=link, content=b"")).status_code == 201
    await me.put(f"{base}/vlinks/ln", content=b"plain now")  # the link goes to the archive

    (kept,) = (await me.get(f"{base}/old-links?format=json")).json()
    assert kept["content_type"] == "application/symlink" and kept["bytes"] == 0
    archived = await me.get(f"{base}/old-links/{kept['name']}?symlink=get")
    assert archived.headers["x-symlink-target"] == "vlinks/target"
    await me.put(f"{base}/vlinks/target", content=b"second target")
    assert (await me.get(f"{base}/old-links/{kept['name']}")).content == b"second target"

    assert (await me.delete(f"{base}/vlinks/ln")).status_code == 204  # the link comes back
    restored = await me.get(f"{base}/vlinks/ln?symlink=get")
    assert restored.headers["x-symlink-target"] == "vlinks/target"
