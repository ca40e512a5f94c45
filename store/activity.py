"""Recording who did something in an onboarding, so silence can be noticed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.core.domain import OnboardingStatus
from store import audit
from store.models import Activity, AuditEntry, Onboarding

MESSAGE = "message"
CLICK = "click"
CHANNEL = "channel"
# Onboardings whose channel is still watched: being set up, or live and being adopted.
WATCHED = (OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value)


def record_activity(
    session: Session, *, onboarding_id: int, slack_user_id: str, side: str, kind: str, at: datetime
) -> None:
    values = {"onboarding_id": onboarding_id, "slack_user_id": slack_user_id, "side": side, "kind": kind, "at": at}
    session.connection().execute(insert(Activity.__table__), [values])  # type: ignore[attr-defined]


def record_click(session: Session, *, onboarding_id: int, slack_user_id: str, side: str, at: datetime) -> None:
    record_activity(session, onboarding_id=onboarding_id, slack_user_id=slack_user_id, side=side, kind=CLICK, at=at)


def record_message(session: Session, *, onboarding_id: int, slack_user_id: str, side: str, at: datetime) -> bool:
    """Record a message once, however often Slack delivers its event; False when it was already there.

    A message's ts is unique in its channel, so (onboarding, user, at = ts) names the message, and a
    unique index on it (messages only) keeps one row: the insert does nothing when the row is there,
    even when deliveries of the same event race each other, reach other workers or a restarted
    process.
    """
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Activity)
        .values(onboarding_id=onboarding_id, slack_user_id=slack_user_id, side=side, kind=MESSAGE, at=at)
        .on_conflict_do_nothing(
            index_elements=["onboarding_id", "slack_user_id", "at"], index_where=text("kind = 'message'")
        )
    )
    return session.connection().execute(statement).rowcount == 1


def watched_in_channel(session: Session, channel_id: str) -> list[int]:
    """The onboardings still running whose shared channel this is (normally one, or none)."""
    query = select(Onboarding.id).where(Onboarding.shared_channel_id == channel_id, col(Onboarding.status).in_(WATCHED))
    return list(session.exec(query))


def record_channel_change(
    session: Session, *, onboarding_id: int, action: str, team_id: str | None, at: datetime
) -> bool:
    """Note in the audit log that the onboarding's shared channel was shared or unshared; once per event.

    Slack may deliver the event again; the same action at the same instant is the same event.
    """
    seen = session.exec(
        select(AuditEntry.id).where(
            AuditEntry.onboarding_id == onboarding_id,
            AuditEntry.entity == CHANNEL,
            AuditEntry.action == action,
            AuditEntry.at == at,
        )
    ).first()
    if seen is not None:
        return False
    audit.record(
        session, onboarding_id=onboarding_id, entity=CHANNEL, action=action, field="team", new=team_id,
        actor=audit.SYSTEM, at=at,
    )  # fmt: skip
    return True
