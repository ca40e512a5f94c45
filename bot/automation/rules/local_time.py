"""One customer's view of "now": local date, business days and hours as their settings define them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.calendar import next_business_moment
from bot.planning.settings import RuleSettings

_DAY = timedelta(days=1)


def add_business_days(day: date, n: int, weekdays: tuple[int, ...]) -> date:
    """`bot.core.calendar.add_business_days` with the team's own working weekdays (day 0 is `day` or the next one)."""
    while day.weekday() not in weekdays:
        day += _DAY
    step = _DAY if n >= 0 else -_DAY
    for _ in range(abs(n)):
        day += step
        while day.weekday() not in weekdays:
            day += step
    return day


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Clock:
    now: datetime  # aware UTC
    zone: ZoneInfo
    local_now: datetime
    today: date
    opens: datetime  # the first moment anything may be said: now, or the next opening (UTC)
    day_open: bool  # today is a business day whose hours have not ended yet
    settings: RuleSettings
    week: str  # today's ISO week, "2026-W19"
    today_iso: str
    due_soon_end: date  # the last due date a due-soon nudge reaches today
    week_starts: datetime  # this ISO week's Monday 00:00 in the customer's timezone, as UTC
    last_week_starts: datetime  # the Monday before, 00:00 in the customer's timezone, as UTC

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def business_days_after(self, day: date, n: int) -> date:
        return add_business_days(day, n, self.settings.business_days)

    def deadline(self, since: datetime, business_days: int) -> datetime:
        """The same local time `business_days` business days after `since` (counted from when hours open)."""
        s = self.settings
        start = next_business_moment(
            since, str(self.zone), s.business_hours_start, s.business_hours_end, s.business_days
        )
        local = start.astimezone(self.zone)
        day = self.business_days_after(local.date(), business_days)
        return datetime.combine(day, local.timetz()).astimezone(UTC)


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=512)
def clock_for(now: datetime, tz: str, settings: RuleSettings) -> Clock:
    zone = zone_of(tz)
    local_now = now.astimezone(zone)
    s = settings
    opens = next_business_moment(now, zone.key, s.business_hours_start, s.business_hours_end, s.business_days)
    day_open = local_now.weekday() in s.business_days and local_now.time() < s.business_hours_end
    today = local_now.date()
    due_soon_end = add_business_days(today, s.due_soon_business_days, s.business_days)
    monday = today - timedelta(days=today.weekday())
    week_starts, last_week_starts = (
        datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) for day in (monday, monday - timedelta(days=7))
    )
    return Clock(
        now, zone, local_now, today, opens, day_open, settings, iso_week(today), today.isoformat(), due_soon_end,
        week_starts, last_week_starts,
    )
