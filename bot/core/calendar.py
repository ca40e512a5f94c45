"""Business-day and business-hour arithmetic.

Conventions:
- Weekends (Saturday, Sunday) and the given holidays are not business days.
- Day 0 of a count is the start date itself when it is a business day, otherwise the next business
  day: `add_business_days(saturday, 0)` is the Monday, `add_business_days(saturday, 1)` the Tuesday.
  The same rule holds for negative counts: `add_business_days(saturday, -1)` is the Friday.
- `business_days_between(a, b)` is the inverse: the n for which `add_business_days(a, n)` is `b`
  (or, when `b` is not a business day, the business day after it).
- Instants are timezone-aware; a naive datetime is taken to be UTC. Nothing here reads the clock:
  callers pass `now`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NO_HOLIDAYS: frozenset[date] = frozenset()
WORKWEEK = range(5)
_DAY = timedelta(days=1)


def is_business_day(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> bool:
    return day.weekday() < 5 and day not in holidays


def business_day_on_or_after(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    while not is_business_day(day, holidays):
        day += _DAY
    return day


def business_day_on_or_before(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    while not is_business_day(day, holidays):
        day -= _DAY
    return day


def add_business_days(start: date, n: int, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    day = business_day_on_or_after(start, holidays)
    step = _DAY if n >= 0 else -_DAY
    for _ in range(abs(n)):
        day += step
        while not is_business_day(day, holidays):
            day += step
    return day


def business_days_between(a: date, b: date, holidays: Collection[date] = NO_HOLIDAYS) -> int:
    a = business_day_on_or_after(a, holidays)
    b = business_day_on_or_after(b, holidays)
    if b < a:
        return -business_days_between(b, a, holidays)
    return _weekdays_in(a, b) - sum(1 for h in set(holidays) if a <= h < b and h.weekday() < 5)


def _weekdays_in(a: date, b: date) -> int:
    """Weekdays in [a, b)."""
    days = (b - a).days
    weeks, rest = divmod(days, 7)
    first = a.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def _as_utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def today_in(tz: str, now: datetime) -> date:
    return _as_utc(now).astimezone(ZoneInfo(tz)).date()


def is_business_hours(
    now_utc: datetime,
    tz: str,
    start: time = time(9),
    end: time = time(17),
    weekdays: Collection[int] = WORKWEEK,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> bool:
    local = _as_utc(now_utc).astimezone(ZoneInfo(tz))
    return (
        local.weekday() in weekdays
        and local.date() not in holidays
        and start <= local.time().replace(tzinfo=None) < end
    )


def next_business_moment(
    now_utc: datetime,
    tz: str,
    start: time = time(9),
    end: time = time(17),
    weekdays: Collection[int] = WORKWEEK,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> datetime:
    """`now_utc` itself when inside business hours, else the next opening time, in UTC.

    The result is naive UTC when `now_utc` is naive, aware otherwise.
    """
    if not weekdays or start >= end:
        raise ValueError("business hours need at least one weekday and start before end")
    if is_business_hours(now_utc, tz, start, end, weekdays, holidays):
        return now_utc
    zone = ZoneInfo(tz)
    local = _as_utc(now_utc).astimezone(zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= start:
        day += _DAY
    for _ in range(366 * 2):
        if day.weekday() in weekdays and day not in holidays:
            opening = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            return opening if now_utc.tzinfo is not None else opening.replace(tzinfo=None)
        day += _DAY
    raise ValueError("no business day within two years")
