"""Snoozing a reason to speak: until when a choice lasts.

The snooze menu's options carry a `SnoozeChoice`; the datepicker's block id carries the `NoticeRef`,
because a datepicker has no value of its own (bot.core.payloads). Nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.calendar import next_business_moment, today_in
from bot.core.payloads import BadPayload, SnoozeSpan

SPANS = {SnoozeSpan.ONE_DAY: timedelta(days=1), SnoozeSpan.THREE_DAYS: timedelta(days=3)}
MAX_DAYS_AHEAD = 90


class Refused(ValueError):
    """A choice that cannot be honoured; the message is for the person who made it."""


def until_date(raw: str | None, tz: str, now: datetime) -> datetime:
    """The opening of business on the chosen day (or the next business day after it), in UTC."""
    try:
        chosen = date.fromisoformat(raw or "")
    except ValueError:
        raise BadPayload(f"not a date: {raw!r}") from None
    today = today_in(tz, now)
    if chosen <= today:
        raise Refused(f"{say_day(chosen)} is not in the future: pick a day after today.")
    if chosen > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Refused(
            f"I can stay quiet for at most {MAX_DAYS_AHEAD} days: pick a day before "
            f"{say_day(today + timedelta(days=MAX_DAYS_AHEAD + 1))}."
        )
    midnight = datetime.combine(chosen, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return next_business_moment(midnight, tz)


def say_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def said_until(until: datetime, tz: str) -> str:
    return say_day(until.astimezone(ZoneInfo(tz)).date())
