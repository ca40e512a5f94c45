"""Milestone due soon and milestone overdue: nudge both owners.

The customer-side owner acts from the shared channel, so they are named there; the vendor-side owner
(else the CSM) hears it by DM. A blocked milestone is left to the blocked escalation, a done one to
nobody.
- due soon: from `due_soon_business_days` business days before the due date until the due date;
  once per milestone and due date (period = the due date), so moving the date nudges again.
- overdue: once per customer-local business day (period = that date), only while that day's business
  hours have not ended, so a late sweep never makes tomorrow's nudge twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.automation.rules import facts
from bot.automation.rules.account import Account, Route
from bot.core.domain import MilestoneStatus, Role
from bot.core.notices import Notice, Rule

DONE, BLOCKED = MilestoneStatus.DONE.value, MilestoneStatus.BLOCKED.value
DUE_SOON, OVERDUE = Rule.DUE_SOON, Rule.OVERDUE
CSM = Role.IMPLEMENTATION_CSM.value


def nudges(account: Account) -> list[Notice]:
    local = account.local
    today, window_end, day_open = local.today, local.due_soon_end, local.day_open
    shared = account.shared()
    vendor_routes: dict[int | None, tuple[str, Route | None]] = {}
    out: list[Notice] = []
    for m in account.milestones:
        status = m.status
        if status in (DONE, BLOCKED):
            continue
        due = m.due_on
        if due < today:
            if not day_open:
                continue
            rule, period, days = OVERDUE, local.today_iso, (today - due).days
            extra, count = "days_overdue", days
            why = f"{m.title!r} was due {due.isoformat()} ({days} days ago)"
        elif due <= window_end:
            rule, period = DUE_SOON, due.isoformat()
            extra, count = "business_days_left", _business_days_left(account, due)
            why = f"{m.title!r} is due {period}"
        else:
            continue
        if (m.snoozed or account.snoozes) and account.snoozed(rule, m.key, m):
            continue
        said = facts.milestone(account, m)
        said[extra] = count
        if shared is not None:
            to_customer = dict(said, addressed=said["customer_owner"])
            out.append(account.notice(rule, m.key, period, shared, to_customer, why + ", to its customer-side owner"))
        vendor = vendor_routes.get(m.vendor_owner_id)
        if vendor is None:
            vendor = vendor_routes[m.vendor_owner_id] = _vendor_route(account, m.vendor_owner_id)
        addressed, route = vendor
        if route is not None:
            said["addressed"] = addressed
            out.append(account.notice(rule, m.key, period, route, said, why + ", to its vendor-side owner"))
    return out


def _vendor_route(account: Account, owner_id: int | None) -> tuple[str, Route | None]:
    """Who hears a milestone's nudge on the vendor side (its owner, else the CSM), and where."""
    vendor = account.in_slack(account.owner(owner_id), account.roles.get(CSM))
    return (account.shown[vendor.id] if vendor is not None else ""), account.dm(vendor)


def _business_days_left(account: Account, due: Any) -> int:
    today, weekdays = account.local.today, account.settings.business_days
    return sum(1 for i in range(1, (due - today).days + 1) if (today + timedelta(days=i)).weekday() in weekdays)
