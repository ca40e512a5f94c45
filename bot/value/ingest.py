"""Recording a usage report: all of it or (unless told to skip bad lines) none of it, in one transaction.

Each reading is matched to its onboarding by the account id; a reading for an account no running
onboarding has is a problem. Values are upserted per (onboarding, day, metric), so the same report
sent twice leaves the store as it was after the first. A key event that the playbook names as
`completed_by_event` marks its milestone done (compare-and-set on its version), audited as done
by the product with the reading as evidence; what changed comes back for the publish path. The
day's early health score (bot.value.health) is stored for every day the report touched.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.calendar import today_in, zone_of
from bot.core.domain import MilestoneStatus, OnboardingStatus, Role, Stage
from bot.core.effects import CardKind, Changed, Event, History, Line
from bot.planning.playbook import Playbook
from bot.planning.settings import DEFAULTS, RuleSettings
from bot.value import metrics
from bot.value.health import adoption_health
from bot.value.usage import Reading
from store import audit
from store.db import session_scope
from store.models import Milestone
from store.onboardings import OnboardingRecord, load
from store.usage import customer_activity, onboardings_by_account, save_adoption, save_usage, usage_of

PRODUCT = "product"  # the actor of what the product's reports do


@dataclass
class Ingested:
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # where the skipped readings came from
    written: int = 0  # values inserted or replaced
    onboardings: set[int] = field(default_factory=set)
    changes: list[Changed] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.problems) and not self.skipped and not self.written


def _settings(record: OnboardingRecord, playbooks: Mapping[str, Playbook]) -> RuleSettings:
    playbook = playbooks.get(record.onboarding.playbook_key)
    return playbook.rules if playbook else DEFAULTS


def ingest(
    engine: Engine,
    readings: Sequence[Reading],
    *,
    now: datetime,
    playbooks: Mapping[str, Playbook],
    source: str,
    skip_bad: bool = False,
    bad: Sequence[str] = (),
) -> Ingested:
    """Write the readings. `bad` names readings already found wrong (by where); with any problem and
    without `skip_bad`, nothing is written."""
    with session_scope(engine) as session:
        accounts = onboardings_by_account(session, {r.account_id for r in readings})
        problems: dict[str, str] = {}
        for r in readings:
            found = accounts.get(r.account_id, [])
            if not found:
                problems.setdefault(
                    r.where,
                    f"{r.where}: account '{r.account_id}' belongs to no onboarding being set up, live or handed over; "
                    f"set it with `/onboard account-id <customer> {r.account_id}`",
                )
            elif len(found) > 1:
                problems.setdefault(r.where, f"{r.where}: account '{r.account_id}' belongs to several onboardings")
        result = Ingested(problems=list(problems.values()))
        skipped = set(problems) | set(bad)
        if skipped and not skip_bad:
            return result
        result.skipped = sorted(skipped, key=_order)
        values: dict[tuple[int, date, str], int] = {}
        for r in readings:
            if r.where not in skipped:
                values[(accounts[r.account_id][0], r.day, r.metric)] = r.value
        if not values:
            return result
        rows = [{"onboarding_id": o, "day": d, "metric": m, "value": v} for (o, d, m), v in values.items()]
        result.written = save_usage(session, rows, now)
        touched: dict[int, set[date]] = {}
        for (oid, day, _), _v in values.items():
            touched.setdefault(oid, set()).add(day)
        for oid, days in sorted(touched.items()):
            record = load(session, oid)
            if record is None:
                continue
            result.onboardings.add(oid)
            events = {
                (d, m.removeprefix("event:")): v
                for (o, d, m), v in values.items()
                if o == oid and m.startswith("event:") and v > 0
            }
            changed = _complete_by_events(session, record, events, playbooks, now=now, source=source)
            if changed is not None:
                record = load(session, oid) or record
            if changed is not None:
                result.changes.append(changed)
            elif _at_the_go_live_gate(record):
                # its sign-off card shows the go-live criterion from the usage just reported
                result.changes.append(Changed(oid))
            _store_health(session, record, days, _settings(record, playbooks))
    return result


def _at_the_go_live_gate(record: OnboardingRecord) -> bool:
    """Waiting for the sponsor's sign-off, whose card shows the go-live criterion (only these are refreshed,
    so a report covering many accounts does not edit every card the bot ever posted)."""
    ob = record.onboarding
    return ob.status == OnboardingStatus.ACTIVE and ob.stage == Stage.GO_LIVE and ob.sponsor_signed_at is None


def _order(where: str) -> tuple[int, str]:
    digits = "".join(c for c in where if c.isdigit())
    return (int(digits) if digits else 0, where)


def _complete_by_events(
    session: Session,
    record: OnboardingRecord,
    events: Mapping[tuple[date, str], int],
    playbooks: Mapping[str, Playbook],
    *,
    now: datetime,
    source: str,
) -> Changed | None:
    playbook = playbooks.get(record.onboarding.playbook_key)
    if playbook is None or not events:
        return None
    completes = {m.key: m.completed_by_event for m in playbook.milestones if m.completed_by_event}
    changed: Changed | None = None
    for milestone in record.milestones:
        event = completes.get(milestone.key)
        if event is None or milestone.status == MilestoneStatus.DONE:
            continue
        seen = sorted((day, count) for (day, name), count in events.items() if name == event)
        if not seen:
            continue
        day, count = seen[0]
        done = session.execute(
            update(Milestone)
            .where(Milestone.id == milestone.id, Milestone.version == milestone.version)  # type: ignore[arg-type]
            .values(
                status=MilestoneStatus.DONE.value,
                completed_at=now,
                confirmed_by=PRODUCT,
                version=milestone.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            continue  # someone changed it meanwhile; a later report will find it again
        evidence = f"the product reported {event} x{count} on {day.isoformat()} ({source})"
        audit.record(
            session,
            onboarding_id=record.id,
            entity="milestone",
            entity_id=milestone.id,
            action="done_by_event",
            field="status",
            old=milestone.status,
            new=MilestoneStatus.DONE.value,
            reason=evidence,
            actor=PRODUCT,
            at=now,
        )
        changed = changed or Changed(record.id)
        changed.stages.add(milestone.stage)
        history = History(Event.DONE_BY_PRODUCT, PRODUCT, title=milestone.title, detail=event, after=day)
        changed.lines.append(Line(CardKind.STAGE, milestone.stage, history))
    return changed


def _store_health(session: Session, record: OnboardingRecord, days: set[date], settings: RuleSettings) -> None:
    """The day's score for every day given, from one read of the usage and one of the Slack activity."""
    usage = metrics.by_day(usage_of(session, record.id))
    zone = zone_of(record.onboarding.timezone)
    sponsor = record.person(Role.EXECUTIVE_SPONSOR)
    sponsor_user = sponsor.slack_user_id if sponsor else None
    ends = {day: datetime.combine(day + timedelta(days=1), time(), zone) for day in days}
    widest = timedelta(days=max(settings.health_usage_days, settings.health_sponsor_days))
    seen = customer_activity(session, record.id, min(ends.values()) - widest, max(ends.values()))
    moments = [at for _, at in seen]
    by_sponsor = [at for user, at in seen if sponsor_user and user == sponsor_user]
    rows = []
    for day in sorted(days):
        end = ends[day]
        customer = _between(moments, end - timedelta(days=settings.health_usage_days), end)
        sponsor_events = _between(by_sponsor, end - timedelta(days=settings.health_sponsor_days), end)
        health = adoption_health(
            metrics.activation(usage, day),
            rates_on(record, day),
            customer,
            sponsor_events if sponsor_user else None,
            settings,
        )
        rows.append({"onboarding_id": record.id, "day": day, "score": health.score, "parts": health.parts})
    save_adoption(session, rows)


def _between(moments: list[datetime], start: datetime, end: datetime) -> int:
    """How many of the sorted moments fall in [start, end)."""
    return bisect_left(moments, end) - bisect_left(moments, start)


def rates_on(record: OnboardingRecord, day: date) -> metrics.Rates:
    """The milestone rates as they stood at the end of a customer-local day."""
    tz = record.onboarding.timezone
    done: list[tuple[date, date | None]] = []
    for m in record.milestones:
        finished = today_in(tz, m.completed_at) if m.completed_at and m.status == MilestoneStatus.DONE else None
        done.append((m.due_on, finished if finished is not None and finished <= day else None))
    return metrics.milestone_rates(done, day + timedelta(days=1))
