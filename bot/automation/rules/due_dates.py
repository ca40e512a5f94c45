"""Milestone due soon and milestone overdue: nudge both owners.

The customer-side owner acts from the shared channel, so they are named there; the vendor-side owner
(else the CSM) hears it by DM. A blocked milestone is left to the blocked escalation, a done one to
nobody.
- due soon: from `due_soon_business_days` business days before the due date until the due date;
  once per milestone and due date (period = the due date), so moving the date nudges again.
- overdue: once per customer-local business day (period = that date), only while that day's business
  hours have not ended, so a late sweep never makes tomorrow's nudge twice.

The go-live sign-off (`signoff_milestone`) is the executive sponsor's to give, so its nudges never
call the sponsor out in the shared channel: the sponsor hears it in a direct message that links to
the sign-off card, and the vendor-side owner (the CSM) hears that the sponsor was reminded, with a
control to post a reminder in the shared channel should they judge it right (facts: signoff,
sponsor, sponsor_reminded, signoff_state, and the card's card_channel / card_ts). The sponsor is
reminded only while the sign-off is theirs to give (`signoff_state` "open": the go-live stage is
current and none of its other milestones is still open); while it waits for the go-live work
("waiting") or for the CSM's countersignature ("countersign"), only the vendor side hears it, told
what is left.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.automation.rules import facts
from bot.automation.rules.account import Account, Route
from bot.core.domain import MilestoneStatus, Role, Stage
from bot.core.effects import CardKind
from bot.core.notices import Notice, Rule

DONE, BLOCKED = MilestoneStatus.DONE.value, MilestoneStatus.BLOCKED.value
DUE_SOON, OVERDUE = Rule.DUE_SOON, Rule.OVERDUE
CSM, SPONSOR = Role.IMPLEMENTATION_CSM.value, Role.EXECUTIVE_SPONSOR.value
SIGNOFF_CARD = CardKind.SIGNOFF.value
GO_LIVE = Stage.GO_LIVE.value


def nudges(account: Account) -> list[Notice]:
    local = account.local
    today, window_end, day_open = local.today, local.due_soon_end, local.day_open
    shared = account.shared()
    vendor_routes: dict[int | None, tuple[str, Route | None]] = {}
    signoff_key = account.settings.signoff_milestone
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
        if m.key == signoff_key:
            sponsor = account.owner(m.customer_owner_id) or account.person(SPONSOR)
            state = _signoff_state(account, m)
            to_sponsor = account.customer_dm(sponsor) if state == "open" else None
            said |= account.card(SIGNOFF_CARD) | {
                "signoff": True,
                "sponsor": facts.display(sponsor),
                "sponsor_reminded": to_sponsor is not None,
                "signoff_state": state,
            }
            if to_sponsor is not None:
                to_them = dict(said, addressed=facts.display(sponsor))
                out.append(
                    account.notice(rule, m.key, period, to_sponsor, to_them, why + ", to the sponsor in private")
                )
        elif shared is not None:
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


def _signoff_state(account: Account, signoff: Any) -> str:
    """ "open" while the sponsor can sign off on the card; "waiting" for the go-live work (or the go-live
    stage) first; "countersign" once the sponsor has signed and the CSM has not."""
    ob = account.onboarding
    if ob.sponsor_signed_at is not None:
        return "countersign"
    if ob.stage != GO_LIVE or any(
        m.stage == GO_LIVE and m.status != DONE and m.id != signoff.id for m in account.milestones
    ):
        return "waiting"
    return "open"


def _vendor_route(account: Account, owner_id: int | None) -> tuple[str, Route | None]:
    """Who hears a milestone's nudge on the vendor side (its owner, else the CSM), and where."""
    vendor = account.in_slack(account.owner(owner_id), account.person(CSM))
    return (account.shown[vendor.id] if vendor is not None else ""), account.dm(vendor)


def _business_days_left(account: Account, due: Any) -> int:
    today, weekdays = account.local.today, account.settings.business_days
    return sum(1 for i in range(1, (due - today).days + 1) if (today + timedelta(days=i)).weekday() in weekdays)
