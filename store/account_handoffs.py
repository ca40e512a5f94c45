"""The handoff to the ongoing CSM: what the written handoff reads, and what the account cadence reads.

The account cadence speaks for handed-off onboardings (status "handed_off") that have a stored handoff,
one set-based query per kind of row, like the rules of running onboardings (store.candidates).
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from bot.core.domain import OnboardingStatus, Side
from store.models import (
    AccountHandoff,
    Activity,
    AuditEntry,
    Escalation,
    HealthSnapshot,
    Onboarding,
    Person,
    StageRating,
    UsageRecord,
    table_of,
)

HANDED_OVER = (OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value, OnboardingStatus.HANDED_OFF.value)
_O, _A, _E = table_of(Onboarding), table_of(AccountHandoff), table_of(Escalation)
_H, _R, _P, _ACT = table_of(HealthSnapshot), table_of(StageRating), table_of(Person), table_of(Activity)


def handoff_of(session: Session, onboarding_id: int) -> AccountHandoff | None:
    return session.exec(sm_select(AccountHandoff).where(AccountHandoff.onboarding_id == onboarding_id)).first()


def escalations_of(session: Session, onboarding_id: int) -> list[Escalation]:
    query = sm_select(Escalation).where(Escalation.onboarding_id == onboarding_id).order_by(col(Escalation.opened_on))
    return list(session.exec(query))


def health_history(session: Session, onboarding_id: int, *, last: int = 8) -> list[HealthSnapshot]:
    """The latest `last` daily health scores, oldest first."""
    query = (
        sm_select(HealthSnapshot)
        .where(HealthSnapshot.onboarding_id == onboarding_id)
        .order_by(col(HealthSnapshot.day).desc())
        .limit(last)
    )
    return list(reversed(list(session.exec(query))))


def low_ratings(session: Session, onboarding_id: int, *, at_most: int = 2) -> list[StageRating]:
    query = (
        sm_select(StageRating)
        .where(StageRating.onboarding_id == onboarding_id, col(StageRating.score) <= at_most)
        .order_by(col(StageRating.id))
    )
    return list(session.exec(query))


# -- the account cadence ---------------------------------------------------------------------------
AccountRow = namedtuple(
    "AccountRow",
    "id status customer_name tier timezone playbook_key shared_channel_id internal_channel_id "
    "ongoing_csm_user_id meeting_at renewal_on accepted_at",
)
WeeklyActive = namedtuple("WeeklyActive", "onboarding_id day value")


def metric_since(conn: Connection, ids: list[int], metric: str, since: date) -> list[WeeklyActive]:
    """One product metric of these onboardings from `since` on, oldest first."""
    usage = table_of(UsageRecord)
    query = (
        select(usage.c.onboarding_id, usage.c.day, usage.c.value)
        .where(usage.c.onboarding_id.in_(ids), usage.c.metric == metric, usage.c.day >= since)
        .order_by(usage.c.onboarding_id, usage.c.day)
    )
    return list(map(WeeklyActive._make, conn.execute(query).fetchall()))


EscalationDay = namedtuple("EscalationDay", "onboarding_id opened_on resolved_at")
RatingRow = namedtuple("RatingRow", "onboarding_id stage score updated_at")
ScoreRow = namedtuple("ScoreRow", "onboarding_id day score")
ChampionRow = namedtuple("ChampionRow", "onboarding_id slack_user_id")


def handed_over(conn: Connection) -> list[AccountRow]:
    """Every onboarding with a stored handoff, running or handed off (not cancelled)."""
    query = (
        select(
            _O.c.id,
            _O.c.status,
            _O.c.customer_name,
            _O.c.tier,
            _O.c.timezone,
            _O.c.playbook_key,
            _O.c.shared_channel_id,
            _O.c.internal_channel_id,
            _A.c.ongoing_csm_user_id,
            _A.c.meeting_at,
            _A.c.renewal_on,
            _A.c.accepted_at,
        )
        .select_from(_O.join(_A, _A.c.onboarding_id == _O.c.id))
        .where(_O.c.status.in_(HANDED_OVER))
    )
    return list(map(AccountRow._make, conn.execute(query).fetchall()))


def escalation_days(conn: Connection, ids: list[int], since: date) -> list[EscalationDay]:
    """The escalations of these onboardings opened on or after `since`, or still open."""
    if not ids:
        return []
    query = select(_E.c.onboarding_id, _E.c.opened_on, _E.c.resolved_at).where(
        _E.c.onboarding_id.in_(ids), (_E.c.opened_on >= since) | _E.c.resolved_at.is_(None)
    )
    return list(map(EscalationDay._make, conn.execute(query).fetchall()))


def ratings(conn: Connection, ids: list[int]) -> list[RatingRow]:
    if not ids:
        return []
    query = (
        select(_R.c.onboarding_id, _R.c.stage, _R.c.score, _R.c.updated_at)
        .where(_R.c.onboarding_id.in_(ids))
        .order_by(_R.c.updated_at)
    )
    return list(map(RatingRow._make, conn.execute(query).fetchall()))


def latest_scores(conn: Connection, ids: list[int]) -> list[ScoreRow]:
    """Each onboarding's latest stored health score."""
    if not ids:
        return []
    latest = (
        select(_H.c.onboarding_id, func.max(_H.c.day).label("day"))
        .where(_H.c.onboarding_id.in_(ids))
        .group_by(_H.c.onboarding_id)
        .subquery()
    )
    query = select(_H.c.onboarding_id, _H.c.day, _H.c.score).select_from(
        _H.join(latest, (latest.c.onboarding_id == _H.c.onboarding_id) & (latest.c.day == _H.c.day))
    )
    return list(map(ScoreRow._make, conn.execute(query).fetchall()))


def last_vendor_activity(conn: Connection, ids: list[int]) -> dict[tuple[int, str], datetime]:
    """(onboarding id, Slack user id) -> the latest thing that vendor-side person did in the shared channel."""
    if not ids:
        return {}
    query = (
        select(_ACT.c.onboarding_id, _ACT.c.slack_user_id, func.max(_ACT.c.at))
        .where(_ACT.c.onboarding_id.in_(ids), _ACT.c.side == Side.VENDOR.value)
        .group_by(_ACT.c.onboarding_id, _ACT.c.slack_user_id)
    )
    return {(oid, user): at for oid, user, at in conn.execute(query).fetchall()}


def champions(conn: Connection, ids: list[int]) -> list[ChampionRow]:
    if not ids:
        return []
    query = select(_P.c.onboarding_id, _P.c.slack_user_id).where(_P.c.onboarding_id.in_(ids), _P.c.role == "champion")
    return list(map(ChampionRow._make, conn.execute(query).fetchall()))


def set_post_ts(session: Session, onboarding_id: int, ts: str) -> None:
    stored = handoff_of(session, onboarding_id)
    if stored is not None:
        stored.post_ts = ts
        session.add(stored)


LeftRow = namedtuple("LeftRow", "onboarding_id action slack_user_id at")
LEFT_CHANNEL = "left_channel"  # the audit action of a named person leaving the shared channel
CHANGED = "changed"  # the audit action of a role given to someone else


def champions_left(conn: Connection, ids: list[int]) -> list[LeftRow]:
    """When a champion of these onboardings left the shared channel, or the role went to someone else
    (from the audit trail: entity person, field champion, action left_channel or changed)."""
    if not ids:
        return []
    audit = table_of(AuditEntry)
    query = select(audit.c.onboarding_id, audit.c.action, audit.c.old_value, audit.c.at).where(
        audit.c.onboarding_id.in_(ids),
        audit.c.entity == "person",
        audit.c.field == "champion",
        audit.c.action.in_((LEFT_CHANNEL, CHANGED)),
    )
    return list(map(LeftRow._make, conn.execute(query).fetchall()))


def handed_off_with_champion(session: Session, channel_id: str, slack_user_id: str) -> list[int]:
    """The handed-off onboardings of this shared channel whose champion is this Slack user."""
    query = (
        sm_select(Onboarding.id)
        .join(Person, col(Person.onboarding_id) == col(Onboarding.id))
        .where(
            Onboarding.shared_channel_id == channel_id,
            Onboarding.status == OnboardingStatus.HANDED_OFF.value,
            Person.role == "champion",
            Person.slack_user_id == slack_user_id,
        )
    )
    return [i for i in session.exec(query) if i is not None]
