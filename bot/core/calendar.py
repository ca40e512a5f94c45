"""Business-day and business-hour arithmetic, on one business calendar.

A `BusinessHours` is a team's calendar: the hours of a business day (start inclusive, end
exclusive, local to a timezone), the weekdays that are business days (0 = Monday) and the dates
that are holidays. Its methods do the arithmetic; the module-level functions are the same
arithmetic on the Monday-Friday, 9:00-17:00 calendar (`OFFICE_HOURS`), with the holidays and, for
the hours, the window they are given.

Conventions:
- Days outside the weekdays (by default Saturday, Sunday) and the holidays are not business days.
- Day 0 of a count is the start date itself when it is a business day, otherwise the next business
  day: `add_business_days(saturday, 0)` is the Monday, `add_business_days(saturday, 1)` the Tuesday.
  The same rule holds for negative counts: `add_business_days(saturday, -1)` is the Friday.
- `business_days_between(a, b)` is the inverse: the n for which `add_business_days(a, n)` is `b`
  (or, when `b` is not a business day, the business day after it).
- Instants are timezone-aware; a naive datetime is taken to be UTC. Nothing here reads the clock:
  callers pass `now`.
- An unknown timezone name raises (ZoneInfo's own errors); `zone_of` reads one as UTC instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NO_HOLIDAYS: frozenset[date] = frozenset()
WORKWEEK = range(5)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """One business calendar: its hours each business day, its weekdays and its holidays."""

    start: time = time(9)
    end: time = time(17)
    weekdays: frozenset[int] = frozenset(WORKWEEK)
    holidays: frozenset[date] = NO_HOLIDAYS

    # -- business days ---------------------------------------------------------------------------
    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def on_or_after(self, day: date) -> date:
        """`day` when it is a business day, else the next one."""
        self._need_weekdays()
        weekdays, holidays = self.weekdays, self.holidays
        while day.weekday() not in weekdays or day in holidays:
            day += _DAY
        return day

    def on_or_before(self, day: date) -> date:
        """`day` when it is a business day, else the one before."""
        self._need_weekdays()
        weekdays, holidays = self.weekdays, self.holidays
        while day.weekday() not in weekdays or day in holidays:
            day -= _DAY
        return day

    def add_days(self, start: date, n: int) -> date:
        """The business day `n` business days after `start` (day 0: `start` or the next business day)."""
        weekdays, holidays = self.weekdays, self.holidays
        day = self.on_or_after(start)
        step = _DAY if n >= 0 else -_DAY
        for _ in range(abs(n)):
            day += step
            while day.weekday() not in weekdays or day in holidays:
                day += step
        return day

    def days_between(self, a: date, b: date) -> int:
        """The n for which `add_days(a, n)` is `b` (or the business day after it)."""
        a, b = self.on_or_after(a), self.on_or_after(b)
        if b < a:
            return -self.days_between(b, a)
        weekdays = self.weekdays
        return _weekdays_in(a, b, weekdays) - sum(1 for h in self.holidays if a <= h < b and h.weekday() in weekdays)

    # -- business hours --------------------------------------------------------------------------
    def is_open(self, now_utc: datetime, tz: str) -> bool:
        """Whether `now_utc` falls inside business hours in timezone `tz`."""
        local = _as_utc(now_utc).astimezone(ZoneInfo(tz))
        return (
            local.weekday() in self.weekdays
            and local.date() not in self.holidays
            and self.start <= local.time().replace(tzinfo=None) < self.end
        )

    def next_opening(self, now_utc: datetime, tz: str) -> datetime:
        """`now_utc` itself when inside business hours, else the next opening time, in UTC.

        The result is naive UTC when `now_utc` is naive, aware otherwise.
        """
        if not self.weekdays or self.start >= self.end:
            raise ValueError("business hours need at least one weekday and start before end")
        if self.is_open(now_utc, tz):
            return now_utc
        zone = ZoneInfo(tz)
        local = _as_utc(now_utc).astimezone(zone)
        day = local.date()
        if local.time().replace(tzinfo=None) >= self.start:
            day += _DAY
        for _ in range(366 * 2):
            if day.weekday() in self.weekdays and day not in self.holidays:
                opening = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
                return opening if now_utc.tzinfo is not None else opening.replace(tzinfo=None)
            day += _DAY
        raise ValueError("no business day within two years")

    def _need_weekdays(self) -> None:
        if not self.weekdays:
            raise ValueError("a business calendar needs at least one weekday")


OFFICE_HOURS = BusinessHours()  # Monday to Friday, 9:00 to 17:00, no holidays


def _calendar(holidays: Collection[date]) -> BusinessHours:
    return BusinessHours(holidays=frozenset(holidays)) if holidays else OFFICE_HOURS


def _hours(start: time, end: time, weekdays: Collection[int], holidays: Collection[date]) -> BusinessHours:
    return BusinessHours(start, end, frozenset(weekdays), frozenset(holidays))


def is_business_day(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> bool:
    return _calendar(holidays).is_business_day(day)


def business_day_on_or_after(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    return _calendar(holidays).on_or_after(day)


def business_day_on_or_before(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    return _calendar(holidays).on_or_before(day)


def add_business_days(start: date, n: int, holidays: Collection[date] = NO_HOLIDAYS) -> date:
    return _calendar(holidays).add_days(start, n)


def business_days_between(a: date, b: date, holidays: Collection[date] = NO_HOLIDAYS) -> int:
    return _calendar(holidays).days_between(a, b)


def _weekdays_in(a: date, b: date, weekdays: Collection[int]) -> int:
    """Days in [a, b) that fall on one of `weekdays`."""
    days = (b - a).days
    weeks, rest = divmod(days, 7)
    first = a.weekday()
    return weeks * len(weekdays) + sum(1 for i in range(rest) if (first + i) % 7 in weekdays)


def _as_utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def zone_of(tz: str) -> ZoneInfo:
    """The timezone named `tz`, or UTC when the name is not a known IANA timezone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
    return _hours(start, end, weekdays, holidays).is_open(now_utc, tz)


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
    return _hours(start, end, weekdays, holidays).next_opening(now_utc, tz)
