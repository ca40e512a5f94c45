"""Snoozing a reason to speak: what the snooze controls carry, and until when a choice lasts.

The select's option values are `"<NoticeRef>|1d"` and `"<NoticeRef>|3d"`; the datepicker's block id is
`"snooze.<NoticeRef>"`, because a datepicker has no value of its own. Nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.calendar import next_business_moment, today_in
from bot.core.payloads import BadPayload, NoticeRef

SPANS = {"1d": timedelta(days=1), "3d": timedelta(days=3)}
MAX_DAYS_AHEAD = 90
DATE_BLOCK_PREFIX = "snooze."


class Refused(ValueError):
    """A choice that cannot be honoured; the message is for the person who made it."""


def option_value(ref: NoticeRef, span: str) -> str:
    if span not in SPANS:
        raise ValueError(f"unknown snooze span {span!r}")
    return f"{ref.encode()}|{span}"


def parse_option(raw: str | None) -> tuple[NoticeRef, timedelta]:
    encoded, _, span = (raw or "").rpartition("|")
    if span not in SPANS:
        raise BadPayload(f"not a snooze option: {raw!r}")
    return NoticeRef.decode(encoded), SPANS[span]


def date_block_id(ref: NoticeRef) -> str:
    return DATE_BLOCK_PREFIX + ref.encode()


def parse_date_block(block_id: str | None) -> NoticeRef:
    if not (block_id or "").startswith(DATE_BLOCK_PREFIX):
        raise BadPayload(f"not a snooze date block: {block_id!r}")
    return NoticeRef.decode(block_id[len(DATE_BLOCK_PREFIX):])


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
        raise Refused(f"I can stay quiet for at most {MAX_DAYS_AHEAD} days: pick a day before "
                      f"{say_day(today + timedelta(days=MAX_DAYS_AHEAD + 1))}.")
    midnight = datetime.combine(chosen, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return next_business_moment(midnight, tz)


def say_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def said_until(until: datetime, tz: str) -> str:
    return say_day(until.astimezone(ZoneInfo(tz)).date())
