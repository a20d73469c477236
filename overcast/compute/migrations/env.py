"""Alembic environment of the compute service (run through overcast.common.db.upgrade)."""

from overcast.common.db.migrate import run_env
from overcast.compute.models import Base

run_env(Base.metadata)
