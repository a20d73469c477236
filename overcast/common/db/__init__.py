"""Databases: async SQLAlchemy engines, transactions and Alembic migrations."""

from overcast.common.db.engine import Database, database_url
from overcast.common.db.migrate import upgrade
from overcast.common.db.types import NAMING_CONVENTION, JSONType, UTCDateTime, table_of

__all__ = [
    "NAMING_CONVENTION",
    "Database",
    "JSONType",
    "UTCDateTime",
    "database_url",
    "table_of",
    "upgrade",
]
