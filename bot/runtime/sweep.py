"""One sweep: decide what must be said at `now`, claim it in the outbox, deliver what is due.

Deciding and claiming hold the sweep lock; delivering holds the delivery lock instead, so a long
delivery (the Monday morning) never keeps the next sweep waiting, and one deliverer at a time
drains the outbox (two at once would still post each row once, by the outbox's claims, but would
share Slack's per-channel limit without knowing of each other).

The same sweep runs from the scheduler, from `onboard-bot sweep` and from tests with their own
clock. The rules are a parameter (`decide(session, now) -> notices`), so this module knows nothing
of them. A dry run decides in a transaction that is rolled back, and neither posts nor writes.

One digest per destination per day: everything that is not urgent reaches a channel or a person in
that day's digest. A notice decided after the destination's digest of the day went out (a health
drop noticed in the afternoon, say) is not claimed: the rules decide it again tomorrow, and it joins
tomorrow's digest if it still holds. "Today" is the customer's (the notice's onboarding's timezone).
Only urgent notices (escalations) come on their own. A notice about a whole team (a manager's
weekly portfolio digest) counts its day in its recipient's timezone (`Notice.zone`); it is a digest
like the others: it joins what else goes to that person in the same sweep, and when their digest of
the day went out already it waits for the next day's (its rule decides it again on every business
day of the week, and its dedupe key lets it out once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.automation import collector
from bot.core.calendar import today_in, zone_of
from bot.core.clock import Clock
from bot.core.notices import Notice
from bot.milestones import forecast
from bot.planning.playbook import Playbook, load_playbooks
from bot.runtime.locks import DELIVERY, default_holder, sweep_lock
from bot.slack.delivery import DEFAULT_IN_FLIGHT, DeliveryReport, Outlet, deliver_due
from store import outbox
from store.db import session_scope

log = logging.getLogger("onboard_bot.sweep")

Decide = Callable[[Session, datetime], Iterable[Notice]]


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


class DryRunWrite(RuntimeError):
    """The rules tried to commit during a dry run."""


@dataclass(frozen=True)
class Planned:
    notice: Notice
    status: str | None  # None: new, it would be claimed and sent; else the status of the row already there
    tomorrow: bool = False  # new, but today's digest to its destination went out already


@dataclass
class SweepReport:
    now: datetime
    ran: bool = True  # False when another sweeper held the lock
    dry_run: bool = False
    decided: int = 0
    claimed: int = 0
    waiting: int = 0  # decided, but left to a sweep in the customer's business hours
    tomorrow: int = 0  # decided after today's digest to its destination went out: decided again tomorrow
    planned: list[Planned] = field(default_factory=list)
    delivery: DeliveryReport | None = None

    def summary(self) -> str:
        when = f"{self.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if not self.ran:
            return f"sweep at {when}: another sweeper is running; nothing done"
        line = f"sweep at {when}: {self.decided} decided, {self.claimed} new, {self.waiting} wait for business hours"
        if self.tomorrow:
            line += f", {self.tomorrow} wait for tomorrow's digest"
        return f"{line}; {self.delivery.summary()}" if self.delivery else line


def run_sweep(
    services: Outlet | HasEngine,
    now: datetime,
    *,
    decide: Decide,
    dry_run: bool = False,
    clock: Clock | None = None,
    holder: str | None = None,
    in_flight: int = DEFAULT_IN_FLIGHT,
    stop: Callable[[], bool] | None = None,
) -> SweepReport:
    """Decide and claim in one transaction, then deliver; skipped when another sweeper holds the lock.

    The delivery is left to the deliverer already running, if one is (it looks for due rows
    again after each round, and the scheduler's next delivery job runs within a minute).
    """
    if dry_run:
        return plan_sweep(services, now, decide=decide)
    with sweep_lock(services.engine, holder or default_holder()) as acquired:
        if not acquired:
            log.info("another sweeper holds the lock; skipping this sweep")
            return SweepReport(now=now, ran=False)
        # Its own transaction: on SQLite a write taken before deciding would shut other writers out
        # (a second sweeper asking for the lease, listeners) for as long as deciding takes.
        with session_scope(services.engine) as session:
            forecast.refresh_daily(session, _playbooks(services), now)
        with session_scope(services.engine) as session, collector.paused():
            notices = list(decide(session, now))
            ready = [n for n in notices if may_go_out(n, now)]
            late = after_todays_digest(session, ready, now)
            claimed = outbox.claim(session, [n for n in ready if n.dedupe_key not in late])
    delivery = run_delivery(
        services,  # type: ignore[arg-type]
        now,
        clock=clock,
        holder=holder,
        in_flight=in_flight,
        stop=stop,
    )
    return SweepReport(
        now=now,
        decided=len(notices),
        claimed=claimed,
        waiting=len(notices) - len(ready),
        tomorrow=len(late),
        delivery=delivery,
    )


def may_go_out(notice: Notice, now: datetime) -> bool:
    """Whether a sweep at `now` claims this notice: it is urgent, or its business hours are open.

    A notice that has to wait for the customer's business hours is not written yet: the sweeps are
    minutes apart and decide it again once the hours open, so a nudge about a milestone finished
    overnight is never sent. Urgent ones are claimed at once: an escalation is decided only in the
    pass that opens or raises it.
    """
    return notice.urgent or notice.not_before <= now


def after_todays_digest(session: Session, notices: Iterable[Notice], now: datetime) -> set[str]:
    """The dedupe keys of the notices that are not urgent, new, and go where today's digest went already."""
    calm = [n for n in notices if not n.urgent]
    if not calm:
        return set()
    known = outbox.statuses_of(session, [n.dedupe_key for n in calm])
    new = [n for n in calm if n.dedupe_key not in known]
    if not new:
        return set()
    zones = outbox.timezones_of(session, {n.onboarding_id for n in new})
    since: dict[str, datetime] = {}
    for n in new:
        starts = _day_starts(n.zone or zones.get(n.onboarding_id), now)
        since[n.recipient] = max(since.get(n.recipient, starts), starts)
    had = outbox.had_digest(session, since)
    return {n.dedupe_key for n in new if n.recipient in had}


def _day_starts(tz: str | None, now: datetime) -> datetime:
    """Midnight of today in `tz` (UTC's when unknown), as an aware UTC datetime."""
    try:
        zone = zone_of(tz or "UTC")
    except (ValueError, KeyError):
        zone = zone_of("UTC")
    return datetime.combine(today_in(zone.key, now), time(0), tzinfo=zone).astimezone(UTC)


def run_delivery(
    services: Outlet,
    now: datetime | None = None,
    *,
    clock: Clock | None = None,
    holder: str | None = None,
    in_flight: int = DEFAULT_IN_FLIGHT,
    stop: Callable[[], bool] | None = None,
) -> DeliveryReport | None:
    """Drain what is due, under the delivery lock (None when another deliverer holds it)."""
    with sweep_lock(services.engine, holder or default_holder(), name=DELIVERY) as acquired:
        if not acquired:
            log.info("another deliverer is draining the outbox; leaving it to them")
            return None
        return deliver_due(services, now, clock=clock, in_flight=in_flight, stop=stop)


def _playbooks(services: object) -> Mapping[str, Playbook]:
    """The playbooks the sweep's onboardings run on: the services', else the shipped ones."""
    found = getattr(services, "playbooks", None)
    return found if found is not None else load_playbooks()


def _refuse_commit(session: Session) -> None:
    raise DryRunWrite("a dry run writes nothing, but the rules tried to commit")


def plan_sweep(services: Outlet | HasEngine | Engine, now: datetime, *, decide: Decide) -> SweepReport:
    """What a sweep at `now` would claim, read-only: the rules run in a transaction that is rolled back."""
    engine = services if isinstance(services, Engine) else services.engine
    with Session(engine) as session:
        event.listen(session, "before_commit", _refuse_commit)
        try:
            with collector.paused():
                forecast.refresh_daily(session, _playbooks(services), now)
                notices = list(decide(session, now))
                existing = outbox.statuses_of(session, [n.dedupe_key for n in notices])
                late = after_todays_digest(session, [n for n in notices if may_go_out(n, now)], now)
        finally:
            session.rollback()
    planned = [Planned(n, existing.get(n.dedupe_key), n.dedupe_key in late) for n in notices]
    new = [p for p in planned if p.status is None]
    ready = sum(1 for p in new if may_go_out(p.notice, now) and not p.tomorrow)
    waiting = sum(1 for p in new if not may_go_out(p.notice, now))
    return SweepReport(
        now=now,
        dry_run=True,
        decided=len(notices),
        claimed=ready,
        waiting=waiting,
        tomorrow=len(late),
        planned=planned,
    )


def describe_plan(report: SweepReport) -> str:
    """The dry run for a person: what would be posted, to whom, and why."""
    when = f"{report.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    lines = [
        f"Dry run at {when}: nothing was posted and nothing was written.",
        f"{report.decided} notice(s) decided, {report.claimed} new would be posted now, "
        f"{report.waiting} new would wait for the customer's business hours (and be decided again then).",
    ]
    if report.tomorrow:
        lines.append(
            f"{report.tomorrow} new would wait for tomorrow's digest: today's went to their destination already."
        )
    for p in sorted(report.planned, key=lambda p: (p.status is not None, p.notice.not_before, p.notice.dedupe_key)):
        n = p.notice
        to = n.channel_id or n.recipient
        if p.status is not None:
            state = f"already {p.status}"
        else:
            state = "new" if may_go_out(n, report.now) else "new, waits for business hours"
            state = "new, waits for tomorrow's digest" if p.tomorrow else state
        due = f"{n.not_before.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        kind = "urgent, on its own" if n.urgent else "in the day's digest"
        lines.append(f"- [{state}] {n.rule} {n.subject or '(onboarding)'} -> {n.audience} {to}, from {due}, {kind}")
        lines.append(f"    why: {n.why or '(no reason given)'}")
    return "\n".join(lines)
