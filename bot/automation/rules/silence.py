"""Silent account ("week-4 ghosting"): no customer-side activity while milestones are open.

Silence runs from the last customer-side Activity (a message, a click), or from the onboarding's
creation when there was none. After `silent_days` days the CSM is alerted in the internal channel
with the play "confirm the project owner"; after `silent_sponsor_days` days, "go to the executive
sponsor". Each step is said once per silence (period = the day the silence began, and the step's
threshold); any customer activity ends the silence, and a later one starts from the first step.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from bot.automation.rules import facts
from bot.automation.rules.account import Account
from bot.core.domain import Role
from bot.core.notices import Notice, Rule

CONFIRM_PROJECT_OWNER = "confirm_project_owner"
CONTACT_EXECUTIVE_SPONSOR = "contact_executive_sponsor"


def silent_account(account: Account) -> Iterator[Notice]:
    s = account.settings
    if account.signals.open == 0 or account.snoozed(Rule.SILENT_ACCOUNT, ""):
        return
    last = account.signals.last_customer_at
    since = last or account.onboarding.created_at
    quiet = account.local.now - since
    if quiet < timedelta(days=s.silent_days):
        return
    to_sponsor = quiet >= timedelta(days=s.silent_sponsor_days)
    threshold = s.silent_sponsor_days if to_sponsor else s.silent_days
    csm = account.person(Role.IMPLEMENTATION_CSM)
    route = account.internal() or account.dm(csm)
    if route is None:
        return
    said = facts.base(account) | {
        "addressed": facts.display(csm),
        "days_silent": quiet.days,
        "last_customer_activity_at": last.isoformat() if last else None,
        "open_milestones": account.signals.open,
        "play": CONTACT_EXECUTIVE_SPONSOR if to_sponsor else CONFIRM_PROJECT_OWNER,
        "project_owner": account.show_role(Role.PROJECT_OWNER),
        "executive_sponsor": account.show_role(Role.EXECUTIVE_SPONSOR),
        "csm": facts.display(csm),
    }
    period = f"{account.local.local_date(since).isoformat()}+{threshold}d"
    why = f"no customer activity for {quiet.days} days with {account.signals.open} milestones open"
    yield account.notice(Rule.SILENT_ACCOUNT, "", period, route, said, why)
