"""Product usage: per (onboarding, day, metric) values, daily adoption health, and the customer's account id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_account_id", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_onboardings_external_account_id"), ["external_account_id"], unique=False)
    op.create_table(
        "usage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("onboarding_id", sa.Integer(), sa.ForeignKey("onboardings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=80), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("onboarding_id", "day", "metric", name="uq_usage_day_metric"),
    )
    op.create_index("ix_usage_onboarding_id", "usage", ["onboarding_id"], unique=False)
    op.create_table(
        "adoption_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("onboarding_id", sa.Integer(), sa.ForeignKey("onboardings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.UniqueConstraint("onboarding_id", "day", name="uq_adoption_day"),
    )
    op.create_index("ix_adoption_snapshots_onboarding_id", "adoption_snapshots", ["onboarding_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_adoption_snapshots_onboarding_id", table_name="adoption_snapshots")
    op.drop_table("adoption_snapshots")
    op.drop_index("ix_usage_onboarding_id", table_name="usage")
    op.drop_table("usage")
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboardings_external_account_id"))
        batch_op.drop_column("external_account_id")
