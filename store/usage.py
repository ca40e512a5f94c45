"""Product usage: the reported values per (onboarding, day, metric), the customer's account id, daily adoption health."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from bot.core.domain import OnboardingStatus, Side
from store.bulk import upsert
from store.models import Activity, AdoptionSnapshot, Onboarding, UsageRecord, table_of

# Usage is taken for an account from its setup to its renewal: after the handoff to the ongoing CSM
# it feeds the renewal-risk watch.
TRACKED = (OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value, OnboardingStatus.HANDED_OFF.value)


def onboardings_by_account(session: Session, account_ids: Iterable[str]) -> dict[str, list[int]]:
    """The tracked onboardings (set up, live or handed over) of each account id; an id with none is left out."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Onboarding.external_account_id, Onboarding.id).where(
            col(Onboarding.external_account_id).in_(wanted), col(Onboarding.status).in_(TRACKED)
        )
    ).all()
    found: dict[str, list[int]] = {}
    for account, oid in rows:
        if account is not None and oid is not None:
            found.setdefault(account, []).append(oid)
    return found


def account_holder(session: Session, account_id: str) -> Onboarding | None:
    """The tracked onboarding that already has this account id, if any."""
    return session.exec(
        select(Onboarding).where(Onboarding.external_account_id == account_id, col(Onboarding.status).in_(TRACKED))
    ).first()


def save_usage(session: Session, rows: list[dict[str, Any]], now: datetime) -> int:
    """Upsert (onboarding_id, day, metric, value) rows: the same report twice leaves the same rows."""
    stamped = [{**row, "received_at": now} for row in rows]
    return upsert(
        session.connection(),
        table_of(UsageRecord),
        stamped,
        conflict=["onboarding_id", "day", "metric"],
        replace=["value", "received_at"],
    )


def usage_of(session: Session, onboarding_id: int, *, until: date | None = None) -> list[tuple[date, str, int]]:
    """Every (day, metric, value) stored for an onboarding, oldest first."""
    query = select(col(UsageRecord.day), col(UsageRecord.metric), col(UsageRecord.value)).where(
        UsageRecord.onboarding_id == onboarding_id
    )
    if until is not None:
        query = query.where(UsageRecord.day <= until)
    return [(d, m, v) for d, m, v in session.exec(query.order_by(col(UsageRecord.day), col(UsageRecord.metric)))]


def usage_by_onboarding(session: Session, onboarding_ids: list[int]) -> dict[int, list[tuple[date, str, int]]]:
    """`usage_of` for many onboardings in one statement (every day stored; each list oldest first)."""
    found: dict[int, list[tuple[date, str, int]]] = {i: [] for i in onboarding_ids}
    if not onboarding_ids:
        return found
    query = select(col(UsageRecord.onboarding_id), col(UsageRecord.day), col(UsageRecord.metric),
                   col(UsageRecord.value)).where(col(UsageRecord.onboarding_id).in_(sorted(set(onboarding_ids))))  # fmt: skip
    for oid, d, m, v in session.exec(query.order_by(col(UsageRecord.day), col(UsageRecord.metric))):
        found[oid].append((d, m, v))
    return found


def has_usage(session: Session, onboarding_id: int) -> bool:
    return (
        session.exec(select(UsageRecord.id).where(UsageRecord.onboarding_id == onboarding_id).limit(1)).first()
        is not None
    )


def save_adoption(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert (onboarding_id, day, score, parts): a later score for a day replaces the earlier."""
    upsert(
        session.connection(),
        table_of(AdoptionSnapshot),
        rows,
        conflict=["onboarding_id", "day"],
        replace=["score", "parts"],
    )


def adoption_of(session: Session, onboarding_id: int) -> list[AdoptionSnapshot]:
    return list(
        session.exec(
            select(AdoptionSnapshot)
            .where(AdoptionSnapshot.onboarding_id == onboarding_id)
            .order_by(col(AdoptionSnapshot.day))
        )
    )


def latest_adoption(session: Session, onboarding_ids: list[int]) -> dict[int, AdoptionSnapshot]:
    """Each onboarding's latest adoption snapshot, in one statement (onboardings without one left out)."""
    if not onboarding_ids:
        return {}
    latest = (
        select(col(AdoptionSnapshot.onboarding_id), func.max(AdoptionSnapshot.day).label("day"))
        .where(col(AdoptionSnapshot.onboarding_id).in_(sorted(set(onboarding_ids))))
        .group_by(col(AdoptionSnapshot.onboarding_id))
        .subquery()
    )
    query = select(AdoptionSnapshot).join(
        latest,
        and_(col(AdoptionSnapshot.onboarding_id) == latest.c.onboarding_id, col(AdoptionSnapshot.day) == latest.c.day),
    )
    return {row.onboarding_id: row for row in session.exec(query)}


def customer_activity(
    session: Session, onboarding_id: int, start: datetime, end: datetime
) -> list[tuple[str, datetime]]:
    """(Slack user, when) of every customer-side activity between start (inclusive) and end (exclusive), oldest first."""
    rows = session.exec(
        select(Activity.slack_user_id, Activity.at)
        .where(
            Activity.onboarding_id == onboarding_id,
            Activity.side == Side.CUSTOMER.value,
            col(Activity.at) >= start,
            col(Activity.at) < end,
        )
        .order_by(col(Activity.at))
    ).all()
    return [(user, at) for user, at in rows]
