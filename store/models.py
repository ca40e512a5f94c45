"""The tables. One onboarding owns its people, stages, milestones, cards and audit trail.

Enum-valued columns hold the string values of `bot.core.domain` enums. Every datetime is aware UTC
(`UTCDateTime`); calendar dates (due dates, go-live) are plain dates in the customer's timezone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.core.domain import MilestoneStatus, OnboardingStatus, Stage, StageStatus
from store.types import UTCDateTime, utcnow


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy Table behind a SQLModel table class, for set-based queries and bulk writes."""
    return model.__table__  # type: ignore[attr-defined]


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True),
    )


def _when(*, nullable: bool = True, default_now: bool = False) -> Any:
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable)
    if default_now:
        return Field(default_factory=utcnow, sa_column=column)
    return Field(default=None, sa_column=column)


def _text(*, nullable: bool = False) -> Any:
    return Field(default=None if nullable else "", sa_column=Column(Text, nullable=nullable))


def _json(default_factory=list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Onboarding(SQLModel, table=True):
    __tablename__ = "onboardings"
    __table_args__ = (
        # One onboarding being set up or adopted per shared channel, however often the handoff is sent.
        Index(
            "uq_onboardings_running_channel",
            "shared_channel_id",
            unique=True,
            sqlite_where=text("status IN ('active', 'live')"),
            postgresql_where=text("status IN ('active', 'live')"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    customer_name: str = Field(max_length=200, index=True)
    status: str = Field(default=OnboardingStatus.ACTIVE.value, max_length=20)
    stage: str = Field(default=Stage.PRE_KICKOFF.value, max_length=20)
    tier: int
    acv_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    playbook_key: str = Field(max_length=64)
    timezone: str = Field(max_length=64)
    contract_signed_on: date
    target_go_live_on: date
    earliest_go_live_on: date | None = None
    # The go-live as the remaining work projects it (bot.planning.forecast), worked out again on every
    # change and each customer-local day; the schedule it gives against the agreed date; the actual day.
    projected_go_live_on: date | None = None
    schedule: str | None = Field(default=None, max_length=10)
    forecast_on: date | None = None
    went_live_on: date | None = None
    shared_channel_id: str | None = Field(default=None, max_length=32, index=True)
    internal_channel_id: str | None = Field(default=None, max_length=32)

    # What the customer bought and why, in their words; visible to the customer.
    sold: str = _text()
    commitments: str = _text()
    success_criteria: str = _text()
    first_value_definition: str = _text()
    full_value_definition: str = _text()
    it_dependencies: list[str] = _json()
    # Internal only: never rendered into a shared channel.
    concerns: str = _text()
    political_dynamics: str = _text()

    gate_override_reason: str | None = _text(nullable=True)
    gate_override_by: str | None = Field(default=None, max_length=32)
    gate_override_at: datetime | None = _when()

    sponsor_signed_by: str | None = Field(default=None, max_length=32)
    sponsor_signed_at: datetime | None = _when()
    csm_countersigned_by: str | None = Field(default=None, max_length=32)
    csm_countersigned_at: datetime | None = _when()
    review_30d_on: date | None = None
    # The customer's account in the vendor's product: how usage reports find this onboarding.
    external_account_id: str | None = Field(default=None, max_length=100, index=True)

    created_by: str = Field(max_length=32)
    created_at: datetime = _when(nullable=False, default_now=True)
    updated_at: datetime = _when(nullable=False, default_now=True)
    version: int = Field(default=1)
    # Counts the reads under the onboarding's lock (store.onboardings.load): orders the states its cards show.
    revision: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class Person(SQLModel, table=True):
    """A named person on either side. Customer people may not be in Slack (yet)."""

    __tablename__ = "people"
    __table_args__ = (Index("ix_people_onboarding_role", "onboarding_id", "role"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    side: str = Field(max_length=10)
    role: str = Field(max_length=32)
    name: str = Field(max_length=200)
    slack_user_id: str | None = Field(default=None, max_length=32, index=True)
    email: str | None = Field(default=None, max_length=254)
    has_capacity: bool | None = None
    has_authority: bool | None = None
    created_at: datetime = _when(nullable=False, default_now=True)


class StageRecord(SQLModel, table=True):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("onboarding_id", "key", name="uq_stages_onboarding_key"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    key: str = Field(max_length=20)
    position: int
    status: str = Field(default=StageStatus.PENDING.value, max_length=10)
    # [{"key", "text", "client_verified", "milestones": [...], "met_at", "met_by"}]
    exit_criteria: list[dict[str, Any]] = _json()
    started_at: datetime | None = _when()
    completed_at: datetime | None = _when()


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"
    __table_args__ = (
        UniqueConstraint("onboarding_id", "key", name="uq_milestones_onboarding_key"),
        Index("ix_milestones_status_due", "status", "due_on"),
    )

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    stage: str = Field(max_length=20)
    key: str = Field(max_length=64)
    title: str = Field(max_length=200)
    track: str = Field(max_length=20)
    position: int = 0
    customer_owner_role: str | None = Field(default=None, max_length=32)
    vendor_owner_role: str | None = Field(default=None, max_length=32)
    customer_owner_id: int | None = _fk("people.id", nullable=True, ondelete="SET NULL")
    vendor_owner_id: int | None = _fk("people.id", nullable=True, ondelete="SET NULL")
    start_on: date
    due_on: date
    status: str = Field(default=MilestoneStatus.NOT_STARTED.value, max_length=24)
    client_verified: bool = False
    first_value: bool = False
    depends_on: list[str] = _json()
    blocked_reason: str | None = _text(nullable=True)
    blocked_unblocker: str | None = Field(default=None, max_length=200)
    blocked_since: date | None = None
    started_at: datetime | None = _when()
    completed_at: datetime | None = _when()
    confirmed_by: str | None = Field(default=None, max_length=32)
    snoozed_until: datetime | None = _when()
    # Bumped on every change; buttons carry it so a stale click is refused, never applied.
    version: int = Field(default=1)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when, from what, to what. Append-only."""

    __tablename__ = "audit_log"

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int | None = _fk("onboardings.id", nullable=True)
    entity: str = Field(max_length=20)
    entity_id: int | None = None
    action: str = Field(max_length=40)
    field: str | None = Field(default=None, max_length=40)
    old_value: str | None = _text(nullable=True)
    new_value: str | None = _text(nullable=True)
    reason: str | None = _text(nullable=True)
    actor: str = Field(max_length=32)
    actor_side: str | None = Field(default=None, max_length=10)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


class PostedCard(SQLModel, table=True):
    """A message the bot keeps current with `chat.update`; its thread holds the history."""

    __tablename__ = "posted_cards"
    __table_args__ = (
        UniqueConstraint("onboarding_id", "kind", "subject", name="uq_cards_subject"),
        UniqueConstraint("channel_id", "ts", name="uq_cards_channel_ts"),
    )

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    kind: str = Field(max_length=20)
    subject: str = Field(default="", max_length=64)
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    created_at: datetime = _when(nullable=False, default_now=True)
    updated_at: datetime = _when(nullable=False, default_now=True)
    # The onboarding revision of the state the card last showed (store.card_draws).
    drawn_revision: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class Notification(SQLModel, table=True):
    """The outbox and ledger: a post is a row (claimed by its unique key) before it is sent."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
        # what a person already had: last week's digest (for comparing), today's digest (one a day)
        Index("ix_notifications_recipient_rule", "recipient", "rule", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    dedupe_key: str = Field(max_length=255, unique=True)
    onboarding_id: int | None = _fk("onboardings.id", nullable=True)
    rule: str = Field(max_length=40)
    subject: str = Field(default="", max_length=64)
    recipient: str = Field(max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    # "shared", "internal" or "dm": where it may be said, checked again before sending.
    audience: str = Field(default="dm", max_length=10)
    # Urgent posts go out on their own; the rest are bundled into one digest per person per day.
    urgent: bool = False
    payload: dict[str, Any] = _json(dict)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    not_before: datetime | None = _when()
    next_attempt_at: datetime | None = _when()
    last_error: str | None = _text(nullable=True)
    ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(nullable=False, default_now=True)
    sent_at: datetime | None = _when()


class Activity(SQLModel, table=True):
    """Someone did something in an onboarding (a message in the shared channel, a click)."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_onboarding_side_at", "onboarding_id", "side", "at"),
        # A message's ts is unique in its channel: one row per message, however often Slack sends it.
        # Only for messages: two clicks by one person may share an instant.
        Index(
            "uq_activity_message",
            "onboarding_id",
            "slack_user_id",
            "at",
            unique=True,
            sqlite_where=text("kind = 'message'"),
            postgresql_where=text("kind = 'message'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    slack_user_id: str = Field(max_length=32)
    side: str = Field(max_length=10)
    kind: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Snooze(SQLModel, table=True):
    """A reason to speak (rule + subject) kept quiet until a moment."""

    __tablename__ = "snoozes"
    __table_args__ = (UniqueConstraint("onboarding_id", "rule", "subject", name="uq_snoozes_reason"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    rule: str = Field(max_length=40)
    subject: str = Field(default="", max_length=64)
    until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    snoozed_by: str = Field(max_length=32)
    created_at: datetime = _when(nullable=False, default_now=True)


class Escalation(SQLModel, table=True):
    """An escalation that climbs a level (CSM, manager, escalation contact) until acknowledged."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("onboarding_id", "rule", "subject", "opened_on", name="uq_escalations_reason"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    rule: str = Field(max_length=40)
    subject: str = Field(default="", max_length=64)
    opened_on: date
    level: int = 0
    raised_at: datetime = _when(nullable=False, default_now=True)
    level_raised_at: datetime = _when(nullable=False, default_now=True)
    acknowledged_at: datetime | None = _when()
    acknowledged_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = _when()


class HealthSnapshot(SQLModel, table=True):
    """One day's health score, with its parts, so a drop can be seen and explained."""

    __tablename__ = "health_snapshots"
    __table_args__ = (UniqueConstraint("onboarding_id", "day", name="uq_health_day"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    day: date
    score: int
    parts: dict[str, Any] = _json(dict)


class UsageRecord(SQLModel, table=True):
    """One product metric of one customer-local day, as the product reported it (last report wins).

    `metric` is `provisioned_seats`, `daily_active_users`, `weekly_active_users` or `event:<name>`
    for a named key event (its count that day).
    """

    __tablename__ = "usage"
    __table_args__ = (UniqueConstraint("onboarding_id", "day", "metric", name="uq_usage_day_metric"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    day: date
    metric: str = Field(max_length=80)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_at: datetime = _when(nullable=False, default_now=True)


class AdoptionSnapshot(SQLModel, table=True):
    """One day's early health score from product usage, with its parts (usage, progress, engagement, sponsor)."""

    __tablename__ = "adoption_snapshots"
    __table_args__ = (UniqueConstraint("onboarding_id", "day", name="uq_adoption_day"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    day: date
    score: int
    parts: dict[str, Any] = _json(dict)


class StageRating(SQLModel, table=True):
    """One customer-side person's answer to "how did this stage go?": a score 1-5 and an optional comment.

    One row per person per stage, changed in place when they change their mind. `alert_ts` is the
    internal alert a low score raised, so a later comment lands in its thread rather than as a second alert.
    """

    __tablename__ = "stage_ratings"
    __table_args__ = (UniqueConstraint("onboarding_id", "stage", "slack_user_id", name="uq_stage_ratings_person"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    stage: str = Field(max_length=20)
    slack_user_id: str = Field(max_length=32)
    score: int
    comment: str = _text()
    alert_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(nullable=False, default_now=True)
    updated_at: datetime = _when(nullable=False, default_now=True)


class AccountHandoff(SQLModel, table=True):
    """The handoff to the ongoing CSM: the meeting, the renewal date and the written handoff (internal).

    One per onboarding, written once by the vendor's team; accepted by the ongoing CSM it names.
    """

    __tablename__ = "account_handoffs"
    __table_args__ = (UniqueConstraint("onboarding_id", name="uq_account_handoffs_onboarding"),)

    id: int = Field(default=None, primary_key=True)  # given by the database on insert
    onboarding_id: int = _fk("onboardings.id")
    ongoing_csm_user_id: str = Field(max_length=32)
    meeting_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    renewal_on: date
    expansion: str = _text()
    # Internal only: the written handoff as the CSM edited it; never rendered into a shared channel.
    written: str = _text()
    written_by: str = Field(max_length=32)
    written_at: datetime = _when(nullable=False, default_now=True)
    post_ts: str | None = Field(default=None, max_length=32)  # the internal post, with its Accept button
    accepted_by: str | None = Field(default=None, max_length=32)
    accepted_at: datetime | None = _when()


class Lease(SQLModel, table=True):
    """Who may run a singleton job (the sweep) until when; the SQLite stand-in for an advisory lock."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=80)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


ALL_TABLES = (
    Onboarding,
    Person,
    StageRecord,
    Milestone,
    AuditEntry,
    PostedCard,
    Notification,
    Activity,
    Snooze,
    Escalation,
    HealthSnapshot,
    UsageRecord,
    AdoptionSnapshot,
    StageRating,
    AccountHandoff,
    Lease,
)
