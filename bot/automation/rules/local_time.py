"""One customer's view of "now": local date, business days and hours as their settings define them.

The business calendar is the one of bot.core.calendar, built from the playbook's `[rules]` settings
(`RuleSettings.business_hours`): what the rules count and when they may speak is the same calendar
delivery holds posts back by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core.calendar import BusinessHours, zone_of
from bot.planning.settings import RuleSettings


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class LocalTime:
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

    @property
    def hours(self) -> BusinessHours:
        return self.settings.business_hours

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def business_days_after(self, day: date, n: int) -> date:
        return self.hours.add_days(day, n)

    def deadline(self, since: datetime, business_days: int) -> datetime:
        """The same local time `business_days` business days after `since` (counted from when hours open)."""
        local = self.hours.next_opening(since, self.zone.key).astimezone(self.zone)
        day = self.business_days_after(local.date(), business_days)
        return datetime.combine(day, local.timetz()).astimezone(UTC)


@lru_cache(maxsize=512)
def local_time_for(now: datetime, tz: str, settings: RuleSettings) -> LocalTime:
    zone = zone_of(tz)
    local_now = now.astimezone(zone)
    hours = settings.business_hours
    opens = hours.next_opening(now, zone.key)
    day_open = local_now.weekday() in hours.weekdays and local_now.time() < hours.end
    today = local_now.date()
    due_soon_end = hours.add_days(today, settings.due_soon_business_days)
    monday = today - timedelta(days=today.weekday())
    week_starts, last_week_starts = (
        datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) for day in (monday, monday - timedelta(days=7))
    )
    return LocalTime(
        now,
        zone,
        local_now,
        today,
        opens,
        day_open,
        settings,
        iso_week(today),
        today.isoformat(),
        due_soon_end,
        week_starts,
        last_week_starts,
    )
