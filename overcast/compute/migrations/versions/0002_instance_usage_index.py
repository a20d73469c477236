"""instance usage index: a project's usage is read from the index alone

Every create counts its project's live instances and sums their cores and RAM.
With an index on (project_id, deleted) alone, SQLite read each live instance's
whole row (its JSON columns included) for that: about 1.2 ms per create at
1,000 servers. The index now holds what the sum needs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_instance_project_usage",
        "instance",
        ["project_id", "deleted", "vcpus", "memory_mb"],
        unique=False,
    )
    op.drop_index("ix_instance_project_id_deleted", table_name="instance")


def downgrade() -> None:
    op.create_index(
        "ix_instance_project_id_deleted", "instance", ["project_id", "deleted"], unique=False
    )
    op.drop_index("ix_instance_project_usage", table_name="instance")
