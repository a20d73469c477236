"""Alembic environment of the image service (run through overcast.common.db.upgrade)."""

from overcast.common.db.migrate import run_env
from overcast.image.models import Base

run_env(Base.metadata)
