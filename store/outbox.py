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

from sqlalchemy import and_, bindparam, case, func, or_
from sqlalchemy.engine import Connection
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


# The columns a pending row is written with, in the order `driver_rows_of` gives them.
COLUMNS = (
    "dedupe_key", "onboarding_id", "rule", "subject", "recipient", "channel_id", "audience", "urgent",
    "payload", "not_before", "next_attempt_at", "status", "attempts", "created_at",
)  # fmt: skip


def driver_rows_of(conn: Connection, notices: Sequence[Notice], created_at: datetime) -> list[tuple]:
    """The pending rows of these notices as the driver takes them, in `COLUMNS` order, in one pass.

    The same values as `columns_of` put through each column type's bind processor, built without
    the column lists in between: a Monday's first sweep writes some 50,000 rows at 10,000
    onboardings, and the detour cost as much as the insert itself.
    """
    when, urgent = bulk.bound(conn, _TABLE, "not_before"), bulk.bound(conn, _TABLE, "urgent")
    payload, created = bulk.bound(conn, _TABLE, "payload"), bulk.bound(conn, _TABLE, "created_at")(created_at)
    rows = []
    for n in notices:
        not_before = when(n.not_before)
        rows.append(
            (
                n.dedupe_key,
                n.onboarding_id,
                n.rule._value_,  # the enum's stored value, without the `value` property's lookup
                n.subject,
                n.recipient,
                n.channel_id,
                n.audience._value_,
                urgent(n.urgent),
                payload({"why": n.why, "period": n.period, "facts": n.facts}),
                not_before,
                not_before,
                PENDING,
                0,
                created,
            )
        )
    return rows


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
    return bulk.insert_fresh(conn, _TABLE, COLUMNS, driver_rows_of(conn, fresh, utcnow()), conflict=["dedupe_key"])


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


def _is_due(now: datetime):
    waited = or_(col(Notification.next_attempt_at).is_(None), col(Notification.next_attempt_at) <= now)
    ready = and_(
        col(Notification.status).in_([PENDING, RETRY]),
        waited,
        or_(col(Notification.not_before).is_(None), col(Notification.not_before) <= now),
    )
    abandoned = and_(col(Notification.status) == SENDING, waited)
    return or_(ready, abandoned)


_ORDER = (col(Notification.urgent).desc(), col(Notification.not_before), col(Notification.id))


def due(session: Session, now: datetime, *, limit: int = 500) -> list[Notification]:
    """Rows to deliver at `now`: ready pending and retry rows, and sending rows whose claim ran out."""
    query = select(Notification).where(_is_due(now)).order_by(*_ORDER).limit(limit)
    return list(session.exec(query).all())


def destination():
    """Where a row goes: its channel, or for a direct message not sent yet, the person."""
    return func.coalesce(Notification.channel_id, Notification.recipient)


def due_by_destination(session: Session, now: datetime, *, destinations: int) -> list[Notification]:
    """Every due row of the first `destinations` destinations with due rows, in one statement.

    A destination's due rows are never split between two calls (one person's day stays one
    digest); the destinations with urgent rows come first, then by their earliest due row.
    """
    where = destination()
    first = (
        select(where)
        .where(_is_due(now))
        .group_by(where)
        .order_by(
            func.max(case((col(Notification.urgent), 1), else_=0)).desc(),
            func.min(Notification.not_before),
            func.min(Notification.id),
        )
        .limit(destinations)
    )
    query = select(Notification).where(_is_due(now), where.in_(first.scalar_subquery())).order_by(*_ORDER)
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


def _move_all(
    session: Session, rows: Sequence[Notification], from_statuses: Sequence[str], values_of
) -> list[Notification]:
    """`_move` for many rows in one statement per attempt count (one, nearly always); returns those moved, in order.

    `values_of(attempts)` gives the values to set on the rows at that attempt.
    """
    by_attempts: dict[int, list[Notification]] = {}
    for row in rows:
        by_attempts.setdefault(row.attempts, []).append(row)
    moved: list[int | None] = []
    for attempts, group in by_attempts.items():
        values = values_of(attempts)
        result = session.exec(
            update(Notification)
            .where(
                col(Notification.id).in_([r.id for r in group]),
                col(Notification.status).in_(list(from_statuses)),
                col(Notification.attempts) == attempts,
            )
            .values(**values)
            .returning(col(Notification.id))
        )
        ids = set(result.scalars().all())
        for row in group:
            if row.id in ids:
                for name, value in values.items():
                    setattr(row, name, value)
                moved.append(row.id)
    done = set(moved)
    return [r for r in rows if r.id in done]


def take_all(session: Session, rows: Sequence[Notification], *, now: datetime, hold: timedelta) -> list[Notification]:
    """`take` for many rows at once: the ones claimed, in their order (the others another deliverer won)."""
    taken = _move_all(
        session,
        rows,
        [PENDING, RETRY, SENDING],
        lambda attempts: {"status": SENDING, "attempts": attempts + 1, "next_attempt_at": now + hold},
    )
    return taken


def mark_all_sent(
    session: Session, rows: Sequence[Notification], *, ts: str, channel_id: str | None, at: datetime
) -> list[Notification]:
    """`mark_sent` for many rows of one post at once; returns the rows marked."""
    values: dict[str, Any] = {"status": SENT, "ts": ts, "sent_at": at, "last_error": None}
    if channel_id:
        values["channel_id"] = channel_id
    return _move_all(session, rows, [SENDING], lambda _attempts: values)


def mark_many_sent(
    session: Session, landed: Sequence[tuple[Notification, str, str | None, datetime]]
) -> list[Notification]:
    """`mark_sent` for the rows of many posts, each (row, ts, channel_id, at), in two statements.

    One executemany of the compare-and-set update, then one read of what the rows now hold: a row
    counts as marked when it is sent with this ts at the attempt that was ours (a deliverer that
    took the row over would have counted another attempt).
    """
    if not landed:
        return []
    table = _TABLE
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            table.c.status == SENDING,
            table.c.attempts == bindparam("row_attempts"),
        )
        .values(
            status=SENT,
            ts=bindparam("row_ts"),
            sent_at=bindparam("row_at"),
            last_error=None,
            channel_id=func.coalesce(bindparam("row_channel", type_=table.c.channel_id.type), table.c.channel_id),
        )
    )
    conn = session.connection()
    conn.execute(
        statement,
        [
            {"row_id": r.id, "row_attempts": r.attempts, "row_ts": ts, "row_at": at, "row_channel": channel}
            for r, ts, channel, at in landed
        ],
    )
    ids = [r.id for r, *_ in landed]
    now_held = {}
    for start in range(0, len(ids), 5000):
        query = select(table.c.id, table.c.status, table.c.ts, table.c.attempts).where(
            table.c.id.in_(ids[start : start + 5000])
        )
        now_held.update({i: (status, ts, attempts) for i, status, ts, attempts in conn.execute(query)})
    marked = []
    for row, ts, channel, at in landed:
        if now_held.get(row.id) == (SENT, ts, row.attempts):
            row.status, row.ts, row.sent_at, row.last_error = SENT, ts, at, None
            if channel:
                row.channel_id = channel
            marked.append(row)
    return marked


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
