"""Kickoff recap missing: the kickoff is done but its recap is not, `kickoff_recap_hours` later.

The recap is the milestone keyed `kickoff_recap_milestone`; the kickoff is what it depends on (all of
it done; the latest completion is the kickoff's end). The recap's vendor-side owner (else the CSM)
is reminded by DM, once per kickoff (period = the customer-local day the kickoff was done).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from bot.automation.rules import facts
from bot.automation.rules.account import Account
from bot.core.domain import MilestoneStatus, Role
from bot.core.notices import Notice, Rule

DONE = MilestoneStatus.DONE.value


def recap_missing(account: Account) -> Iterator[Notice]:
    key = account.settings.kickoff_recap_milestone
    recap = next((m for m in account.milestones if m.key == key and m.status != DONE), None)
    if recap is None or not recap.depends_on:
        return
    kickoff = [account.kickoff.get(k) for k in recap.depends_on]
    if any(k is None or k.status != DONE or k.completed_at is None for k in kickoff):
        return
    held = max(k.completed_at for k in kickoff if k is not None)
    since = account.local.now - held
    if since < timedelta(hours=account.settings.kickoff_recap_hours) or account.snoozed(
        Rule.KICKOFF_RECAP_MISSING, recap.key, recap
    ):
        return
    owner = account.in_slack(account.owner(recap.vendor_owner_id), account.person(Role.IMPLEMENTATION_CSM))
    route = account.dm(owner)
    if route is None:
        return
    said = facts.milestone(account, recap) | {
        "addressed": facts.display(owner),
        "kickoff_done_at": held.isoformat(),
        "hours_since_kickoff": int(since.total_seconds() // 3600),
        "kickoff_keys": list(recap.depends_on),
    }
    period = account.local.local_date(held).isoformat()
    why = f"kickoff done {int(since.total_seconds() // 3600)} hours ago and no recap yet"
    yield account.notice(Rule.KICKOFF_RECAP_MISSING, recap.key, period, route, said, why)
