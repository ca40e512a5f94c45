"""Behind the agreed timeline: the CSM's manager should call the economic buyer's manager.

"Behind" is measured against the dated plan the customer agreed to, two ways, and the larger counts:
how far the oldest unmet commitment has slipped (calendar days between the customer's today and the
due date of the earliest-due open milestone, blocked and awaiting-confirmation ones included), and
how far the projected go-live (the stored forecast, bot.planning.forecast, refreshed on every change
and daily) lies past the agreed one. The projected go-live it reports is the stored forecast, or,
before the first one, the target go-live plus the slip. More than `behind_schedule_days` days
behind fires, once per ISO week while it lasts, as a DM to the CSM's manager (the internal channel
when the manager is not in Slack).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from bot.automation.rules import facts
from bot.automation.rules.account import Account
from bot.core.domain import MilestoneStatus, Role
from bot.core.notices import Notice, Rule

DONE = MilestoneStatus.DONE.value


def days_behind(account: Account) -> int:
    earliest = account.signals.earliest_open_due
    slipped = max(0, (account.local.today - earliest).days) if earliest is not None else 0
    return max(slipped, _projected_late(account))


def _projected_late(account: Account) -> int:
    ob = account.onboarding
    if ob.projected_go_live_on is None or ob.went_live_on is not None:
        return 0
    return max(0, (ob.projected_go_live_on - ob.target_go_live_on).days)


def behind_schedule(account: Account) -> Iterator[Notice]:
    days = days_behind(account)
    if days <= account.settings.behind_schedule_days or account.snoozed(Rule.BEHIND_SCHEDULE, ""):
        return
    manager = account.person(Role.CSM_MANAGER)
    route = account.dm(manager)
    if route is None:
        return
    ob = account.onboarding
    oldest = min((m for m in account.milestones if m.status != DONE), key=lambda m: (m.due_on, m.id), default=None)
    said = facts.base(account) | {
        "addressed": facts.display(manager),
        "days_behind": days,
        "behind_schedule_days": account.settings.behind_schedule_days,
        "earliest_open": facts.item(account, oldest) if oldest is not None else None,
        "target_go_live_on": ob.target_go_live_on.isoformat(),
        "projected_go_live_on": (ob.projected_go_live_on or ob.target_go_live_on + timedelta(days=days)).isoformat(),
        "economic_buyer": account.show_role(Role.ECONOMIC_BUYER),
        "csm": account.show_role(Role.IMPLEMENTATION_CSM),
        "csm_manager": facts.display(manager),
    }
    why = f"{days} days behind the agreed plan: the CSM's manager should call the economic buyer's manager"
    yield account.notice(Rule.BEHIND_SCHEDULE, "", account.local.week, route, said, why)
