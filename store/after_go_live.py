"""What the post-go-live cadence reads: every onboarding that went live, running or handed off.

One set-based statement per kind of row, like the rules of running onboardings (store.candidates):
the onboardings with an actual go-live date, their people and their milestones (key, title, status,
due and done dates), and their seat and weekly-active counts; and, for the App Home, the adoption
plays the outbox holds for one person.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from bot.core.domain import OnboardingStatus
from bot.core.notices import Rule
from store.models import Milestone, Notification, Onboarding, Person, UsageRecord, table_of
from store.outbox import FAILED

_O, _P, _M, _U = table_of(Onboarding), table_of(Person), table_of(Milestone), table_of(UsageRecord)
WENT_LIVE = (OnboardingStatus.LIVE.value, OnboardingStatus.HANDED_OFF.value)

LiveRow = namedtuple(
    "LiveRow",
    "id status customer_name playbook_key timezone tier contract_signed_on went_live_on "
    "shared_channel_id internal_channel_id success_criteria",
)
PersonRow = namedtuple("PersonRow", "id onboarding_id side role name slack_user_id")
MilestoneRow = namedtuple("MilestoneRow", "onboarding_id key title status due_on completed_at")


def went_live(conn: Connection) -> list[LiveRow]:
    """The onboardings live or handed off, with the day they went live recorded."""
    query = select(*(_O.c[name] for name in LiveRow._fields)).where(
        _O.c.status.in_(WENT_LIVE), _O.c.went_live_on.is_not(None)
    )
    return list(map(LiveRow._make, conn.execute(query).fetchall()))


def people(conn: Connection, ids: list[int]) -> list[PersonRow]:
    query = select(*(_P.c[name] for name in PersonRow._fields)).where(_P.c.onboarding_id.in_(ids))
    return list(map(PersonRow._make, conn.execute(query.order_by(_P.c.id)).fetchall()))


def milestones(conn: Connection, ids: list[int]) -> list[MilestoneRow]:
    query = select(*(_M.c[name] for name in MilestoneRow._fields)).where(_M.c.onboarding_id.in_(ids))
    return list(map(MilestoneRow._make, conn.execute(query.order_by(_M.c.due_on, _M.c.id)).fetchall()))


UsageRow = namedtuple("UsageRow", "onboarding_id day metric value")


def counts(conn: Connection, ids: list[int], metrics: tuple[str, ...], since: date) -> list[UsageRow]:
    """These product metrics of these onboardings from `since` on, oldest first."""
    query = (
        select(_U.c.onboarding_id, _U.c.day, _U.c.metric, _U.c.value)
        .where(_U.c.onboarding_id.in_(ids), _U.c.metric.in_(metrics), _U.c.day >= since)
        .order_by(_U.c.onboarding_id, _U.c.day)
    )
    return list(map(UsageRow._make, conn.execute(query).fetchall()))


def plays_said_to(session: Session, slack_user_id: str, since: datetime) -> list[Notification]:
    """The adoption plays said to this person (not failed) since `since`, oldest first."""
    query = (
        sm_select(Notification)
        .where(
            Notification.rule == Rule.VALUE_PLAY.value,
            Notification.recipient == slack_user_id,
            Notification.status != FAILED,
            col(Notification.created_at) >= since,
        )
        .order_by(col(Notification.created_at), col(Notification.id))
    )
    return list(session.exec(query).all())


SaidRow = namedtuple("SaidRow", "onboarding_id rule subject audience dedupe_key")


def said_since(conn: Connection, ids: list[int], rules: tuple[str, ...], since: datetime) -> list[SaidRow]:
    """What the outbox holds of these rules for these onboardings, claimed since `since` (any status)."""
    n = table_of(Notification)
    query = select(n.c.onboarding_id, n.c.rule, n.c.subject, n.c.audience, n.c.dedupe_key).where(
        n.c.onboarding_id.in_(ids), n.c.rule.in_(rules), n.c.created_at >= since
    )
    return list(map(SaidRow._make, conn.execute(query).fetchall()))
