"""Keeping each onboarding's projected go-live current (the projection itself: bot.planning.forecast).

It is worked out again in the transaction of every change to a milestone, and once a customer-local
day by the sweep, since time passing alone makes open work finish later. The schedule against the
agreed date uses the playbook's `behind_schedule_days` as the at-risk window: later than that is
what the field calls behind (and the CSM's manager acts on).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.calendar import today_in, zone_of
from bot.core.domain import MilestoneStatus, OnboardingStatus
from bot.planning.forecast import Forecast, Schedule, Work, project, schedule_of
from bot.planning.playbook import Playbook
from store import forecasts
from store.models import Milestone

DONE = MilestoneStatus.DONE.value


def work_of(rows: list[tuple[Any, ...]], timezone: str) -> list[Work]:
    """The projection's view of milestones given as store.forecasts.plans gives them."""
    zone = zone_of(timezone)
    return [
        Work(key, start_on, due_on, deps, done_at.astimezone(zone).date() if done_at is not None else None)
        for key, start_on, due_on, deps, done_at in rows
    ]


def milestone_rows(milestones: list[Milestone]) -> list[tuple[Any, ...]]:
    """Milestones read whole, in the shape of store.forecasts.plans."""
    return [
        (m.key, m.start_on, m.due_on, tuple(m.depends_on or ()), m.completed_at if m.status == DONE else None)
        for m in milestones
    ]


def forecast_for(ob: Any, rows: list[tuple[Any, ...]], playbook: Playbook, today: date) -> Forecast | None:
    work = work_of(rows, ob.timezone)
    return project(work, playbook.go_live_milestone.key, today, buffer_days=playbook.buffer_days)


def _values(ob: Any, rows: list[Any], playbook: Playbook, now: datetime) -> dict[str, Any]:
    today = today_in(ob.timezone, now)
    forecast = forecast_for(ob, rows, playbook, today)
    projected = forecast.go_live if forecast else ob.projected_go_live_on
    schedule = schedule_of(ob.target_go_live_on, projected, None, today, playbook.rules.behind_schedule_days)
    return {"id": ob.id, "projected_go_live_on": projected, "schedule": schedule.value, "forecast_on": today}


def _refresh(session: Session, onboardings: list[Any], playbooks: Mapping[str, Playbook], now: datetime) -> int:
    known = [ob for ob in onboardings if ob.playbook_key in playbooks]
    conn = session.connection()
    plans = forecasts.plans(conn, [ob.id for ob in known])
    rows = [_values(ob, plans.get(ob.id, []), playbooks[ob.playbook_key], now) for ob in known]
    changed = [
        row
        for row, ob in zip(rows, known, strict=True)
        if (row["projected_go_live_on"], row["schedule"], row["forecast_on"])
        != (ob.projected_go_live_on, ob.schedule, ob.forecast_on)
    ]
    forecasts.save(conn, changed)
    return len(changed)


def refresh_changed(
    session: Session,
    ob: Any,
    milestones: list[Milestone],
    changed: Milestone,
    values: Mapping[str, Any],
    playbooks: Mapping[str, Playbook],
    now: datetime,
) -> dict[str, Any]:
    """After one milestone's change, in its transaction: the projection worked out again from the
    plan already read (with the change applied), written with the onboarding's `updated_at` in one
    statement. Only an active onboarding is projected (as `refresh` does); another is only touched.
    Returns the onboarding's columns as written."""
    playbook = playbooks.get(ob.playbook_key)
    row: dict[str, Any] = {"id": ob.id, "updated_at": now}
    if playbook is not None and ob.status == OnboardingStatus.ACTIVE.value:
        plan = milestone_rows([m for m in milestones if m.id != changed.id])
        status = values.get("status", changed.status)
        completed_at = values.get("completed_at", changed.completed_at)
        plan.append(
            (
                changed.key,
                values.get("start_on", changed.start_on),
                values.get("due_on", changed.due_on),
                tuple(changed.depends_on or ()),
                completed_at if status == DONE else None,
            )
        )
        projection = _values(ob, plan, playbook, now)
        if (projection["projected_go_live_on"], projection["schedule"], projection["forecast_on"]) != (
            ob.projected_go_live_on,
            ob.schedule,
            ob.forecast_on,
        ):
            row |= projection
    forecasts.save(session.connection(), [row])
    return row


def refresh_daily(session: Session, playbooks: Mapping[str, Playbook], now: datetime) -> int:
    """Work out again every projection not yet worked out on the customer's today; how many changed."""
    # A customer's today is at most a day ahead of UTC's: read those not projected since then.
    candidates = forecasts.running(session.connection(), not_since=now.date() + timedelta(days=1))
    stale = [ob for ob in candidates if ob.forecast_on != today_in(ob.timezone, now)]
    return _refresh(session, stale, playbooks, now)


def schedule_now(ob: Any, today: date) -> Schedule:
    """The schedule as of `today`: the stored one, except that a passed agreed date without go-live is behind."""
    if ob.went_live_on is not None:
        return Schedule.LIVE
    if today > ob.target_go_live_on:
        return Schedule.BEHIND
    return Schedule(ob.schedule) if ob.schedule else Schedule.ON_TRACK
