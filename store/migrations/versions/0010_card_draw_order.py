"""The order of a card's redraws kept in the database, so that every replica keeps it.

`onboardings.revision` counts the reads of an onboarding under its lock: each such read is given
the next number, so of two states read for its cards, the higher number is the later one.
`posted_cards.drawn_revision` is the number of the state the card last showed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("posted_cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawn_revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("posted_cards", schema=None) as batch_op:
        batch_op.drop_column("drawn_revision")
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_column("revision")
