"""The figures behind the health score, for every active onboarding, in four aggregate queries.

Whatever the number of onboardings: one query counts milestones (open, done, due, done on time),
one counts customer and sponsor activity inside each playbook's windows, one finds the latest
customer activity, and one counts and sums the customer's ratings per stage (the latest stage
rated is kept). Dates are judged on each customer's own calendar (their onboarding's timezone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.calendar import today_in, zone_of
from bot.core.domain import MilestoneStatus, OnboardingStatus, Role, Side, Stage
from store.models import Activity, Milestone, Onboarding, Person, StageRating, table_of
from store.types import UTCDateTime

_O = table_of(Onboarding)
_M = table_of(Milestone)
_A = table_of(Activity)
_P = table_of(Person)
_R = table_of(StageRating)
STAGE_ORDER = {stage.value: n for n, stage in enumerate(Stage)}
DONE = MilestoneStatus.DONE.value


@dataclass(slots=True)
class Signals:
    """What the store says about one onboarding, read in bulk."""

    milestones: int = 0
    open: int = 0
    done: int = 0
    due: int = 0  # due date already passed (before the customer's today)
    done_of_due: int = 0
    on_time: int = 0  # done by the end of the due date, in the customer's timezone
    earliest_open_due: date | None = None
    customer_events: int = 0  # in the usage window
    sponsor_events: int = 0  # in the sponsor window
    last_customer_at: datetime | None = None
    rated_stage: str | None = None  # the latest stage (in plan order) the customer rated
    ratings: int = 0  # how many people rated it
    rating_total: int = 0  # the sum of their scores (1-5 each)


def _per(column: ColumnElement, values: Mapping[str, Any], default: Any, type_) -> ColumnElement:
    """One value per row, chosen by `column` (a timezone, a playbook key): a CASE, or one literal."""
    distinct = set(values.values()) | {default}
    if len(distinct) == 1:
        return literal(default, type_)
    whens = {key: literal(value, type_) for key, value in values.items() if value != default}
    return case(whens, value=column, else_=literal(default, type_))


def _zone_name(tz: str) -> str:
    """The timezone itself when it is a known IANA name, else UTC (as bot.core.calendar.zone_of reads it)."""
    return zone_of(tz).key


def _utc_offset_minutes(tz: str, now: datetime) -> int:
    offset = now.astimezone(zone_of(tz)).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _local_date(conn: Connection, instant: ColumnElement, timezones: Iterable[str], now: datetime) -> ColumnElement:
    """The customer's calendar date of a stored UTC instant.

    PostgreSQL converts with the onboarding's own zone. SQLite has no time zones: it shifts by each
    zone's offset at `now`, which can misplace an instant within an hour of midnight across a DST change.
    """
    if conn.dialect.name == "postgresql":
        known = {tz: _zone_name(tz) for tz in timezones}
        zone = _O.c.timezone if all(k == v for k, v in known.items()) else case(known, value=_O.c.timezone, else_="UTC")
        return cast(func.timezone(zone, instant), Date)
    shifts = {tz: f"{_utc_offset_minutes(tz, now):+d} minutes" for tz in timezones}
    return func.date(instant, _per(_O.c.timezone, shifts, "+0 minutes", _O.c.timezone.type))


def load_signals(
    conn: Connection,
    now: datetime,
    timezones: Iterable[str],
    usage_days: Mapping[str, int],
    sponsor_days: Mapping[str, int],
    default_usage_days: int,
    default_sponsor_days: int,
) -> dict[int, Signals]:
    """Signals for every active onboarding that has milestones or customer activity.

    `timezones` are those of the onboardings; `usage_days` and `sponsor_days` give each playbook key's
    usage and sponsor windows in days, the defaults those of a playbook not given.
    """
    timezones = set(timezones)
    active = _O.c.status.in_((OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value))
    today = _per(_O.c.timezone, {tz: today_in(_zone_name(tz), now) for tz in timezones}, now.date(), Date())
    done = _M.c.status == DONE
    is_due = _M.c.due_on < today
    on_time = and_(done, _local_date(conn, _M.c.completed_at, timezones, now) <= _M.c.due_on)

    def count(condition: ColumnElement) -> ColumnElement:
        return func.sum(case((condition, 1), else_=0))

    milestones = (
        select(
            _M.c.onboarding_id,
            func.count(),
            count(~done),  # done = all - open (status is never NULL)
            count(is_due),
            count(and_(is_due, done)),
            count(on_time),
            func.min(case((~done, _M.c.due_on))),
        )
        .select_from(_M.join(_O, _O.c.id == _M.c.onboarding_id))
        .where(active)
        .group_by(_M.c.onboarding_id)
    )
    found: dict[int, Signals] = {}
    for oid, total, open_, due, done_due, timely, earliest in conn.execute(milestones).fetchall():
        open_ = open_ or 0
        found[oid] = Signals(total, open_, total - open_, due or 0, done_due or 0, timely or 0, earliest)

    # Customer activity: only the rows inside the longest window are counted (on the activity
    # index, so a long history costs nothing), and the latest one is found through that index too.
    def since(days: Mapping[str, int], default_days: int) -> ColumnElement:
        per_key = {key: now - timedelta(days=n) for key, n in days.items()}
        return _per(_O.c.playbook_key, per_key, now - timedelta(days=default_days), UTCDateTime())

    widest = max(*usage_days.values(), *sponsor_days.values(), default_usage_days, default_sponsor_days)
    customer = _A.c.side == Side.CUSTOMER.value
    sponsor = _P.alias("sponsor")
    activity = (
        select(
            _A.c.onboarding_id,
            count(_A.c.at >= since(usage_days, default_usage_days)),
            count(and_(sponsor.c.id.is_not(None), _A.c.at >= since(sponsor_days, default_sponsor_days))),
        )
        .select_from(
            _A.join(_O, _O.c.id == _A.c.onboarding_id).outerjoin(
                sponsor,
                and_(
                    sponsor.c.onboarding_id == _A.c.onboarding_id,
                    sponsor.c.role == Role.EXECUTIVE_SPONSOR.value,
                    sponsor.c.slack_user_id == _A.c.slack_user_id,
                ),
            )
        )
        .where(active, customer, _A.c.at >= now - timedelta(days=widest))
        .group_by(_A.c.onboarding_id)
    )
    for oid, events, sponsor_events in conn.execute(activity).fetchall():
        signals = found.setdefault(oid, Signals())
        signals.customer_events, signals.sponsor_events = events or 0, sponsor_events or 0
    latest = (
        select(_A.c.at)
        .where(_A.c.onboarding_id == _O.c.id, customer)
        .order_by(_A.c.at.desc())
        .limit(1)
        .correlate(_O)
        .scalar_subquery()
    )
    for oid, last_at in conn.execute(select(_O.c.id, latest).where(active, latest.is_not(None))).fetchall():
        found.setdefault(oid, Signals()).last_customer_at = last_at
    _latest_ratings(conn, active, found)
    return found


def _latest_ratings(conn: Connection, active: ColumnElement, found: dict[int, Signals]) -> None:
    """Each onboarding's ratings of the latest stage rated: how many, and their sum."""
    per_stage = (
        select(_R.c.onboarding_id, _R.c.stage, func.count(), func.sum(_R.c.score))
        .select_from(_R.join(_O, _O.c.id == _R.c.onboarding_id))
        .where(active)
        .group_by(_R.c.onboarding_id, _R.c.stage)
    )
    for oid, stage, n, total in conn.execute(per_stage).fetchall():
        signals = found.setdefault(oid, Signals())
        order = STAGE_ORDER.get(stage, -1)
        if signals.rated_stage is None or order > STAGE_ORDER.get(signals.rated_stage, -1):
            signals.rated_stage, signals.ratings, signals.rating_total = stage, n, total or 0
