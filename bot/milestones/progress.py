"""Which milestones are late (the schedule against the agreed go-live: bot.milestones.forecast)."""

from __future__ import annotations

from datetime import date

from bot.core.domain import MilestoneStatus
from store.models import Milestone


def overdue(milestones: list[Milestone], today: date) -> list[Milestone]:
    return [m for m in milestones if m.status != MilestoneStatus.DONE and m.due_on < today]
