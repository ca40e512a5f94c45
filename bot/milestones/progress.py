"""How an onboarding is doing, in one word, for lists and the App Home."""

from __future__ import annotations

from datetime import date

from bot.core.calendar import business_days_between
from bot.core.domain import MilestoneStatus
from store.models import Milestone, Onboarding

BEHIND_AFTER_BUSINESS_DAYS = 10  # two working weeks late


def overdue(milestones: list[Milestone], today: date) -> list[Milestone]:
    return [m for m in milestones if m.status != MilestoneStatus.DONE and m.due_on < today]


def health_word(onboarding: Onboarding, milestones: list[Milestone], today: date) -> str:
    late = overdue(milestones, today)
    worst = max((business_days_between(m.due_on, today) for m in late), default=0)
    unrealistic = (
        onboarding.earliest_go_live_on is not None and onboarding.earliest_go_live_on > onboarding.target_go_live_on
    )
    if unrealistic or worst >= BEHIND_AFTER_BUSINESS_DAYS:
        return "behind"
    if late or any(m.status == MilestoneStatus.BLOCKED for m in milestones):
        return "at risk"
    return "on track"
