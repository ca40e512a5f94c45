"""The projected go-live: the dated plan worked out again from what is done and what is left.

Rules (the same business-day dating as bot.planning.timeline):
- A milestone occupies the business days from its start to its due date inclusive; the plan's
  lengths are kept (a changed due date changes the length), remaining work is never compressed.
- A done milestone counts at the customer-local day it was completed, early or late.
- A remaining milestone starts on its planned start day, or the business day after its latest
  dependency finishes (actually or as projected), whichever is later; the go-live milestone also
  waits the playbook's buffer days after its last dependency. It finishes its length later, and
  never before today: open work cannot be finished in the past.
- The projected go-live is the finish of the go-live milestone; the chain of latest-finishing
  dependencies leading to it is the critical path, and the first milestone on it that finishes
  after its due date is what pushes go-live.

The schedule against the agreed go-live: on track when the projection is on or before it, at risk
when it is later by up to `at_risk_days` calendar days, behind when later than that or when the
agreed date has passed without go-live, live once go-live is signed off.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from bot.core.calendar import (
    NO_HOLIDAYS,
    add_business_days,
    business_day_on_or_before,
    business_days_between,
)


class Schedule(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"
    LIVE = "live"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Work:
    """One milestone as the projection sees it; `done_on` is the customer-local day it was completed."""

    key: str
    start_on: date
    due_on: date
    depends_on: tuple[str, ...] = ()
    done_on: date | None = None


@dataclass(frozen=True)
class Forecast:
    go_live: date  # the projected go-live
    critical_path: tuple[str, ...]  # first to go-live
    finish: dict[str, date]  # the actual or projected finish of each milestone on the critical path
    pushed_by: str | None  # the first milestone on the critical path finishing after its due date


def project(
    work: Iterable[Work],
    go_live_key: str,
    today: date,
    *,
    buffer_days: int = 0,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> Forecast | None:
    """The projected go-live, or None when the plan has no go-live milestone."""
    items = {w.key: w for w in work}
    if go_live_key not in items:
        return None
    off = frozenset(holidays)
    # Business days as numbers (day n of the calendar), so the walk is integer arithmetic.
    earliest_finish = _number(today, off)
    finish: dict[str, int] = {}
    after: dict[str, str | None] = {}
    visiting: set[str] = set()

    def place(key: str) -> int:
        if key in finish:
            return finish[key]
        w = items[key]
        if w.done_on is not None:
            # Done on a day off counts as done on the business day before, for what follows.
            finish[key], after[key] = _number(w.done_on, off, before=True), None
            return finish[key]
        start = _number(w.start_on, off)
        length = max(1, _number(w.due_on, off) - start + 1)
        latest: str | None = None
        visiting.add(key)
        for dep in w.depends_on:
            if dep in items and dep not in visiting:  # a cycle never ends; the playbook check refuses them
                place(dep)
                if latest is None or finish[dep] > finish[latest]:
                    latest = dep
        visiting.discard(key)
        if latest is not None:
            start = max(start, finish[latest] + 1 + (buffer_days if key == go_live_key else 0))
        finish[key] = max(start + length - 1, earliest_finish)
        after[key] = latest
        return finish[key]

    place(go_live_key)  # and, on the way, everything it waits for; nothing else can move it
    chain = [go_live_key]
    while (previous := after.get(chain[-1])) is not None:
        chain.append(previous)
    chain.reverse()
    dates = {k: items[k].done_on or _date(finish[k], off) for k in chain}
    pushed_by = next((k for k in chain if dates[k] > items[k].due_on), None)
    return Forecast(dates[go_live_key], tuple(chain), dates, pushed_by)


_EPOCH = date(2000, 1, 3)  # a Monday: business day 0


@lru_cache(maxsize=65_536)
def _number(day: date, holidays: frozenset[date], before: bool = False) -> int:
    """The business day `day` is (a day off: the next business day, or with `before` the previous one)."""
    if before:
        day = business_day_on_or_before(day, holidays)
    return business_days_between(_EPOCH, day, holidays)


@lru_cache(maxsize=65_536)
def _date(number: int, holidays: frozenset[date]) -> date:
    return add_business_days(_EPOCH, number, holidays)


def schedule_of(
    agreed: date, projected: date | None, went_live: date | None, today: date, at_risk_days: int
) -> Schedule:
    """Where the go-live stands against the agreed date (see the module's rules)."""
    if went_live is not None:
        return Schedule.LIVE
    if today > agreed:
        return Schedule.BEHIND
    if projected is None or projected <= agreed:
        return Schedule.ON_TRACK
    return Schedule.AT_RISK if (projected - agreed).days <= at_risk_days else Schedule.BEHIND
