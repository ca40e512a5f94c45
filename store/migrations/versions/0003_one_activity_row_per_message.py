"""One activity row per message: a unique index on (onboarding, user, at) for messages.

Two deliveries of one message event at once could both find no row and both insert one. Extra rows
already stored that way are deleted first (the oldest of each is kept), then the index is built.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGES = sa.text("kind = 'message'")


def upgrade() -> None:
    op.execute(
        """
        DELETE FROM activity
        WHERE kind = 'message'
          AND id NOT IN (
            SELECT MIN(id) FROM activity WHERE kind = 'message' GROUP BY onboarding_id, slack_user_id, at
          )
        """
    )
    op.create_index(
        "uq_activity_message",
        "activity",
        ["onboarding_id", "slack_user_id", "at"],
        unique=True,
        sqlite_where=MESSAGES,
        postgresql_where=MESSAGES,
    )


def downgrade() -> None:
    op.drop_index("uq_activity_message", table_name="activity")
