"""The long-lived scheduler: a sweep every few minutes and a delivery every minute, until stopped.

The sweep job decides and claims under the sweep lock, then delivers; the delivery job drains
everything due under the delivery lock, in rounds, to different channels at once
(ONBOARD_DELIVERY_IN_FLIGHT calls in flight). So two schedulers (or a scheduler beside
`serve --with-scheduler`) never sweep at the same time nor deliver at the same time, a sweep runs
while a long delivery drains the Monday morning, and a job whose lock is taken is skipped rather
than queued (what it would have delivered goes out with the running deliverer or the next job). `run_until_stopped` ends cleanly on SIGTERM or SIGINT: running jobs finish
first, and a post cut short by a harder kill is found again by the outbox.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.services import Services
from bot.runtime.sweep import Decide, run_delivery, run_sweep
from bot.slack import publish

log = logging.getLogger("onboard_bot.scheduler")

SWEEP_EVERY_MINUTES = 5
DELIVER_EVERY_MINUTES = 1


class StopSignal:
    """Set from a signal handler or another thread, waited for by one thread.

    A pipe rather than a threading.Event: a signal handler runs on the main thread between two
    bytecodes, possibly while that thread holds the Event's lock, and setting the Event would then
    deadlock. Writing a byte to a pipe takes no lock. The wait wakes up every second as well: a
    signal the OS delivers to another thread does not interrupt it, and the Python handler only runs
    once the main thread runs Python code again.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            os.write(self._write, b"x")

    def is_set(self) -> bool:
        return self._set

    def wait(self) -> None:
        while not self._set:
            ready, _, _ = select.select([self._read], [], [], 1.0)
            if ready:
                os.read(self._read, 1)

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)


# Jobs name no lock holder: each run is its own holder (host, process, thread), so a sweep and a
# delivery overlapping in this process exclude each other like two processes would.
def _sweep_job(services: Services, decide: Decide, stopping: Callable[[], bool]) -> None:
    try:
        report = run_sweep(
            services,
            services.clock.now(),
            decide=decide,
            clock=services.clock,
            in_flight=services.settings.delivery_in_flight,
            stop=stopping,
        )
        log.info("%s", report.summary())
        if reposted := publish.retry_setups(services, now=services.clock.now()):
            log.info("posted %d setup post(s) Slack had refused before", reposted)
    except Exception:
        log.exception("sweep failed")


def _delivery_job(services: Services, stopping: Callable[[], bool]) -> None:
    try:
        report = run_delivery(
            services, clock=services.clock, in_flight=services.settings.delivery_in_flight, stop=stopping
        )
        if report and (report.posts or report.failed or report.retrying or report.recovered):
            log.info("delivery: %s", report.summary())
    except Exception:
        log.exception("delivery failed")


def make_scheduler(
    services: Services,
    *,
    decide: Decide,
    every_minutes: float = SWEEP_EVERY_MINUTES,
    deliver_every_minutes: float = DELIVER_EVERY_MINUTES,
    stopping: Callable[[], bool] = lambda: False,
) -> BackgroundScheduler:
    """A BackgroundScheduler (not started) with the sweep job (first run at once) and the delivery job.

    `stopping` is asked between posts: once it says so, a delivery starts no new post.
    """
    if every_minutes <= 0 or deliver_every_minutes <= 0:
        raise ValueError("intervals must be positive")
    scheduler = BackgroundScheduler(timezone=UTC)
    start = datetime.now(UTC)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(
        _sweep_job,
        IntervalTrigger(minutes=every_minutes, timezone=UTC),
        args=(services, decide, stopping),
        id="sweep",
        name="sweep",
        next_run_time=start,
        **common,
    )
    scheduler.add_job(
        _delivery_job,
        IntervalTrigger(minutes=deliver_every_minutes, timezone=UTC),
        args=(services, stopping),
        id="deliver",
        name="deliver",
        next_run_time=start + timedelta(minutes=deliver_every_minutes),
        **common,
    )
    return scheduler


def run_until_stopped(
    services: Services,
    *,
    decide: Decide,
    every_minutes: float = SWEEP_EVERY_MINUTES,
    stop: StopSignal | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Run the scheduler until `stop` is set, or until SIGTERM/SIGINT when called on the main thread."""
    own_stop = stop is None
    stop = stop or StopSignal()
    scheduler = make_scheduler(services, decide=decide, every_minutes=every_minutes, stopping=stop.is_set)
    on_main = threading.current_thread() is threading.main_thread()
    previous = {}
    if on_main:
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    log.info("scheduler started: sweep every %g min, delivery every %g min", every_minutes, DELIVER_EVERY_MINUTES)
    try:
        if on_started:
            on_started()
        stop.wait()
        log.info("stopping: letting running jobs finish")
    finally:
        scheduler.shutdown(wait=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if own_stop:
            stop.close()
        log.info("scheduler stopped")
