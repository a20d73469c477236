"""Databases: async SQLAlchemy engines, transactions and Alembic migrations."""

from overcast.common.db.engine import Database, database_url
from overcast.common.db.migrate import upgrade
from overcast.common.db.types import JSONType, UTCDateTime

__all__ = ["Database", "JSONType", "UTCDateTime", "database_url", "upgrade"]
