"""The handoff to the ongoing CSM: meeting, renewal date, the written handoff and its acceptance.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("ongoing_csm_user_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewal_on", sa.Date(), nullable=False),
        sa.Column("expansion", sa.Text(), nullable=False),
        sa.Column("written", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=32), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_ts", sa.String(length=32), nullable=True),
        sa.Column("accepted_by", sa.String(length=32), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", name="uq_account_handoffs_onboarding"),
    )
    with op.batch_alter_table("account_handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_handoffs_onboarding_id"), ["onboarding_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_handoffs_onboarding_id"))
    op.drop_table("account_handoffs")
