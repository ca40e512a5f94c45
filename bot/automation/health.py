"""The early health score: one number 0-100 that blends usage, milestone progress and sponsor engagement.

Each part is scored 0-100 and kept with the figures behind it, so a person can see why the score moved:
- usage: customer-side activity (messages, clicks) in the last `health_usage_days`, against
  `health_usage_target` events (more than the target counts as the target);
- progress: the mean of the completion rate (milestones done among those whose due date has passed)
  and the on-time rate (milestones done by the end of their due date, among those done); a rate with
  nothing to measure yet counts as 1;
- sponsor: activity by the executive sponsor in the last `health_sponsor_days`, against
  `health_sponsor_target` events; 0 when no sponsor is in Slack (nothing can be seen).
The score is the weighted mean of the parts (`health_weight_*`), rounded.

Signals for every active onboarding come from three queries, whatever their number
(bot.automation.rules.snapshots stores the scores, one snapshot per onboarding per customer-local day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, and_, case, cast, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, OnboardingStatus, Role, Side
from store.models import Activity, Milestone, Onboarding, Person
from store.types import UTCDateTime

if TYPE_CHECKING:
    from bot.planning.settings import RuleSettings

_O = Onboarding.__table__
_M = Milestone.__table__
_A = Activity.__table__
_P = Person.__table__
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


@dataclass(frozen=True, slots=True)
class Health:
    score: int
    parts: dict[str, Any]


def score(signals: Signals, settings: RuleSettings, sponsor_in_slack: bool) -> Health:
    usage = min(1.0, signals.customer_events / settings.health_usage_target)
    completion = signals.done_of_due / signals.due if signals.due else 1.0
    on_time = signals.on_time / signals.done if signals.done else 1.0
    progress = (completion + on_time) / 2
    sponsor = min(1.0, signals.sponsor_events / settings.health_sponsor_target) if sponsor_in_slack else 0.0
    weights = (settings.health_weight_usage, settings.health_weight_progress, settings.health_weight_sponsor)
    blended = (usage * weights[0] + progress * weights[1] + sponsor * weights[2]) / sum(weights)
    parts = {
        "usage": {
            "score": round(usage * 100), "weight": weights[0], "customer_events": signals.customer_events,
            "days": settings.health_usage_days, "target": settings.health_usage_target,
        },
        "progress": {
            "score": round(progress * 100), "weight": weights[1], "due": signals.due,
            "done_of_due": signals.done_of_due, "completion_rate": round(completion, 2),
            "done": signals.done, "on_time": signals.on_time, "on_time_rate": round(on_time, 2),
        },
        "sponsor": {
            "score": round(sponsor * 100), "weight": weights[2], "events": signals.sponsor_events,
            "days": settings.health_sponsor_days, "target": settings.health_sponsor_target,
            "in_slack": sponsor_in_slack,
        },
    }  # fmt: skip
    return Health(round(blended * 100), parts)


def _per(column: ColumnElement, values: Mapping[str, Any], default: Any, type_) -> ColumnElement:
    """One value per row, chosen by `column` (a timezone, a playbook key): a CASE, or one literal."""
    distinct = set(values.values()) | {default}
    if len(distinct) == 1:
        return literal(default, type_)
    whens = {key: literal(value, type_) for key, value in values.items() if value != default}
    return case(whens, value=column, else_=literal(default, type_))


def _zone_name(tz: str) -> str:
    """The timezone itself when it is a known IANA name, else UTC (as bot.automation.rules.local_time reads it)."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return tz


def _utc_offset_minutes(tz: str, now: datetime) -> int:
    offset = now.astimezone(ZoneInfo(_zone_name(tz))).utcoffset() or timedelta(0)
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
    settings_by_playbook: Mapping[str, RuleSettings],
    default: RuleSettings,
) -> dict[int, Signals]:
    """Signals for every active onboarding that has milestones or customer activity."""
    timezones = set(timezones)
    active = _O.c.status == OnboardingStatus.ACTIVE.value
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
    def since(days_of) -> ColumnElement:
        per_key = {key: now - timedelta(days=days_of(s)) for key, s in settings_by_playbook.items()}
        return _per(_O.c.playbook_key, per_key, now - timedelta(days=days_of(default)), UTCDateTime())

    widest = max(max(s.health_usage_days, s.health_sponsor_days) for s in (*settings_by_playbook.values(), default))
    customer = _A.c.side == Side.CUSTOMER.value
    sponsor = _P.alias("sponsor")
    activity = (
        select(
            _A.c.onboarding_id,
            count(_A.c.at >= since(lambda s: s.health_usage_days)),
            count(and_(sponsor.c.id.is_not(None), _A.c.at >= since(lambda s: s.health_sponsor_days))),
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
    return found
