"""Work run in order per key and across keys at once: one lane per onboarding for what a change shows.

After a click, the card the person is looking at is redrawn at once; the rest of what the change
shows (the overview and sign-off cards, thread lines, stage summaries) follows on the onboarding's
lane, in the order the changes were made, on a pool of its own, so that its Slack calls never hold
the threads the next click's card waits for. Given turns (bot.slack.turns), each piece of work
takes one before it starts.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Executor

from bot.slack.turns import Turns

log = logging.getLogger(__name__)


class Lanes:
    def __init__(self, pool: Executor, turns: Turns | None = None) -> None:
        self._pool = pool
        self._turns = turns
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, deque[Callable[[], None]]] = {}

    def submit(self, key: Hashable, work: Callable[[], None]) -> None:
        """Run `work` after everything submitted before it for `key` (and concurrently with other keys)."""
        with self._lock:
            lane = self._waiting.get(key)
            if lane is not None:  # its lane is running: it takes this one in turn
                lane.append(work)
                return
            self._waiting[key] = deque([work])
        self._pool.submit(self._run, key)

    def _run(self, key: Hashable) -> None:
        while True:
            with self._lock:
                lane = self._waiting[key]
                if not lane:
                    del self._waiting[key]
                    return
                work = lane.popleft()
            try:
                if self._turns is None:
                    work()
                else:
                    self._turns.run(work)
            except Exception as exc:  # one failure must not stop the lane
                log.error("follow-up for %s failed: %s: %s", key, type(exc).__name__, exc, exc_info=exc)
