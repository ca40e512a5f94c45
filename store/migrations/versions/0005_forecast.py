"""The projected go-live, its schedule against the agreed date, and the actual go-live day.

Onboardings already live get the day the CSM countersigned as their go-live day (in UTC, the
customer's timezone not being known to a migration); the projection of running ones is filled in
by the next sweep.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("projected_go_live_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("schedule", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("forecast_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("went_live_on", sa.Date(), nullable=True))
    onboardings = sa.table(
        "onboardings",
        sa.column("id", sa.Integer()),
        sa.column("csm_countersigned_at", sa.DateTime(timezone=True)),
        sa.column("went_live_on", sa.Date()),
        sa.column("schedule", sa.String()),
    )
    bind = op.get_bind()
    signed = bind.execute(
        sa.select(onboardings.c.id, onboardings.c.csm_countersigned_at).where(
            onboardings.c.csm_countersigned_at.is_not(None)
        )
    ).all()
    for onboarding_id, at in signed:
        day = (datetime.fromisoformat(at) if isinstance(at, str) else at).date()
        op.execute(
            onboardings.update().where(onboardings.c.id == onboarding_id).values(went_live_on=day, schedule="live")
        )


def downgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_column("went_live_on")
        batch_op.drop_column("forecast_on")
        batch_op.drop_column("schedule")
        batch_op.drop_column("projected_go_live_on")
