"""The identity service: its database, keys, hasher, policy and per-process caches.

Every write goes through :meth:`IdentityService.writing`, which commits and then
moves the change counter; every read path that uses the caches first calls
:meth:`IdentityCache.sync`, which empties them if the counter has moved. Hence a
change made by any worker process is seen by every other one on its next request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.clock import Clock, SystemClock
from overcast.common.coherence import ChangeCounter, CoherentCache, DatabaseCounter, FileCounter
from overcast.common.config import Settings
from overcast.common.db import Database, upgrade
from overcast.common.policy import Enforcer
from overcast.identity import catalog, models
from overcast.identity.assignments import RoleGraph
from overcast.identity.keys import KeyRepository
from overcast.identity.passwords import PasswordHasher
from overcast.identity.policies import RULES
from overcast.identity.tokens.revocation import Revocation, RevocationList

MIGRATIONS = str(Path(__file__).parent / "migrations")
VERSION_TABLE = "identity_alembic_version"
T = TypeVar("T")


class IdentityCache(CoherentCache):
    """The identity service's caches: values, and validated tokens."""

    def __init__(self, counter: ChangeCounter, max_tokens: int) -> None:
        super().__init__(counter, 2 * max_tokens)
        self.max_tokens = max_tokens
        self.tokens: OrderedDict[str, Any] = OrderedDict()

    def clear(self) -> None:
        super().clear()
        self.tokens.clear()

    def remember_token(self, token: str, value: Any, generation: int) -> None:
        if self.max_tokens <= 0 or generation != self.generation:
            return
        self.tokens[token] = value
        if len(self.tokens) > self.max_tokens:
            self.tokens.popitem(last=False)


class IdentityService:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        db: Database | None = None,
    ) -> None:
        self.settings = settings
        self.conf = settings.identity
        self.clock = clock or SystemClock()
        self.db = db or Database.for_service(settings, "identity")
        self.hasher = PasswordHasher(
            self.conf.password_hash_algorithm, self.conf.password_hash_rounds
        )
        data_dir = settings.data_dir
        self.token_keys = KeyRepository(
            self.conf.key_repository or data_dir / "fernet-keys", self.conf.max_active_keys
        )
        self.credential_keys = KeyRepository(
            self.conf.credential_key_repository or data_dir / "credential-keys",
            self.conf.max_active_keys,
        )
        self.counter = self._make_counter()
        self.cache = IdentityCache(self.counter, self.conf.cache_size)
        self.enforcer = Enforcer(RULES, self.conf.policy)

    def _make_counter(self) -> ChangeCounter:
        if self.db.dialect == "sqlite":
            return FileCounter(self.settings.data_dir / "run" / "identity.generation")
        return DatabaseCounter(self.db, models.Generation.__table__, "identity")  # type: ignore[arg-type]

    async def migrate(self) -> None:
        await upgrade(self.db, MIGRATIONS, VERSION_TABLE)

    def setup_keys(self) -> None:
        self.token_keys.setup()
        self.credential_keys.setup()

    async def close(self) -> None:
        await self.db.dispose()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; the caches of every process are invalidated once it commits.

        A transaction that records revocation events also drops the events too old to
        matter (every token issued before them has expired, allowed window included).
        """
        async with self.db.write() as session:
            yield session
            touched = [*session.new, *session.identity_map.values()]
            if any(isinstance(obj, models.RevocationEvent) for obj in touched):
                await self._prune_revocations(session)
        await self.counter.bump()

    async def _prune_revocations(self, session: AsyncSession) -> None:
        horizon = timedelta(seconds=self.conf.token_expiration + self.conf.allow_expired_window)
        cutoff = self.clock.now() - horizon
        await session.execute(
            delete(models.RevocationEvent).where(models.RevocationEvent.revoked_at < cutoff)
        )

    # -- cached reads -------------------------------------------------------

    async def role_graph(self) -> RoleGraph:
        async def load() -> RoleGraph:
            async with self.db.read() as session:
                return await RoleGraph.load(session)

        return await self.cache.get_or_load("role_graph", load)

    async def catalog_entries(self) -> list[catalog.CatalogEntry]:
        async def load() -> list[catalog.CatalogEntry]:
            async with self.db.read() as session:
                return await catalog.load(session)

        return await self.cache.get_or_load("catalog", load)

    async def revocations(self) -> RevocationList:
        async def load() -> RevocationList:
            async with self.db.read() as session:
                rows = await session.scalars(select(models.RevocationEvent))
                return RevocationList(
                    Revocation(
                        issued_before=row.issued_before,
                        user_id=row.user_id,
                        project_id=row.project_id,
                        domain_id=row.domain_id,
                        role_id=row.role_id,
                        trust_id=row.trust_id,
                        consumer_id=row.consumer_id,
                        audit_id=row.audit_id,
                        audit_chain_id=row.audit_chain_id,
                    )
                    for row in rows
                )

        return await self.cache.get_or_load("revocations", load)
