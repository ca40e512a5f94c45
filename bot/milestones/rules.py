"""Who may do what to a milestone, and what each action does to its status.

Pure rules, no store: the permission matrix the cards enforce, and the status transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import Act, MilestoneStatus, Side


@dataclass(frozen=True)
class Actor:
    """Who acts, as Slack said (checked against the store by bot.milestones.permissions)."""

    user_id: str
    side: Side | None  # None: a team the bot can't place (no team id)
    channel_id: str | None = None  # where the control was clicked, when it was in a channel

    @property
    def side_value(self) -> str:
        """The side as the audit log and activity store it."""
        return self.side.value if self.side is not None else "unknown"


@dataclass(frozen=True)
class Subject:
    """The milestone as the rules need it."""

    status: MilestoneStatus
    client_verified: bool
    customer_owner_user: str | None  # Slack user id of the customer-side owner, if in Slack
    vendor_owner_user: str | None


def refusal(act: Act, m: Subject) -> str | None:
    """Why `act` doesn't fit this milestone whoever does it (who may do it: bot.milestones.permissions)."""
    if act in (Act.CONFIRM, Act.REJECT) and not m.client_verified:
        return "This milestone doesn't need a confirmation from your side."
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
