"""governance: brand-account registry, admins, encrypted credentials (vault)

Revision ID: ef624d70a036
Revises: 810c1c56689f
Create Date: 2026-11-23 12:07:21.480410
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ef624d70a036"
down_revision: str | None = "810c1c56689f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("handle_key", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("business_owner_id", sa.String(length=36), nullable=True),
        sa.Column("employee_id", sa.String(length=36), nullable=True),
        sa.Column("ownership_agreement", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_owner_id"],
            ["user_account.id"],
            name=op.f("fk_brand_account_business_owner_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["user_account.id"],
            name=op.f("fk_brand_account_employee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_brand_account_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_account")),
        sa.UniqueConstraint(
            "organization_id",
            "network",
            "handle_key",
            name=op.f("uq_brand_account_organization_id"),
        ),
    )
    with op.batch_alter_table("brand_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_brand_account_business_owner_id"), ["business_owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_account_employee_id"), ["employee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_account_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "account_credential",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by_label", sa.String(length=320), nullable=False),
        sa.Column("custodian_id", sa.String(length=36), nullable=True),
        sa.Column("needs_rotation", sa.Boolean(), nullable=False),
        sa.Column("rotation_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["brand_account.id"],
            name=op.f("fk_account_credential_account_id_brand_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["custodian_id"],
            ["user_account.id"],
            name=op.f("fk_account_credential_custodian_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_account_credential_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_credential")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_account_credential_account_id")),
    )
    with op.batch_alter_table("account_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_credential_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_credential_custodian_id"), ["custodian_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_credential_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "brand_account_admin",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["brand_account.id"],
            name=op.f("fk_brand_account_admin_account_id_brand_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_brand_account_admin_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_account_admin")),
        sa.UniqueConstraint(
            "account_id", "user_id", name=op.f("uq_brand_account_admin_account_id")
        ),
    )
    with op.batch_alter_table("brand_account_admin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_brand_account_admin_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_account_admin_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("brand_account_admin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brand_account_admin_user_id"))
        batch_op.drop_index(batch_op.f("ix_brand_account_admin_account_id"))

    op.drop_table("brand_account_admin")
    with op.batch_alter_table("account_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_credential_organization_id"))
        batch_op.drop_index(batch_op.f("ix_account_credential_custodian_id"))
        batch_op.drop_index(batch_op.f("ix_account_credential_account_id"))

    op.drop_table("account_credential")
    with op.batch_alter_table("brand_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brand_account_organization_id"))
        batch_op.drop_index(batch_op.f("ix_brand_account_employee_id"))
        batch_op.drop_index(batch_op.f("ix_brand_account_business_owner_id"))

    op.drop_table("brand_account")
