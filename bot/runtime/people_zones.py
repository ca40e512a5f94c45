"""Each person's own timezone, as Slack has it, for the rules that speak to a person rather than to a
customer (a manager's weekly portfolio digest): looked up with users.info once and kept for a day.

When Slack has no timezone for someone, or cannot be reached, the answer is None and the rules fall
back to the default timezone setting; a failed look-up is tried again on the next sweep.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.core.clock import Clock
from bot.slack.lookups import SLACK_SLOW, user_timezone

log = logging.getLogger("onboard_bot.people_zones")
KEPT = timedelta(days=1)


class PeopleZones:
    def __init__(self, client: WebClient, clock: Clock, kept: timedelta = KEPT) -> None:
        self.client, self.clock, self.kept = client, clock, kept
        self._known: dict[str, tuple[str | None, datetime]] = {}
        self._lock = threading.Lock()

    def __call__(self, user_id: str) -> str | None:
        now = self.clock.now()
        with self._lock:
            held = self._known.get(user_id)
        if held is not None and now - held[1] < self.kept:
            return held[0]
        try:
            tz = user_timezone(self.client, user_id)
        except SLACK_SLOW as exc:
            log.warning("could not read the timezone of %s: %s", user_id, exc)
            return held[0] if held is not None else None
        with self._lock:
            self._known[user_id] = (tz, now)
        return tz
