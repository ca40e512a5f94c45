"""Initial schema: onboardings, people, stages, milestones, audit log, posted cards, notifications.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "onboardings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("acv_cents", sa.BigInteger(), nullable=False),
        sa.Column("playbook_key", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("contract_signed_on", sa.Date(), nullable=False),
        sa.Column("target_go_live_on", sa.Date(), nullable=False),
        sa.Column("earliest_go_live_on", sa.Date(), nullable=True),
        sa.Column("shared_channel_id", sa.String(length=32), nullable=True),
        sa.Column("internal_channel_id", sa.String(length=32), nullable=True),
        sa.Column("sold", sa.Text(), nullable=False),
        sa.Column("commitments", sa.Text(), nullable=False),
        sa.Column("success_criteria", sa.Text(), nullable=False),
        sa.Column("first_value_definition", sa.Text(), nullable=False),
        sa.Column("full_value_definition", sa.Text(), nullable=False),
        sa.Column("it_dependencies", sa.JSON(), nullable=False),
        sa.Column("concerns", sa.Text(), nullable=False),
        sa.Column("political_dynamics", sa.Text(), nullable=False),
        sa.Column("gate_override_reason", sa.Text(), nullable=True),
        sa.Column("gate_override_by", sa.String(length=32), nullable=True),
        sa.Column("gate_override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sponsor_signed_by", sa.String(length=32), nullable=True),
        sa.Column("sponsor_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csm_countersigned_by", sa.String(length=32), nullable=True),
        sa.Column("csm_countersigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_30d_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_onboardings_customer_name"), ["customer_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_onboardings_shared_channel_id"), ["shared_channel_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("actor_side", sa.String(length=10), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_onboarding_id"), ["onboarding_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_onboarding_id"), ["onboarding_id"], unique=False)
        batch_op.create_index("ix_notifications_status_next", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("has_capacity", sa.Boolean(), nullable=True),
        sa.Column("has_authority", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_onboarding_id"), ["onboarding_id"], unique=False)
        batch_op.create_index("ix_people_onboarding_role", ["onboarding_id", "role"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_slack_user_id"), ["slack_user_id"], unique=False)

    op.create_table(
        "posted_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "ts", name="uq_cards_channel_ts"),
        sa.UniqueConstraint("onboarding_id", "kind", "subject", name="uq_cards_subject"),
    )
    with op.batch_alter_table("posted_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posted_cards_onboarding_id"), ["onboarding_id"], unique=False)

    op.create_table(
        "stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("exit_criteria", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", "key", name="uq_stages_onboarding_key"),
    )
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stages_onboarding_id"), ["onboarding_id"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("track", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("customer_owner_role", sa.String(length=32), nullable=True),
        sa.Column("vendor_owner_role", sa.String(length=32), nullable=True),
        sa.Column("customer_owner_id", sa.Integer(), nullable=True),
        sa.Column("vendor_owner_id", sa.Integer(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("client_verified", sa.Boolean(), nullable=False),
        sa.Column("first_value", sa.Boolean(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("blocked_unblocker", sa.String(length=200), nullable=True),
        sa.Column("blocked_since", sa.Date(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_owner_id"], ["people.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["onboarding_id"], ["onboardings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vendor_owner_id"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", "key", name="uq_milestones_onboarding_key"),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_customer_owner_id"), ["customer_owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_onboarding_id"), ["onboarding_id"], unique=False)
        batch_op.create_index("ix_milestones_status_due", ["status", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_vendor_owner_id"), ["vendor_owner_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_vendor_owner_id"))
        batch_op.drop_index("ix_milestones_status_due")
        batch_op.drop_index(batch_op.f("ix_milestones_onboarding_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_customer_owner_id"))

    op.drop_table("milestones")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stages_onboarding_id"))

    op.drop_table("stages")
    with op.batch_alter_table("posted_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posted_cards_onboarding_id"))

    op.drop_table("posted_cards")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_slack_user_id"))
        batch_op.drop_index("ix_people_onboarding_role")
        batch_op.drop_index(batch_op.f("ix_people_onboarding_id"))

    op.drop_table("people")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_next")
        batch_op.drop_index(batch_op.f("ix_notifications_onboarding_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_onboarding_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboardings_shared_channel_id"))
        batch_op.drop_index(batch_op.f("ix_onboardings_customer_name"))

    op.drop_table("onboardings")
