"""The outbox found by recipient: the sweep's lookups of a person's digests no longer scan it.

The outbox keeps every row it ever sent (it is also the ledger), so a scan grows by tens of thousands
of rows a day at 10,000 onboardings.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_recipient_rule", ["recipient", "rule", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_recipient_rule")
