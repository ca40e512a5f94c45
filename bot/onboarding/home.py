"""What someone on the vendor's team finds in their App Home, as plain data.

Their onboardings (stage, agreed and projected go-live, schedule, the card to open), the milestones that need them
(overdue, blocked, awaiting the customer's confirmation), the automated posts Slack refused
for good, which the deliverer will not retry, and the adoption plays running (bot.value.plays). `messages.home` turns this into the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.engine import Engine

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Stage
from bot.core.notices import Audience
from bot.milestones.forecast import schedule_now
from bot.milestones.progress import overdue
from bot.planning.forecast import Schedule
from bot.value.plays import RunningPlay, running_plays
from store import outbox
from store.db import session_scope
from store.models import Notification, PostedCard
from store.queries import cards_of, customer_names, milestones_of, onboardings_of

FAILED_SHOWN = 10


class Why(StrEnum):
    """Why a milestone needs its team, most pressing first."""

    BLOCKED = "blocked"
    OVERDUE = "overdue"
    AWAITING_CONFIRMATION = "awaiting_confirmation"


@dataclass(frozen=True)
class CardLink:
    """The message to open: the stage's card, or the plan overview when the stage has none."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class MyOnboarding:
    onboarding_id: int
    customer_name: str
    stage: Stage
    go_live_on: date  # agreed
    projected_on: date | None  # as the remaining work projects it (bot.planning.forecast)
    went_live_on: date | None
    schedule: Schedule  # against the agreed date
    today: date  # the customer's
    card: CardLink | None


@dataclass(frozen=True)
class NeedsAttention:
    onboarding_id: int
    customer_name: str
    title: str
    stage: Stage
    why: Why
    due_on: date
    card: CardLink | None


@dataclass(frozen=True)
class FailedPost:
    """An automated post Slack refused for good."""

    customer_name: str | None
    channel_id: str | None  # where it was meant to go; None for a direct message
    recipient: str  # the person a direct message was for (the channel itself otherwise)
    due_at: datetime  # when it was meant to go out
    error: str  # Slack's error code (e.g. "is_archived"), or the deliverer's own ("audience")
    detail: str  # what the deliverer added, e.g. "gave up after 5 attempts"; may be empty


@dataclass(frozen=True)
class Home:
    onboardings: list[MyOnboarding]
    attention: list[NeedsAttention]
    failed: list[FailedPost]  # newest first, at most FAILED_SHOWN
    failed_total: int
    plays: list[RunningPlay] = field(default_factory=list)  # the adoption plays running for them


def home_of(engine: Engine, slack_user_id: str, now: datetime, *, failed_shown: int = FAILED_SHOWN) -> Home:
    with session_scope(engine) as session:
        mine = onboardings_of(session, slack_user_id)
        ids = [ob.id for ob in mine]
        plans = milestones_of(session, ids)
        cards = cards_of(session, ids)
        refused = outbox.failed_for_csm(session, slack_user_id, limit=failed_shown)
        failed_total = (
            outbox.count_failed_for_csm(session, slack_user_id) if len(refused) == failed_shown else len(refused)
        )
        names = {ob.id: ob.customer_name for ob in mine}
        others = sorted({r.onboarding_id for r in refused if r.onboarding_id is not None} - names.keys())
        names |= customer_names(session, others)

        link = _links(cards)
        onboardings, attention = [], []
        for ob in mine:
            today = today_in(ob.timezone, now)
            items = plans[ob.id]
            onboardings.append(
                MyOnboarding(
                    onboarding_id=ob.id,
                    customer_name=ob.customer_name,
                    stage=Stage(ob.stage),
                    go_live_on=ob.target_go_live_on,
                    projected_on=ob.projected_go_live_on,
                    went_live_on=ob.went_live_on,
                    schedule=schedule_now(ob, today),
                    today=today,
                    card=link(ob.id, ob.stage),
                )
            )
            late = {m.id for m in overdue(items, today)}
            for m in items:
                why = _why(MilestoneStatus(m.status), m.id in late)
                if why is not None:
                    attention.append(
                        NeedsAttention(
                            onboarding_id=ob.id,
                            customer_name=ob.customer_name,
                            title=m.title,
                            stage=Stage(m.stage),
                            why=why,
                            due_on=m.due_on,
                            card=link(ob.id, m.stage),
                        )
                    )
        failed = [_failed(r, names) for r in refused]
        plays = running_plays(session, slack_user_id, now)
    return Home(onboardings=onboardings, attention=attention, failed=failed, failed_total=failed_total, plays=plays)


def _why(status: MilestoneStatus, late: bool) -> Why | None:
    if status is MilestoneStatus.BLOCKED:
        return Why.BLOCKED
    if status is MilestoneStatus.AWAITING_CONFIRMATION:
        return Why.AWAITING_CONFIRMATION
    return Why.OVERDUE if late else None


def _links(cards: list[PostedCard]):
    by_subject = {(c.onboarding_id, c.kind, c.subject): CardLink(c.channel_id, c.ts) for c in cards}

    def link(onboarding_id: int, stage: str) -> CardLink | None:
        return by_subject.get((onboarding_id, "stage", stage)) or by_subject.get((onboarding_id, "overview", ""))

    return link


def _failed(row: Notification, names: dict[int, str]) -> FailedPost:
    # The deliverer keeps "code" or "code: what it adds" (bot.slack.delivery).
    error, _, detail = (row.last_error or "").partition(": ")
    direct = row.audience in (Audience.DM, Audience.CUSTOMER_DM)
    return FailedPost(
        customer_name=names.get(row.onboarding_id) if row.onboarding_id is not None else None,
        channel_id=None if direct else (row.channel_id or row.recipient),
        recipient=row.recipient,
        due_at=row.not_before or row.created_at,
        error=error.strip(),
        detail=detail.strip(),
    )
