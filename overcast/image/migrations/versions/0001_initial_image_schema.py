"""initial image schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 16:48:59.666954
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import overcast.common.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOURCE_TYPES = (
    "OS::Glance::Image",
    "OS::Cinder::Volume",
    "OS::Nova::Flavor",
    "OS::Nova::Aggregate",
    "OS::Nova::Server",
)
"""The resource types metadata definitions can be associated with, present from the start."""
SEEDED_AT = datetime(2026, 11, 22, tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "image",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("virtual_size", sa.BigInteger(), nullable=True),
        sa.Column("disk_format", sa.String(length=20), nullable=True),
        sa.Column("container_format", sa.String(length=20), nullable=True),
        sa.Column("checksum", sa.String(length=32), nullable=True),
        sa.Column("os_hash_algo", sa.String(length=64), nullable=True),
        sa.Column("os_hash_value", sa.String(length=128), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("os_hidden", sa.Boolean(), nullable=False),
        sa.Column("min_disk", sa.Integer(), nullable=False),
        sa.Column("min_ram", sa.Integer(), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("store", sa.String(length=255), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("upload_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
    )
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_checksum"), ["checksum"], unique=False)
        batch_op.create_index("ix_image_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_os_hash_value"), ["os_hash_value"], unique=False)
        batch_op.create_index("ix_image_owner_deleted", ["owner", "deleted"], unique=False)
        batch_op.create_index(
            "ix_image_visibility_deleted", ["visibility", "deleted"], unique=False
        )

    op.create_table(
        "metadef_namespace",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_namespace")),
        sa.UniqueConstraint("namespace", name=op.f("uq_metadef_namespace_namespace")),
    )
    resource_types = op.create_table(
        "metadef_resource_type",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_resource_type")),
        sa.UniqueConstraint("name", name=op.f("uq_metadef_resource_type_name")),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column(
            "input",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("expires_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_status"), ["status"], unique=False)

    op.create_table(
        "image_member",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_image_member_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "member", name=op.f("pk_image_member")),
    )
    with op.batch_alter_table("image_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_member_member"), ["member"], unique=False)

    op.create_table(
        "image_property",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_image_property_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "name", name=op.f("pk_image_property")),
    )
    op.create_table(
        "image_tag",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_image_tag_image_id_image"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "value", name=op.f("pk_image_tag")),
    )
    with op.batch_alter_table("image_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_tag_value"), ["value"], unique=False)

    op.create_table(
        "metadef_namespace_resource_type",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("resource_type_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=80), nullable=True),
        sa.Column("properties_target", sa.String(length=80), nullable=True),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["metadef_namespace.id"],
            name=op.f("fk_metadef_namespace_resource_type_namespace_id_metadef_namespace"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_type_id"],
            ["metadef_resource_type.id"],
            name=op.f("fk_metadef_namespace_resource_type_resource_type_id_metadef_resource_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "namespace_id", "resource_type_id", name=op.f("pk_metadef_namespace_resource_type")
        ),
    )
    op.create_table(
        "metadef_object",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "required",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["metadef_namespace.id"],
            name=op.f("fk_metadef_object_namespace_id_metadef_namespace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_object")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_metadef_object_namespace_id_name")
        ),
    )
    with op.batch_alter_table("metadef_object", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metadef_object_namespace_id"), ["namespace_id"], unique=False
        )

    op.create_table(
        "metadef_property",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column(
            "schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["metadef_namespace.id"],
            name=op.f("fk_metadef_property_namespace_id_metadef_namespace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_property")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_metadef_property_namespace_id_name")
        ),
    )
    with op.batch_alter_table("metadef_property", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metadef_property_namespace_id"), ["namespace_id"], unique=False
        )

    op.create_table(
        "metadef_tag",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["metadef_namespace.id"],
            name=op.f("fk_metadef_tag_namespace_id_metadef_namespace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_tag")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_metadef_tag_namespace_id_name")),
    )
    with op.batch_alter_table("metadef_tag", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metadef_tag_namespace_id"), ["namespace_id"], unique=False
        )
    op.bulk_insert(
        resource_types,
        [
            {"name": name, "protected": True, "created_at": SEEDED_AT, "updated_at": SEEDED_AT}
            for name in RESOURCE_TYPES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("metadef_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metadef_tag_namespace_id"))

    op.drop_table("metadef_tag")
    with op.batch_alter_table("metadef_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metadef_property_namespace_id"))

    op.drop_table("metadef_property")
    with op.batch_alter_table("metadef_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metadef_object_namespace_id"))

    op.drop_table("metadef_object")
    op.drop_table("metadef_namespace_resource_type")
    with op.batch_alter_table("image_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_tag_value"))

    op.drop_table("image_tag")
    op.drop_table("image_property")
    with op.batch_alter_table("image_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_member_member"))

    op.drop_table("image_member")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_status"))
        batch_op.drop_index(batch_op.f("ix_task_owner"))
        batch_op.drop_index(batch_op.f("ix_task_image_id"))

    op.drop_table("task")
    op.drop_table("metadef_resource_type")
    op.drop_table("metadef_namespace")
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_index("ix_image_visibility_deleted")
        batch_op.drop_index("ix_image_owner_deleted")
        batch_op.drop_index(batch_op.f("ix_image_os_hash_value"))
        batch_op.drop_index(batch_op.f("ix_image_name"))
        batch_op.drop_index("ix_image_created_at_id")
        batch_op.drop_index(batch_op.f("ix_image_checksum"))

    op.drop_table("image")
