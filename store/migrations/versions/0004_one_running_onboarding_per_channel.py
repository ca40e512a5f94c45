"""One onboarding being set up or adopted per shared channel: a partial unique index.

Two submissions of the handoff's last step at once could both find the channel free and both start
an onboarding. Where that already happened, the first one created is kept running and the later
ones are cancelled (never deleted), each with a line in its audit trail saying why.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RUNNING = sa.text("status IN ('active', 'live')")
LATER_DUPLICATES = """
    SELECT o.id FROM onboardings o
    WHERE o.status IN ('active', 'live') AND o.shared_channel_id IS NOT NULL
      AND EXISTS (
        SELECT 1 FROM onboardings first
        WHERE first.shared_channel_id = o.shared_channel_id AND first.status IN ('active', 'live')
          AND first.id < o.id
      )
"""


def upgrade() -> None:
    later = [row[0] for row in op.get_bind().execute(sa.text(LATER_DUPLICATES))]
    if later:
        audit = sa.table(
            "audit_log", sa.column("onboarding_id"), sa.column("entity"), sa.column("entity_id"),
            sa.column("action"), sa.column("field"), sa.column("old_value"), sa.column("new_value"),
            sa.column("reason"), sa.column("actor"), sa.column("at", sa.DateTime(timezone=True)),
        )  # fmt: skip
        now = sa.func.current_timestamp()
        for onboarding_id in later:
            op.execute(
                audit.insert().values(
                    onboarding_id=onboarding_id,
                    entity="onboarding",
                    entity_id=onboarding_id,
                    action="cancelled",
                    field="status",
                    new_value="cancelled",
                    actor="system",
                    at=now,
                    reason="a second onboarding started in the same shared channel; the first one is kept",
                )
            )
        onboardings = sa.table("onboardings", sa.column("id"), sa.column("status"))
        op.execute(onboardings.update().where(onboardings.c.id.in_(later)).values(status="cancelled"))
    op.create_index(
        "uq_onboardings_running_channel",
        "onboardings",
        ["shared_channel_id"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_onboardings_running_channel", table_name="onboardings")
