"""Blocked milestones, the escalations they open, and escalations climbing while nobody picks them up.

- A milestone blocked more than `blocked_days` days (customer-local days since `blocked_since`) opens
  an Escalation (rule "blocked", subject = the milestone key, opened on the customer's today, level 0
  = the CSM) and is said twice: to the customer's executive sponsor in the shared channel, in words
  fit for the customer, proposing an unblock call within `unblock_call_hours`; and to the CSM (level
  0) by DM, with whom it waits on and the go-live it puts at risk.
- An escalation nobody acknowledged `escalation_ack_business_days` business days after it reached its
  level (counted from when business hours next open) climbs one level: CSM (0), CSM manager (1),
  escalation contact (2). Each climb is an urgent DM to the person at the new level, naming who
  left it unanswered (`passed_over`) since when (`unanswered_since`, local ISO datetime).
Every post to the vendor's people links to the milestone's stage card (card_channel, card_ts).
- An open blocked escalation whose milestone is no longer blocked is resolved.
Periods: "escalation-<id>" for the sponsor, "escalation-<id>-level-<n>" internally. A snoozed
reason neither opens nor climbs. State changes are written in bulk in the caller's transaction,
and the notices come in the pass that makes the change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.automation.rules import facts
from bot.automation.rules.account import Account, OpenEscalation
from bot.automation.rules.candidates import Sweep, attach_escalations
from bot.core.domain import Role
from bot.core.effects import CardKind
from bot.core.notices import Notice, Rule
from store import escalations as stored

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

BLOCKED = Rule.BLOCKED.value
RULES = frozenset(r.value for r in Rule)
CSM, MANAGER, CONTACT = Role.IMPLEMENTATION_CSM.value, Role.CSM_MANAGER.value, Role.ESCALATION_CONTACT.value
SPONSOR, BUYER = Role.EXECUTIVE_SPONSOR.value, Role.ECONOMIC_BUYER.value
LEVEL_ROLES = (CSM, MANAGER, CONTACT)  # who answers for an escalation at level 0, 1, 2
TOP_LEVEL = len(LEVEL_ROLES) - 1
STAGE_CARD = CardKind.STAGE.value


def settle(conn: Connection, sweep: Sweep) -> list[Notice]:
    """Resolve, open and climb escalations for every account; the notices that opening and climbing call for.

    Notices come only in the pass that opens or raises an escalation, so the caller must claim them
    in the same transaction as these writes (the outbox does).
    """
    now = sweep.now
    to_resolve: list[int] = []
    to_open: list[dict[str, Any]] = []
    for a in sweep.accounts.values():
        blocked = a.blocked
        for key, esc in list(a.escalations.items()):
            if esc.rule == BLOCKED and esc.subject not in blocked:
                to_resolve.append(esc.id)
                del a.escalations[key]
        for m in blocked.values():
            if (BLOCKED, m.key) in a.escalations or a.snoozed(Rule.BLOCKED, m.key, m):
                continue
            days = days_blocked(a, m)
            if days is not None and days > a.settings.blocked_days:
                to_open.append({
                    "onboarding_id": a.id, "rule": BLOCKED, "subject": m.key,
                    "opened_on": a.local.today, "level": 0, "raised_at": now, "level_raised_at": now,
                })  # fmt: skip
    stored.resolve(conn, to_resolve, now)
    if to_open:
        stored.open_new(conn, to_open)
        attach_escalations(conn, sweep.accounts)
    opened = {(row["onboarding_id"], row["subject"]) for row in to_open}

    notices: list[Notice] = []
    climbs: list[dict[str, Any]] = []
    for a in sweep.accounts.values():
        for esc in a.escalations.values() if a.escalations else ():
            if esc.acknowledged_at is not None or esc.rule not in RULES:
                continue
            m = a.blocked.get(esc.subject)
            if esc.level == 0 and esc.level_raised_at == now and (a.id, esc.subject) in opened:
                notices.extend(_opening(a, esc, m))
            elif esc.level < TOP_LEVEL and _unanswered(a, esc) and not a.snoozed(Rule(esc.rule), esc.subject, m):
                since = esc.level_raised_at
                esc.level, esc.level_raised_at = esc.level + 1, now
                climbs.append({"id": esc.id, "level": esc.level, "level_raised_at": now})
                notices.extend(_climb(a, esc, m, since))
    stored.raise_levels(conn, climbs)
    return notices


def _unanswered(a: Account, esc: OpenEscalation) -> bool:
    """Whether the time to acknowledge this level has run out (a business day ends no sooner than a day)."""
    days = a.settings.escalation_ack_business_days
    if a.local.now < esc.level_raised_at + timedelta(days=days):
        return False
    return a.local.now >= a.local.deadline(esc.level_raised_at, days)


def days_blocked(a: Account, m: Any) -> int | None:
    return (a.local.today - m.blocked_since).days if m.blocked_since is not None else None


def _waiting_on(a: Account, unblocker: str | None) -> str:
    """The side of the person named as the unblocker, when they are one of this onboarding's people."""
    said = (unblocker or "").strip().lower()
    if said:
        for p in a.people.values():
            slack = (p.slack_user_id or "").lower()
            if said == p.name.strip().lower() or (slack and said in (slack, f"<@{slack}>")):
                return p.side
    return "unknown"


def _blocked_facts(a: Account, esc: OpenEscalation, m: Any) -> dict[str, Any]:
    """What both the sponsor and the vendor's team may read about the blocked milestone."""
    said = facts.milestone(a, m) if m is not None else facts.base(a)
    said |= {
        "escalation_id": esc.id,
        "days_blocked": days_blocked(a, m) if m is not None else None,
        "blocked_reason": (m.blocked_reason or "") if m is not None else "",
        "unblocker": (m.blocked_unblocker or "") if m is not None else "",
    }
    return said


def _internal_facts(a: Account, esc: OpenEscalation, m: Any) -> dict[str, Any]:
    target = a.onboarding.target_go_live_on
    passed_over = [a.show_role(role) for role in LEVEL_ROLES[: esc.level] if a.show_role(role)]
    card = a.card(STAGE_CARD, m.stage) if m is not None else {}
    return (
        _blocked_facts(a, esc, m)
        | card
        | {
            "passed_over": list(dict.fromkeys(passed_over)),
            "level": esc.level,
            "level_role": LEVEL_ROLES[esc.level],
            "opened_on": esc.opened_on.isoformat(),
            "blocked_since": m.blocked_since.isoformat() if m is not None and m.blocked_since else None,
            "waiting_on": _waiting_on(a, m.blocked_unblocker if m is not None else None),
            "target_go_live_on": target.isoformat(),
            "days_to_target": (target - a.local.today).days,
            "csm": a.show_role(CSM),
            "csm_manager": a.show_role(MANAGER),
            "escalation_contact": a.show_role(CONTACT),
            "executive_sponsor": a.show_role(SPONSOR),
        }
    )


def _opening(a: Account, esc: OpenEscalation, m: Any) -> list[Notice]:
    """The sponsor, in the shared channel, and the CSM (level 0), by DM."""
    out = []
    days = days_blocked(a, m)
    sponsor = a.person(SPONSOR) or a.person(BUYER)
    shared = a.shared()
    if sponsor is not None and shared is not None:
        call_by = (a.local.opens + timedelta(hours=a.settings.unblock_call_hours)).astimezone(a.local.zone)
        said = _blocked_facts(a, esc, m) | {
            "addressed": facts.display(sponsor),
            "executive_sponsor": facts.display(sponsor),
            "unblock_call_hours": a.settings.unblock_call_hours,
            "unblock_call_by": call_by.isoformat(),
        }
        why = f"{m.title!r} has been stuck {days} days: asking the sponsor for an unblock call"
        out.append(a.notice(Rule.BLOCKED, m.key, f"escalation-{esc.id}", shared, said, why, urgent=True))
    csm = a.in_slack(a.person(CSM), a.person(MANAGER), a.person(CONTACT))
    route = a.dm(csm)
    if route is not None:
        said = _internal_facts(a, esc, m) | {"addressed": facts.display(csm)}
        why = f"{m.title!r} blocked {days} days: escalated to the CSM"
        out.append(a.notice(Rule.BLOCKED, m.key, f"escalation-{esc.id}-level-0", route, said, why, urgent=True))
    return out


def _climb(a: Account, esc: OpenEscalation, m: Any, since: Any) -> list[Notice]:
    """An urgent DM to the person at the escalation's new level, naming who let it pass and since when."""
    person = a.person(LEVEL_ROLES[esc.level])
    route = a.dm(person)
    if route is None:
        return []
    unanswered = since.astimezone(a.local.zone).isoformat()
    shown = facts.display(person)
    said = _internal_facts(a, esc, m) | {"addressed": shown, "unanswered_since": unanswered}
    said["passed_over"] = [who for who in said["passed_over"] if who != shown]
    title = m.title if m is not None else esc.subject
    why = f"escalation on {title!r} not acknowledged: raised to level {esc.level} ({LEVEL_ROLES[esc.level]})"
    period = f"escalation-{esc.id}-level-{esc.level}"
    return [a.notice(Rule(esc.rule), esc.subject, period, route, said, why, urgent=True)]
