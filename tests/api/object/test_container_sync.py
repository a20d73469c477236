"""Container sync: the node's daemon pushes a container's changes to another one."""

from __future__ import annotations

from overcast.object.daemons.container_sync import ContainerSyncDaemon
from tests.api.identity.conftest import Api
from tests.api.object.conftest import SYNC_REALM, Swift, account


async def test_objects_and_deletes_reach_the_other_container(me: Api, swift: Swift) -> None:
    other = await swift.tenant()
    source, dest = f"{account(me)}/src", f"{account(other)}/dst"
    assert (await other.put(dest, headers={"X-Container-Sync-Key": "shared"})).status_code == 201
    sync_to = f"//{SYNC_REALM}/local/AUTH_{other.project_id}/dst"
    settings = {"X-Container-Sync-To": sync_to, "X-Container-Sync-Key": "shared"}
    assert (await me.put(source, headers=settings)).status_code == 201
    meta = {"X-Object-Meta-Colour": "red", "Content-Type": "text/x-a"}
    made = await me.put(f"{source}/a", content=b"alpha", headers=meta)
    await me.put(f"{source}/b", content=b"beta")
    await me.put(f"{source}/gone", content=b"x")

    stats = await swift.daemon(ContainerSyncDaemon).run_once()
    assert stats.puts == 3 and stats.failures == 0
    got = await other.get(f"{dest}/a")
    assert got.content == b"alpha" and got.headers["x-object-meta-colour"] == "red"
    assert got.headers["content-type"] == "text/x-a"
    assert got.headers["x-timestamp"] == made.headers["x-timestamp"]  # the source's time

    await me.delete(f"{source}/gone")
    await me.put(f"{source}/b", content=b"beta 2")
    stats = await swift.daemon(ContainerSyncDaemon).run_once()
    assert (stats.puts, stats.deletes) == (1, 1)
    assert (await other.get(f"{dest}/gone")).status_code == 404
    assert (await other.get(f"{dest}/b")).content == b"beta 2"
    assert (await swift.daemon(ContainerSyncDaemon).run_once()).puts == 0  # nothing new


async def test_sync_settings_and_forged_writes_are_refused(me: Api, swift: Swift) -> None:
    base = account(me)
    unknown = await me.put(f"{base}/c", headers={"X-Container-Sync-To": "//nowhere/x/AUTH_a/c"})
    assert unknown.status_code == 400 and "No realm key" in unknown.text
    cluster = await me.put(f"{base}/c", headers={"X-Container-Sync-To": f"//{SYNC_REALM}/x/a/c"})
    assert cluster.status_code == 400
    host = await me.put(f"{base}/c", headers={"X-Container-Sync-To": "http://10.9.9.9/v1/a/c"})
    assert host.status_code == 400
    await me.put(f"{base}/c", headers={"X-Container-Sync-Key": "secret"})
    anonymous = swift.anonymous()
    forged = {"X-Container-Sync-Auth": f"{SYNC_REALM} nonce bad", "X-Timestamp": "1700000000.0"}
    assert (await anonymous.put(f"{base}/c/o", content=b"x", headers=forged)).status_code == 401
    wrong_key = {"X-Container-Sync-Key": "guess", "X-Timestamp": "1700000000.0"}
    assert (await anonymous.put(f"{base}/c/o", content=b"x", headers=wrong_key)).status_code == 401
    right_key = {"X-Container-Sync-Key": "secret", "X-Timestamp": "1700000000.0"}
    assert (await anonymous.put(f"{base}/c/o", content=b"x", headers=right_key)).status_code == 201
    info = (await swift.proxy.get("/info")).json()
    assert info["container_sync"] == {"realms": {SYNC_REALM: {"clusters": {"local": {}}}}}
