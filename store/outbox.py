"""The outbox: every automated post is a row first, claimed by its unique key, then delivered.

A row moves through these states:

    pending ──take──> sending ──> sent
                         ├──────> retry    the attempt failed in a way that may still have posted
                         └──────> failed   a permanent Slack error, or out of attempts
    retry ───take──> sending ...

`next_attempt_at` is when a pending or retry row may next be tried; while a row is `sending` it is
when the claim runs out. A `sending` row past that moment belongs to a deliverer that died mid-send,
and is due again like a retry. Any row taken before (attempts > 0) may already be in Slack, so the
deliverer looks for it in the channel's history before posting it again. `attempts` counts the
claims and doubles as the row's version: every transition names the attempt it ends, so a deliverer
whose claim was taken over cannot overwrite the newer outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select, update

from bot.domain import Role
from bot.notices import Notice
from store.models import Notification, Person
from store.types import utcnow

PENDING, SENDING, RETRY, SENT, FAILED = "pending", "sending", "retry", "sent", "failed"
# The rule of the deliverer's own notice: "I couldn't post to that channel".
DELIVERY_FAILED = "delivery_failed"
# Rows per INSERT: well under SQLite's bound-parameter limit.
CHUNK = 500

_TABLE = Notification.__table__  # type: ignore[attr-defined]


def _jsonable(value: Any) -> Any:
    def default(v: Any) -> Any:
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        if isinstance(v, (set, frozenset, tuple)):
            return list(v)
        return str(v)

    return json.loads(json.dumps(value, default=default))


def row_values(notice: Notice) -> dict[str, Any]:
    return {
        "dedupe_key": notice.dedupe_key,
        "onboarding_id": notice.onboarding_id,
        "rule": str(notice.rule),
        "subject": notice.subject,
        "recipient": notice.recipient,
        "channel_id": notice.channel_id,
        "audience": str(notice.audience),
        "urgent": notice.urgent,
        "payload": {"why": notice.why, "period": notice.period, "facts": _jsonable(notice.facts)},
        "not_before": notice.not_before,
        "next_attempt_at": notice.not_before,
    }


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose dedupe key is not taken yet; returns how many were new.

    One INSERT ... ON CONFLICT DO NOTHING per CHUNK rows, so a rerun or a second scheduler that
    decided the same things adds nothing, and neither waits for nor fails on the other.
    """
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(r["dedupe_key"], r)
    unique = list(first.values())
    if not unique:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    created = utcnow()
    full = [{"status": PENDING, "attempts": 0, "created_at": created, "payload": {}, **r} for r in unique]
    inserted = 0
    for start in range(0, len(full), CHUNK):
        statement = (
            insert(_TABLE)
            .values(full[start:start + CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_TABLE.c.id)
        )
        inserted += len(session.exec(statement).all())
    return inserted


def claim(session: Session, notices: Iterable[Notice]) -> int:
    """Write each notice as a pending row unless its dedupe key already has one; returns the new count."""
    return insert_new(session, [row_values(n) for n in notices])


def statuses_of(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The status of each key already in the outbox (keys not there are left out)."""
    wanted = list(set(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(Notification.dedupe_key, Notification.status).where(
            col(Notification.dedupe_key).in_(wanted[start:start + CHUNK])
        )
        found.update(dict(session.exec(query).all()))
    return found


def due(session: Session, now: datetime, *, limit: int = 500) -> list[Notification]:
    """Rows to deliver at `now`: ready pending and retry rows, and sending rows whose claim ran out."""
    waited = or_(col(Notification.next_attempt_at).is_(None), col(Notification.next_attempt_at) <= now)
    ready = and_(
        col(Notification.status).in_([PENDING, RETRY]),
        waited,
        or_(col(Notification.not_before).is_(None), col(Notification.not_before) <= now),
    )
    abandoned = and_(col(Notification.status) == SENDING, waited)
    query = (
        select(Notification)
        .where(or_(ready, abandoned))
        .order_by(col(Notification.urgent).desc(), col(Notification.not_before), col(Notification.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def _move(session: Session, row: Notification, from_statuses: Sequence[str], **values: Any) -> bool:
    """Compare-and-set: change the row only if it is still in one of `from_statuses` at the same attempt."""
    result = session.exec(
        update(Notification)
        .where(
            col(Notification.id) == row.id,
            col(Notification.status).in_(list(from_statuses)),
            col(Notification.attempts) == row.attempts,
        )
        .values(**values)
    )
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        setattr(row, name, value)
    return True


def take(session: Session, row: Notification, *, now: datetime, hold: timedelta) -> bool:
    """Claim a due row for one attempt: `sending` until now + hold. False when another deliverer won."""
    return _move(
        session, row, [PENDING, RETRY, SENDING],
        status=SENDING, attempts=row.attempts + 1, next_attempt_at=now + hold,
    )


def mark_sent(session: Session, row: Notification, *, ts: str, channel_id: str | None, at: datetime) -> bool:
    values: dict[str, Any] = {"status": SENT, "ts": ts, "sent_at": at, "last_error": None}
    if channel_id:
        values["channel_id"] = channel_id
    return _move(session, row, [SENDING], **values)


def mark_retry(session: Session, row: Notification, *, at: datetime, error: str) -> bool:
    return _move(session, row, [SENDING], status=RETRY, next_attempt_at=at, last_error=error[:500])


def mark_failed(session: Session, row: Notification, *, error: str) -> bool:
    return _move(session, row, [PENDING, RETRY, SENDING], status=FAILED, last_error=error[:500])


def postpone(session: Session, row: Notification, *, until: datetime) -> bool:
    """Not now (outside business hours): try again at `until`, keeping what is known about earlier attempts."""
    status = RETRY if row.attempts else PENDING
    return _move(session, row, [PENDING, RETRY, SENDING], status=status, next_attempt_at=until)


def dm_channel_of(session: Session, user_id: str) -> str | None:
    """The DM channel a direct message to this user landed in before, if any did."""
    query = (
        select(Notification.channel_id)
        .where(
            Notification.recipient == user_id,
            Notification.audience == "dm",
            Notification.status == SENT,
            col(Notification.channel_id).startswith("D"),
        )
        .order_by(col(Notification.sent_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def failed_for_csm(session: Session, slack_user_id: str, *, limit: int = 50) -> list[Notification]:
    """Failed rows a CSM should see: those of the onboardings they run, and direct messages meant for them."""
    runs = select(Person.onboarding_id).where(
        Person.slack_user_id == slack_user_id,
        col(Person.role).in_([Role.IMPLEMENTATION_CSM.value, Role.ONGOING_CSM.value]),
    )
    query = (
        select(Notification)
        .where(
            Notification.status == FAILED,
            or_(col(Notification.onboarding_id).in_(runs), Notification.recipient == slack_user_id),
        )
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())
