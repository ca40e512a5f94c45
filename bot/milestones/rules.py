"""Who may do what to a milestone, and what each action does to its status.

Pure rules, no store: the permission matrix the cards enforce, and the status transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import Act, MilestoneStatus, Side


@dataclass(frozen=True)
class Actor:
    user_id: str
    side: Side


@dataclass(frozen=True)
class Subject:
    """The milestone as the rules need it."""

    status: MilestoneStatus
    client_verified: bool
    customer_owner_user: str | None  # Slack user id of the customer-side owner, if in Slack
    vendor_owner_user: str | None


VENDOR_ONLY = frozenset({Act.CHANGE_DUE, Act.REASSIGN})


def refusal(act: Act, actor: Actor, m: Subject) -> str | None:
    """Why `actor` may not do `act` on this milestone, or None when they may."""
    if actor.side is Side.VENDOR:
        if act in (Act.CONFIRM, Act.REJECT):
            return "Only someone on the customer's side can confirm this; that is the point of asking them."
        return None
    if act in VENDOR_ONLY:
        return "Only the vendor's team can change dates or owners. Ask your CSM in this channel."
    if act in (Act.CONFIRM, Act.REJECT):
        if not m.client_verified:
            return "This milestone doesn't need a confirmation from your side."
        return None
    if m.customer_owner_user != actor.user_id:
        return "Only this milestone's owner can update it. Use *My tasks* to see yours."
    return None


def transition(act: Act, actor: Actor, m: Subject) -> MilestoneStatus | str:
    """The status after `act`, or a sentence saying why it doesn't apply to the current status."""
    s = m.status
    if s is MilestoneStatus.DONE and act not in (Act.CHANGE_DUE, Act.REASSIGN):
        return "This milestone is already done."
    match act:
        case Act.START:
            if s is not MilestoneStatus.NOT_STARTED:
                return "This milestone has already started."
            return MilestoneStatus.IN_PROGRESS
        case Act.DONE:
            if s is MilestoneStatus.AWAITING_CONFIRMATION:
                return "This is waiting for the customer to confirm it."
            if m.client_verified and actor.side is Side.VENDOR:
                return MilestoneStatus.AWAITING_CONFIRMATION
            return MilestoneStatus.DONE
        case Act.BLOCK:
            if s is MilestoneStatus.BLOCKED:
                return "This milestone is already marked blocked."
            return MilestoneStatus.BLOCKED
        case Act.UNBLOCK:
            if s is not MilestoneStatus.BLOCKED:
                return "This milestone isn't blocked."
            return MilestoneStatus.IN_PROGRESS
        case Act.CONFIRM:
            if s is not MilestoneStatus.AWAITING_CONFIRMATION:
                return "There is nothing to confirm on this milestone right now."
            return MilestoneStatus.DONE
        case Act.REJECT:
            if s is not MilestoneStatus.AWAITING_CONFIRMATION:
                return "There is nothing to confirm on this milestone right now."
            return MilestoneStatus.IN_PROGRESS
        case Act.CHANGE_DUE | Act.REASSIGN:
            return s
    raise ValueError(act)
