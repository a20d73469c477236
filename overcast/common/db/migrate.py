"""Alembic migrations, one script directory and one version table per service.

A service's ``migrations/env.py`` is two lines: it calls :func:`run_env` with the
service's metadata. Migrations run on start (``overcast up``) and from
``overcast db upgrade``.
"""

from __future__ import annotations

from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text

from overcast.common.db.engine import Database


async def upgrade(
    db: Database, script_location: str, version_table: str, revision: str = "head"
) -> None:
    """Bring ``db`` to ``revision`` with the migrations in ``script_location``."""
    if db.schema and db.dialect == "postgresql":
        async with db.write_engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade, script_location, version_table, revision)


def _upgrade(
    connection: Connection, script_location: str, version_table: str, revision: str
) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = version_table
    command.upgrade(cfg, revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``env.py``: run migrations on the given connection."""
    attributes: dict[str, Any] = context.config.attributes
    connection = attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through overcast.common.db.upgrade, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
