"""The customer's voice: one rating (1-5, optional comment) per person per stage.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("alert_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", "stage", "slack_user_id", name="uq_stage_ratings_person"),
    )
    with op.batch_alter_table("stage_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_ratings_onboarding_id"), ["onboarding_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stage_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_ratings_onboarding_id"))
    op.drop_table("stage_ratings")
