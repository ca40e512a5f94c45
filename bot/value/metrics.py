"""The value numbers, computed from plain values (no store, no clock): every function is given its day.

- time to first value / full value: calendar days from the contract signature to the day the first
  value milestone was done / the go-live was signed;
- seat activation: weekly active users / provisioned seats, on the latest report up to a day;
- milestone completion rate (done among those due) and on-time rate (done by their due date, among done);
- the go-live criterion: weekly active users reported in the last `go_live_active_days` days against
  `go_live_active_percent` of the provisioned seats;
- the weekly series since go-live (the last weekly-active count and seat count reported in each
  week) and its trend up to week `adoption_last_week` from the start: declining when the last week
  is `adoption_decline_percent` or more below the peak (the adoption cliff), growing when it is
  `adoption_growth_percent` or more above the first week, flat otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.planning.settings import RuleSettings
from bot.value.usage import DAILY_ACTIVE, SEATS, WEEKLY_ACTIVE


@dataclass(frozen=True)
class UsageDay:
    day: date
    seats: int | None = None
    daily_active: int | None = None
    weekly_active: int | None = None


def by_day(rows: Iterable[tuple[date, str, int]]) -> list[UsageDay]:
    """Stored (day, metric, value) rows as one entry per day with counts, oldest first (events left out)."""
    days: dict[date, dict[str, int]] = {}
    for day, metric, value in rows:
        if metric in (SEATS, DAILY_ACTIVE, WEEKLY_ACTIVE):
            days.setdefault(day, {})[metric] = value
    return [UsageDay(d, v.get(SEATS), v.get(DAILY_ACTIVE), v.get(WEEKLY_ACTIVE)) for d, v in sorted(days.items())]


def days_between(start: date, end: date | None) -> int | None:
    return None if end is None else (end - start).days


@dataclass(frozen=True)
class Activation:
    day: date  # the report it is read from
    active: int
    seats: int

    @property
    def share(self) -> float:
        return self.active / self.seats if self.seats else 0.0

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def _seats_on(days: Sequence[UsageDay], on: date) -> int | None:
    return next((d.seats for d in reversed(days) if d.day <= on and d.seats is not None), None)


def activation(days: Sequence[UsageDay], on: date, *, since: date | None = None) -> Activation | None:
    """Weekly active / provisioned on the latest day up to `on` (and from `since`) with a weekly count."""
    latest = next(
        (
            d
            for d in reversed(days)
            if d.day <= on and d.weekly_active is not None and (since is None or d.day >= since)
        ),
        None,
    )
    if latest is None or latest.weekly_active is None:
        return None
    seats = _seats_on(days, latest.day)
    return None if not seats else Activation(latest.day, latest.weekly_active, seats)


@dataclass(frozen=True)
class GoLiveCriterion:
    needed_percent: int
    activation: Activation | None  # None: no weekly count in the window

    @property
    def met(self) -> bool:
        return self.activation is not None and self.activation.share * 100 >= self.needed_percent


def go_live_criterion(days: Sequence[UsageDay], today: date, settings: RuleSettings) -> GoLiveCriterion:
    since = today - timedelta(days=settings.go_live_active_days - 1)
    return GoLiveCriterion(settings.go_live_active_percent, activation(days, today, since=since))


@dataclass(frozen=True)
class Rates:
    due: int
    done_of_due: int
    done: int
    on_time: int

    @property
    def completion(self) -> float:
        return self.done_of_due / self.due if self.due else 1.0

    @property
    def on_time_rate(self) -> float:
        return self.on_time / self.done if self.done else 1.0


def milestone_rates(milestones: Iterable[tuple[date, date | None]], today: date) -> Rates:
    """From (due_on, done_on or None) pairs: due means the due date is before today."""
    due = done_of_due = done = on_time = 0
    for due_on, done_on in milestones:
        if due_on < today:
            due += 1
            done_of_due += done_on is not None
        if done_on is not None:
            done += 1
            on_time += done_on <= due_on
    return Rates(due, done_of_due, done, on_time)


@dataclass(frozen=True)
class WeekPoint:
    week: int  # weeks since go-live: 0 is the go-live week
    start: date
    active: int
    seats: int | None


def weekly_series(days: Sequence[UsageDay], go_live_on: date, until: date) -> list[WeekPoint]:
    """The last weekly-active count of each week from go-live to `until` (weeks without one are left out)."""
    points: dict[int, WeekPoint] = {}
    for d in days:
        if d.weekly_active is None or d.day < go_live_on or d.day > until:
            continue
        week = (d.day - go_live_on).days // 7
        points[week] = WeekPoint(week, go_live_on + timedelta(days=7 * week), d.weekly_active, _seats_on(days, d.day))
    return [points[w] for w in sorted(points)]


class TrendKind(StrEnum):
    GROWING = "growing"
    FLAT = "flat"
    DECLINING = "declining"
    TOO_EARLY = "too_early"  # fewer than two weeks of counts since go-live


@dataclass(frozen=True)
class Trend:
    kind: TrendKind
    first: int = 0
    peak: int = 0
    last: int = 0
    weeks: int = 0

    @property
    def change_percent(self) -> int:
        return round((self.last - self.first) * 100 / self.first) if self.first else 0

    @property
    def below_peak_percent(self) -> int:
        return round((self.peak - self.last) * 100 / self.peak) if self.peak else 0


def adoption_window_end(contract_signed_on: date, settings: RuleSettings) -> date:
    """The last day of week `adoption_last_week` from the start (week 1 begins on the signature day)."""
    return contract_signed_on + timedelta(days=7 * settings.adoption_last_week - 1)


def trend(points: Sequence[WeekPoint], settings: RuleSettings) -> Trend:
    if len(points) < 2:
        return Trend(TrendKind.TOO_EARLY, weeks=len(points))
    first, last = points[0].active, points[-1].active
    peak = max(p.active for p in points)
    shape = Trend(TrendKind.FLAT, first, peak, last, len(points))
    if peak and (peak - last) * 100 >= settings.adoption_decline_percent * peak:
        return Trend(TrendKind.DECLINING, first, peak, last, len(points))
    if (first and (last - first) * 100 >= settings.adoption_growth_percent * first) or (not first and last):
        return Trend(TrendKind.GROWING, first, peak, last, len(points))
    return shape
