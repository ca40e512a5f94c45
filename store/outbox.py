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

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select, update

from bot.core.domain import Role
from bot.core.notices import Notice
from store import bulk
from store.models import Notification, Onboarding, Person
from store.types import utcnow

PENDING, SENDING, RETRY, SENT, FAILED = "pending", "sending", "retry", "sent", "failed"

_TABLE = Notification.__table__  # type: ignore[attr-defined]


def columns_of(notices: Sequence[Notice], created_at: datetime) -> dict[str, list[Any]]:
    """The pending outbox rows of these notices, column by column (what `bulk.upsert_columns` takes)."""
    count = len(notices)
    not_before = [n.not_before for n in notices]
    return {
        "dedupe_key": [n.dedupe_key for n in notices],
        "onboarding_id": [n.onboarding_id for n in notices],
        "rule": [n.rule.value for n in notices],
        "subject": [n.subject for n in notices],
        "recipient": [n.recipient for n in notices],
        "channel_id": [n.channel_id for n in notices],
        "audience": [n.audience.value for n in notices],
        "urgent": [n.urgent for n in notices],
        # the facts are stored as JSON (dates as ISO strings: the engine's JSON serializer)
        "payload": [{"why": n.why, "period": n.period, "facts": n.facts} for n in notices],
        "not_before": not_before,
        "next_attempt_at": not_before,
        "status": [PENDING] * count,
        "attempts": [0] * count,
        "created_at": [created_at] * count,
    }


def row_values(notice: Notice, created_at: datetime | None = None) -> dict[str, Any]:
    """The pending outbox row of one notice."""
    return {name: values[0] for name, values in columns_of([notice], created_at or utcnow()).items()}


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose dedupe key is not taken yet, in one statement; returns how many were new.

    INSERT ... ON CONFLICT DO NOTHING, so a rerun or a second scheduler that decided the same
    things adds nothing, and neither waits for nor fails on the other.
    """
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(r["dedupe_key"], r)
    if not first:
        return 0
    defaults = {"status": PENDING, "attempts": 0, "created_at": utcnow(), "payload": {}}
    full = [r if r.keys() >= defaults.keys() else defaults | r for r in first.values()]
    return bulk.upsert(session.connection(), _TABLE, full, conflict=["dedupe_key"], replace=None)


def claim(session: Session, notices: Iterable[Notice]) -> int:
    """Write each notice as a pending row unless its dedupe key already has one; returns the new count.

    Most of what a sweep decides was claimed by an earlier sweep of the same day: the keys not
    claimed yet are found first (one statement) and only those notices are turned into rows, and
    written in one more. A key taken in between (a second sweeper) is skipped, not written twice.
    """
    unique: dict[str, Notice] = {}
    for n in notices:
        unique.setdefault(n.dedupe_key, n)
    conn = session.connection()
    new = bulk.missing(conn, _TABLE, "dedupe_key", unique)
    fresh = [n for key, n in unique.items() if key in new]
    return bulk.insert_fresh(conn, _TABLE, columns_of(fresh, utcnow()), conflict=["dedupe_key"])


def timezones_of(session: Session, onboarding_ids: Iterable[int]) -> dict[int, str]:
    """Each onboarding's timezone, in one statement."""
    ids = sorted(set(onboarding_ids))
    if not ids:
        return {}
    query = select(Onboarding.id, Onboarding.timezone).where(col(Onboarding.id).in_(ids))
    return {oid: tz for oid, tz in session.exec(query).all()}


def had_digest(session: Session, since: Mapping[str, datetime]) -> set[str]:
    """The recipients who already had a digest (a post that is not urgent) since the moment given for
    each, or have one on its way (taken, or waiting to be tried again), in one statement."""
    if not since:
        return set()
    on_its_way = col(Notification.status).in_([SENDING, RETRY])
    query = (
        select(Notification.recipient, Notification.status, func.max(Notification.sent_at))
        .where(
            col(Notification.recipient).in_(sorted(since)),
            col(Notification.urgent).is_(False),
            or_(on_its_way, and_(col(Notification.status) == SENT, col(Notification.sent_at) >= min(since.values()))),
        )
        .group_by(Notification.recipient, Notification.status)
    )
    had = set()
    for recipient, status, last in session.exec(query).all():
        if status != SENT or (last is not None and last >= since[recipient]):
            had.add(recipient)
    return had


def statuses_of(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The status of each key already in the outbox (keys not there are left out), in one statement."""
    return {key: status for key, status in bulk.matching(session.connection(), _TABLE, "dedupe_key", keys, "status")}


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
        session,
        row,
        [PENDING, RETRY, SENDING],
        status=SENDING,
        attempts=row.attempts + 1,
        next_attempt_at=now + hold,
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


def _failed_for_csm(slack_user_id: str):
    runs = select(Person.onboarding_id).where(
        Person.slack_user_id == slack_user_id,
        col(Person.role).in_([Role.IMPLEMENTATION_CSM.value, Role.ONGOING_CSM.value]),
    )
    return (
        Notification.status == FAILED,
        or_(col(Notification.onboarding_id).in_(runs), col(Notification.recipient) == slack_user_id),
    )


def failed_for_csm(session: Session, slack_user_id: str, *, limit: int = 50) -> list[Notification]:
    """Failed rows a CSM should see: those of the onboardings they run, and direct messages meant for them."""
    query = (
        select(Notification)
        .where(*_failed_for_csm(slack_user_id))
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def count_failed_for_csm(session: Session, slack_user_id: str) -> int:
    """How many rows `failed_for_csm` would list without a limit."""
    query = select(func.count()).select_from(Notification).where(*_failed_for_csm(slack_user_id))
    return session.exec(query).one()
