"""The one clock the bot reads "now" from, and sleeps by.

Listeners, the rules, the sweep and delivery all take their time from a `Clock` handed to them
(`Services.clock`), so a test, the demo sandbox or `onboard-bot sweep --now` can run the whole bot
at another moment. Times are aware UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real time (what freezegun freezes in tests)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ShiftedClock(SystemClock):
    """Real time, starting from a chosen moment (a sweep run "as of" another time)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


class ManualClock:
    """Time that stands still until moved; sleeping moves it and is recorded, never waited."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def move_to(self, moment: datetime) -> None:
        self.at = moment
