"""Alembic environment of the identity service (run through overcast.common.db.upgrade)."""

from overcast.common.db.migrate import run_env
from overcast.identity.models import Base

run_env(Base.metadata)
