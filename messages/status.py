"""`/onboard status` and `/onboard list`: where onboardings stand, for the vendor's team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Stage
from bot.core.ids import Action
from bot.core.payloads import OnboardingRef
from bot.milestones.progress import health_word
from messages import blocks as b
from messages.handoff_posts import plan_overview
from store.models import Milestone, Onboarding
from store.onboardings import OnboardingRecord

LISTED_MAX = 40


def status(record: OnboardingRecord, now: datetime, missing: Sequence[str] = ()) -> tuple[str, list[dict[str, Any]]]:
    """Where it stands; `missing` names setup posts that never reached Slack, with a button to post them."""
    ob = record.onboarding
    word = health_word(ob, record.milestones, today_in(ob.timezone, now))
    blocks = [*plan_overview(record)[:-1], b.context(f"Health: *{word}* · stage {Stage(ob.stage).label}")]
    if missing:
        blocks.append(b.section(":warning: These never reached Slack: " + ", ".join(missing) + "."))
        repost = b.button("Post what's missing", Action.SETUP_REPOST, OnboardingRef(ob.id).encode(), style="primary")
        blocks.append(b.actions(repost))
    return f"{b.esc(ob.customer_name)}: {word}", blocks


def listing(
    onboardings: list[Onboarding], plans: dict[int, list[Milestone]], now: datetime, *, everyone: bool
) -> tuple[str, list[dict[str, Any]]]:
    lines = []
    for ob in onboardings[:LISTED_MAX]:
        today = today_in(ob.timezone, now)
        items = plans.get(ob.id or 0, [])
        blocked = sum(1 for m in items if m.status == MilestoneStatus.BLOCKED)
        days = (ob.target_go_live_on - today).days
        when = f"go-live in {days} days" if days >= 0 else f"go-live was {-days} days ago"
        lines.append(
            f"*{b.esc(ob.customer_name)}* · {Stage(ob.stage).label} · {when} · {health_word(ob, items, today)}"
            + (f" · {blocked} blocked" if blocked else "")
        )
    more = [b.context(f"…and {len(onboardings) - LISTED_MAX} more.")] if len(onboardings) > LISTED_MAX else []
    title = "All active onboardings" if everyone else "Your onboardings"
    return title, [b.section(f"*{title}*"), b.section("\n".join(lines)), *more]
