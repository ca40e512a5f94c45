"""Snoozes and escalation acknowledgements, keyed by the reason to speak (onboarding, rule, subject)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from bot.core.payloads import NoticeRef
from store.models import Escalation, Milestone, Person, Snooze


def customer_owner(session: Session, onboarding_id: int, milestone_key: str) -> str | None:
    """The Slack user id of the customer-side owner of a milestone, if it has one in Slack."""
    query = (
        select(Person.slack_user_id)
        .join(Milestone, col(Milestone.customer_owner_id) == col(Person.id))
        .where(Milestone.onboarding_id == onboarding_id, Milestone.key == milestone_key)
    )
    return session.exec(query).first()


def _snooze_of(session: Session, ref: NoticeRef) -> Snooze | None:
    query = select(Snooze).where(
        Snooze.onboarding_id == ref.onboarding_id, Snooze.rule == ref.rule, Snooze.subject == ref.subject
    )
    return session.exec(query).first()


def snooze(
    session: Session, ref: NoticeRef, *, until: datetime, by: str, now: datetime
) -> tuple[Snooze, datetime | None]:
    """Keep this reason quiet until `until`; returns the row and when it was snoozed until before, if it was."""
    row = _snooze_of(session, ref)
    before = row.until if row else None
    # Two people snoozing one reason in the same instant: the loser's insert fails on the unique
    # key, the error handler apologises, and a second click updates the winner's row.
    if row is None:
        row = Snooze(
            onboarding_id=ref.onboarding_id,
            rule=ref.rule,
            subject=ref.subject,
            until=until,
            snoozed_by=by,
            created_at=now,
        )
    row.until, row.snoozed_by = until, by
    session.add(row)
    session.flush()
    return row, before


def open_escalation(session: Session, ref: NoticeRef) -> Escalation | None:
    query = (
        select(Escalation)
        .where(
            Escalation.onboarding_id == ref.onboarding_id,
            Escalation.rule == ref.rule,
            Escalation.subject == ref.subject,
            col(Escalation.resolved_at).is_(None),
        )
        .order_by(col(Escalation.opened_on).desc())
    )
    return session.exec(query).first()


def acknowledge(session: Session, escalation: Escalation, *, by: str, now: datetime) -> bool:
    """Mark it picked up by `by`, unless someone got there first (then False, and the row is reloaded)."""
    claimed = session.exec(
        update(Escalation)
        .where(col(Escalation.id) == escalation.id, col(Escalation.acknowledged_at).is_(None))
        .values(acknowledged_at=now, acknowledged_by=by)
    )
    session.refresh(escalation)
    return claimed.rowcount == 1
