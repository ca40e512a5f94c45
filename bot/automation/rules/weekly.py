"""The weekly overview for the shared channel, on `weekly_overview_day` (Monday) morning.

Done last week (completed in the previous ISO week, customer-local), due this week (open and not
blocked or awaiting the customer, due Monday to Sunday), blocked, and awaiting the customer
(awaiting confirmation), and the go-live: agreed and projected (or the day it went live). Said once
per ISO week; nothing when all four lists are empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from bot.automation.rules import facts
from bot.automation.rules.account import Account
from bot.core.domain import MilestoneStatus
from bot.core.notices import Notice, Rule

DONE = MilestoneStatus.DONE.value
BLOCKED = MilestoneStatus.BLOCKED.value
AWAITING = MilestoneStatus.AWAITING_CONFIRMATION.value
LISTS = ("done_last_week", "due_this_week", "blocked", "awaiting_customer")


def overview(account: Account) -> Iterator[Notice]:
    local = account.local
    if local.today.weekday() != account.settings.weekly_overview_day or account.snoozed(Rule.WEEKLY_OVERVIEW, ""):
        return
    route = account.shared()
    if route is None:
        return
    monday = local.today - timedelta(days=local.today.weekday())
    sunday = monday + timedelta(days=6)
    starts, last_starts = local.week_starts, local.last_week_starts
    done, due, blocked, awaiting = [], [], [], []
    for m in account.milestones:
        status = m.status
        if status == DONE:
            if m.completed_at is not None and last_starts <= m.completed_at < starts:
                done.append(m)
        elif status == BLOCKED:
            blocked.append(m)
        elif status == AWAITING:
            awaiting.append(m)
        elif monday <= m.due_on <= sunday:
            due.append(m)
    if not (done or due or blocked or awaiting):
        return
    ob = account.onboarding
    said = facts.base(account) | {"week": local.week, "week_of": monday.isoformat()}
    said |= {
        "target_go_live_on": ob.target_go_live_on.isoformat(),
        "projected_go_live_on": ob.projected_go_live_on.isoformat() if ob.projected_go_live_on else None,
        "went_live_on": ob.went_live_on.isoformat() if ob.went_live_on else None,
    }
    for name, found in zip(LISTS, (done, due, blocked, awaiting), strict=True):
        said[name] = [facts.item(account, m) for m in sorted(found, key=_in_plan_order)]
    why = "weekly overview: " + ", ".join(f"{len(said[name])} {name.replace('_', ' ')}" for name in LISTS)
    yield account.notice(Rule.WEEKLY_OVERVIEW, "", local.week, route, said, why)


def _in_plan_order(m) -> tuple:
    return (m.due_on, m.id)
