"""initial identity schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:38:26.431226
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import overcast.common.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_rule",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_rule")),
        sa.UniqueConstraint(
            "user_id",
            "service",
            "path",
            "method",
            name=op.f("uq_access_rule_user_id_service_path_method"),
        ),
    )
    with op.batch_alter_table("access_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_rule_user_id"), ["user_id"], unique=False)

    op.create_table(
        "application_credential",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("system", sa.String(length=16), nullable=True),
        sa.Column("expires_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("unrestricted", sa.Boolean(), nullable=False),
        sa.Column(
            "role_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_credential")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_application_credential_user_id_name")),
    )
    with op.batch_alter_table("application_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_credential_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_credential_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "consumer",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer")),
    )
    op.create_table(
        "credential",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("encrypted_blob", sa.Text(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential")),
    )
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_user_id"), ["user_id"], unique=False)

    op.create_table(
        "endpoint_group",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "filters",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_group")),
    )
    op.create_table(
        "generation",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_generation")),
    )
    op.create_table(
        "group",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_group_domain_id_name")),
    )
    with op.batch_alter_table("group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "policy",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("blob", sa.Text(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("is_domain", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_project_domain_id_name")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "project_endpoint",
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", "project_id", name=op.f("pk_project_endpoint")),
    )
    op.create_table(
        "region",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("parent_region_id", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
    )
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_region_parent_region_id"), ["parent_region_id"], unique=False
        )

    op.create_table(
        "revocation_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=True),
        sa.Column("role_id", sa.String(length=64), nullable=True),
        sa.Column("trust_id", sa.String(length=64), nullable=True),
        sa.Column("consumer_id", sa.String(length=64), nullable=True),
        sa.Column("audit_id", sa.String(length=32), nullable=True),
        sa.Column("audit_chain_id", sa.String(length=32), nullable=True),
        sa.Column("issued_before", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_event")),
    )
    with op.batch_alter_table("revocation_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revocation_event_audit_id"), ["audit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_revocation_event_revoked_at"), ["revoked_at"], unique=False
        )

    op.create_table(
        "role",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("name", "domain_id", name=op.f("uq_role_name_domain_id")),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_type"), ["type"], unique=False)

    op.create_table(
        "trust",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("trustor_user_id", sa.String(length=64), nullable=False),
        sa.Column("trustee_user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("impersonation", sa.Boolean(), nullable=False),
        sa.Column("expires_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("remaining_uses", sa.Integer(), nullable=True),
        sa.Column("redelegated_trust_id", sa.String(length=64), nullable=True),
        sa.Column("redelegation_count", sa.Integer(), nullable=True),
        sa.Column(
            "role_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("deleted_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust")),
    )
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_trustee_user_id"), ["trustee_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_trustor_user_id"), ["trustor_user_id"], unique=False
        )

    op.create_table(
        "user",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("default_project_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_active_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("failed_auth_count", sa.Integer(), nullable=False),
        sa.Column("failed_auth_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_user_domain_id_name")),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "app_cred_access_rule",
        sa.Column("application_credential_id", sa.String(length=64), nullable=False),
        sa.Column("access_rule_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_rule_id"],
            ["access_rule.id"],
            name=op.f("fk_app_cred_access_rule_access_rule_id_access_rule"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_credential_id"],
            ["application_credential.id"],
            name=op.f("fk_app_cred_access_rule_application_credential_id_application_credential"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "application_credential_id", "access_rule_id", name=op.f("pk_app_cred_access_rule")
        ),
    )
    with op.batch_alter_table("app_cred_access_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_cred_access_rule_access_rule_id"), ["access_rule_id"], unique=False
        )

    op.create_table(
        "assignment",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_assignment_role_id_role"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "kind", "actor_id", "target_id", "role_id", "inherited", name=op.f("pk_assignment")
        ),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index("ix_assignment_target", ["target_id"], unique=False)

    op.create_table(
        "domain_config",
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("option", sa.String(length=255), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["project.id"],
            name=op.f("fk_domain_config_domain_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain_id", "group", "option", name=op.f("pk_domain_config")),
    )
    op.create_table(
        "endpoint",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("interface", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_endpoint_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint")),
    )
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_service_id"), ["service_id"], unique=False)

    op.create_table(
        "implied_role",
        sa.Column("prior_role_id", sa.String(length=64), nullable=False),
        sa.Column("implied_role_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implied_role_id"],
            ["role.id"],
            name=op.f("fk_implied_role_implied_role_id_role"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prior_role_id"],
            ["role.id"],
            name=op.f("fk_implied_role_prior_role_id_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("prior_role_id", "implied_role_id", name=op.f("pk_implied_role")),
    )
    op.create_table(
        "membership",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_membership_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_membership_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_membership")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_group_id"), ["group_id"], unique=False)

    op.create_table(
        "password",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", overcast.common.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", overcast.common.db.types.UTCDateTime(), nullable=True),
        sa.Column("self_service", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_password_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password")),
    )
    with op.batch_alter_table("password", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_user_id"), ["user_id"], unique=False)

    op.create_table(
        "project_endpoint_group",
        sa.Column("endpoint_group_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_group_id"],
            ["endpoint_group.id"],
            name=op.f("fk_project_endpoint_group_endpoint_group_id_endpoint_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "endpoint_group_id", "project_id", name=op.f("pk_project_endpoint_group")
        ),
    )
    op.create_table(
        "project_tag",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_tag_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "name", name=op.f("pk_project_tag")),
    )


def downgrade() -> None:
    op.drop_table("project_tag")
    op.drop_table("project_endpoint_group")
    with op.batch_alter_table("password", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_user_id"))

    op.drop_table("password")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_group_id"))

    op.drop_table("membership")
    op.drop_table("implied_role")
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_service_id"))

    op.drop_table("endpoint")
    op.drop_table("domain_config")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_target")

    op.drop_table("assignment")
    with op.batch_alter_table("app_cred_access_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_cred_access_rule_access_rule_id"))

    op.drop_table("app_cred_access_rule")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_domain_id"))

    op.drop_table("user")
    with op.batch_alter_table("trust", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_trustor_user_id"))
        batch_op.drop_index(batch_op.f("ix_trust_trustee_user_id"))

    op.drop_table("trust")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_type"))

    op.drop_table("service")
    op.drop_table("role")
    with op.batch_alter_table("revocation_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocation_event_revoked_at"))
        batch_op.drop_index(batch_op.f("ix_revocation_event_audit_id"))

    op.drop_table("revocation_event")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_parent_region_id"))

    op.drop_table("region")
    op.drop_table("project_endpoint")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_parent_id"))
        batch_op.drop_index(batch_op.f("ix_project_domain_id"))

    op.drop_table("project")
    op.drop_table("policy")
    with op.batch_alter_table("group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_domain_id"))

    op.drop_table("group")
    op.drop_table("generation")
    op.drop_table("endpoint_group")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_user_id"))

    op.drop_table("credential")
    op.drop_table("consumer")
    with op.batch_alter_table("application_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_credential_user_id"))
        batch_op.drop_index(batch_op.f("ix_application_credential_project_id"))

    op.drop_table("application_credential")
    with op.batch_alter_table("access_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_rule_user_id"))

    op.drop_table("access_rule")
