"""Revocation events do not pile up: a revocation drops the events too old to matter."""

from __future__ import annotations

from sqlalchemy import func, select

from overcast.identity import models
from tests.api.identity.conftest import Api, Cloud


async def count_events(cloud: Cloud) -> int:
    async with cloud.service.db.read() as session:
        return int(
            await session.scalar(select(func.count()).select_from(models.RevocationEvent)) or 0
        )


async def test_old_revocation_events_are_pruned(cloud: Cloud) -> None:
    demo = await cloud.login("demo", cloud.demo_password, project="demo")
    await demo.delete("/v3/auth/tokens", headers={"X-Subject-Token": demo.token or ""})
    assert await count_events(cloud) >= 1
    conf = cloud.service.conf
    cloud.clock.advance(conf.token_expiration + conf.allow_expired_window + 60)
    fresh: Api = await cloud.login("demo", cloud.demo_password, project="demo")
    await fresh.delete("/v3/auth/tokens", headers={"X-Subject-Token": fresh.token or ""})
    assert await count_events(cloud) == 1
    admin = await cloud.login("admin", cloud.admin_password, project="admin")
    assert (
        await admin.get("/v3/auth/tokens", headers={"X-Subject-Token": fresh.token or ""})
    ).status_code == 404
