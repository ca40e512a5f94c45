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

from bot.core.calendar import (
    NO_HOLIDAYS,
    add_business_days,
    business_day_on_or_after,
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
    finish: dict[str, date]  # every milestone's actual or projected finish
    critical_path: tuple[str, ...]  # first to go-live
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
    earliest_finish = business_day_on_or_after(today, holidays)
    finish: dict[str, date] = {}
    after: dict[str, str | None] = {}

    def place(key: str, path: frozenset[str]) -> date:
        if key in finish:
            return finish[key]
        w = items[key]
        if w.done_on is not None:
            finish[key], after[key] = w.done_on, None
            return w.done_on
        length = max(1, business_days_between(w.start_on, w.due_on, holidays) + 1)
        start = business_day_on_or_after(w.start_on, holidays)
        latest: str | None = None
        for dep in w.depends_on:
            if dep in items and dep not in path:  # a cycle never ends; the playbook check refuses them
                place(dep, path | {key})
                if latest is None or finish[dep] > finish[latest]:
                    latest = dep
        if latest is not None:
            wait = buffer_days if key == go_live_key else 0
            start = max(
                start, add_business_days(business_day_on_or_before(finish[latest], holidays), 1 + wait, holidays)
            )
        finish[key] = max(add_business_days(start, length - 1, holidays), earliest_finish)
        after[key] = latest
        return finish[key]

    for key in items:
        place(key, frozenset())
    chain = [go_live_key]
    while (previous := after.get(chain[-1])) is not None:
        chain.append(previous)
    chain.reverse()
    pushed_by = next((k for k in chain if finish[k] > items[k].due_on), None)
    return Forecast(finish[go_live_key], finish, tuple(chain), pushed_by)


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
