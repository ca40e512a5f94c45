"""`/onboard status` and `/onboard list`: where onboardings stand, for the vendor's team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bot.core.calendar import business_days_between, today_in
from bot.core.domain import MilestoneStatus, Stage
from bot.core.ids import Action
from bot.core.payloads import OnboardingRef
from bot.milestones.forecast import forecast_for, milestone_rows, schedule_now
from bot.planning.forecast import Schedule
from bot.planning.playbook import Playbook
from messages import blocks as b
from messages.handoff_posts import plan_overview
from store.models import Milestone, Onboarding
from store.onboardings import OnboardingRecord

LISTED_MAX = 40


def status(
    record: OnboardingRecord, now: datetime, missing: Sequence[str] = (), playbook: Playbook | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Where it stands; `missing` names setup posts that never reached Slack, with a button to post them.

    With the onboarding's playbook, a projection later than its milestone's due date names the
    milestone on the critical path that pushes it.
    """
    ob = record.onboarding
    today = today_in(ob.timezone, now)
    schedule = schedule_now(ob, today)
    go_live = f"*Go-live* {go_live_text(ob, today)} · *{schedule.label}*"
    if playbook is not None and schedule is not Schedule.LIVE:
        go_live += _pushed_by(record, playbook, today)
    blocks = [
        *plan_overview(record)[:-1],
        b.section(go_live),
        b.context(f"Stage {Stage(ob.stage).label}"),
    ]
    if missing:
        blocks.append(b.section(":warning: These never reached Slack: " + ", ".join(missing) + "."))
        repost = b.button("Post what's missing", Action.SETUP_REPOST, OnboardingRef(ob.id).encode(), style="primary")
        blocks.append(b.actions(repost))
    return f"{b.esc(ob.customer_name)}: {schedule.label}", blocks


def listing(
    onboardings: list[Onboarding], plans: dict[int, list[Milestone]], now: datetime, *, everyone: bool
) -> tuple[str, list[dict[str, Any]]]:
    lines = []
    for ob in onboardings[:LISTED_MAX]:
        today = today_in(ob.timezone, now)
        items = plans.get(ob.id or 0, [])
        blocked = sum(1 for m in items if m.status == MilestoneStatus.BLOCKED)
        lines.append(
            f"*{b.esc(ob.customer_name)}* · {Stage(ob.stage).label} · go-live {go_live_text(ob, today)}"
            f" · {schedule_now(ob, today).label}" + (f" · {blocked} blocked" if blocked else "")
        )
    more = [b.context(f"…and {len(onboardings) - LISTED_MAX} more.")] if len(onboardings) > LISTED_MAX else []
    title = "All active onboardings" if everyone else "Your onboardings"
    return title, [b.section(f"*{title}*"), b.section("\n".join(lines)), *more]


def day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def go_live_text(ob: Onboarding, today: date) -> str:
    """The agreed go-live and the projected one, or the actual one once live (for vendor-side views)."""
    return go_live_words(ob.target_go_live_on, ob.projected_go_live_on, ob.went_live_on, today)


def go_live_words(agreed: date, projected: date | None, went_live: date | None, today: date) -> str:
    if went_live is not None:
        late = (went_live - agreed).days
        if late == 0:
            return f"live since {day(went_live)} (the agreed day)"
        how = "after" if late > 0 else "before"
        return f"live since {day(went_live)} ({days(abs(late))} {how} the agreed {day(agreed)})"
    passed = f" ({days((today - agreed).days)} ago)" if today > agreed else ""
    ahead = f"projected {day(projected)}" if projected else "not projected yet"
    return f"agreed {day(agreed)}{passed}, {ahead}"


def _pushed_by(record: OnboardingRecord, playbook: Playbook, today: date) -> str:
    forecast = forecast_for(record.onboarding, milestone_rows(record.milestones), playbook, today)
    if forecast is None or forecast.pushed_by is None or forecast.go_live <= record.onboarding.target_go_live_on:
        return ""
    pushing = next((m for m in record.milestones if m.key == forecast.pushed_by), None)
    if pushing is None:
        return ""
    finish = forecast.finish[pushing.key]
    late = business_days_between(pushing.due_on, finish)
    if pushing.status == MilestoneStatus.DONE:
        how = f"finished {day(finish)}"
    else:
        state = MilestoneStatus(pushing.status).value.replace("_", " ")
        how = f"{state}, finishing {day(finish)} at the soonest"
    return (
        f"\nPushed by *{b.esc(pushing.title)}*, due {day(pushing.due_on)}: {how}, "
        f"{late} business day{'' if late == 1 else 's'} late, on the critical path to go-live."
    )
