"""Who may do what, as one table: each act against the actor's standing toward the onboarding.

A person's standing is worked out from the store for every request (never from what a button or
form carried): a vendor-team user named on the onboarding, another vendor-team user, the customer-
side owner of the milestone acted on, another of the customer's named people, someone from any
other team in the channel (a third company, another customer's people), or an unknown actor (no
user or team id). Roles narrow some acts further where the act names one (only the named executive
sponsor signs off, only the implementation CSM countersigns): bot.milestones.stage_moves checks those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.core.domain import Act, Role, Side

if TYPE_CHECKING:
    from bot.milestones.rules import Actor
    from store.models import Milestone
    from store.onboardings import OnboardingRecord


class Standing(StrEnum):
    VENDOR_TEAM = "vendor_team"  # vendor side, named on this onboarding
    OTHER_VENDOR = "other_vendor"  # vendor side, not on this onboarding
    OWNER = "owner"  # the milestone's customer-side owner (or the project owner standing in)
    CUSTOMER = "customer"  # one of this customer's named people
    OUTSIDER = "outsider"  # another team: a third company in the channel, another customer's people
    UNKNOWN = "unknown"  # no user or no team id: nobody the bot can place


TEAM, OWNER, CUSTOMER, OTHER_VENDOR = Standing.VENDOR_TEAM, Standing.OWNER, Standing.CUSTOMER, Standing.OTHER_VENDOR

# act -> the standings that may do it. Everything not listed is refused.
ALLOWED: dict[Act, frozenset[Standing]] = {
    Act.START: frozenset({TEAM, OWNER}),
    Act.DONE: frozenset({TEAM, OWNER}),
    Act.BLOCK: frozenset({TEAM, OWNER}),
    Act.UNBLOCK: frozenset({TEAM, OWNER}),
    Act.CONFIRM: frozenset({OWNER}),
    Act.REJECT: frozenset({OWNER}),
    Act.CHANGE_DUE: frozenset({TEAM}),
    Act.REASSIGN: frozenset({TEAM}),
    Act.ADD_MILESTONE: frozenset({TEAM}),
    Act.ADVANCE_STAGE: frozenset({TEAM}),
    Act.COMPLETE: frozenset({TEAM}),
    Act.SIGN_OFF: frozenset({OWNER, CUSTOMER}),  # then: only the named executive sponsor
    Act.COUNTERSIGN: frozenset({TEAM}),  # then: only the implementation CSM
    Act.OVERRIDE_GATE: frozenset({TEAM}),
    Act.SNOOZE: frozenset({TEAM, OWNER}),  # the owner: only their own milestone's nudges
    Act.PICK_UP: frozenset({TEAM}),
    Act.MY_TASKS: frozenset({TEAM, OTHER_VENDOR, OWNER, CUSTOMER}),
    Act.REPOST_SETUP: frozenset({TEAM}),
    Act.RATE: frozenset({OWNER, CUSTOMER}),  # the customer's named people
    Act.REMIND_PUBLICLY: frozenset({TEAM}),
    Act.HAND_OVER: frozenset({TEAM}),
    Act.ACCEPT_HANDOFF: frozenset({TEAM}),  # then: only the ongoing CSM the handoff names
}

REFUSALS = {
    Standing.OTHER_VENDOR: "You're not on this onboarding's team. Ask its CSM to add you, then try again.",
    Standing.OUTSIDER: "This belongs to another organisation's onboarding, so I can't take that from you.",
    Standing.UNKNOWN: "I can't tell who you are from this request, so I didn't act on it.",
}
CUSTOMER_REFUSALS = {
    Act.CONFIRM: "Only this milestone's owner on your side can confirm it. They'll find it under *My tasks*.",
    Act.REJECT: "Only this milestone's owner on your side can send it back. They'll find it under *My tasks*.",
    Act.CHANGE_DUE: "Only the vendor's team can change dates or owners. Ask your CSM in this channel.",
    Act.REASSIGN: "Only the vendor's team can change dates or owners. Ask your CSM in this channel.",
    Act.SNOOZE: "Only this milestone's owner or the vendor's team can snooze it.",
}


@dataclass(frozen=True)
class Person:
    """A named person of the onboarding, as the table needs them."""

    id: int
    side: str
    role: str
    slack_user_id: str | None


def standing(
    user_id: str | None,
    side: Side | None,
    people: Iterable[Person],
    *,
    customer_owner_id: int | None = None,
) -> Standing:
    """The actor's standing toward an onboarding (and, given its customer owner, toward one milestone)."""
    if not user_id or side is None:
        return Standing.UNKNOWN
    people = list(people)
    theirs = [p for p in people if p.slack_user_id == user_id]
    if side is Side.VENDOR:
        return Standing.VENDOR_TEAM if any(p.side == Side.VENDOR for p in theirs) else Standing.OTHER_VENDOR
    customer = [p for p in theirs if p.side == Side.CUSTOMER]
    if not customer:
        return Standing.OUTSIDER
    if customer_owner_id is not None:
        if any(p.id == customer_owner_id for p in customer):
            return Standing.OWNER
        owner = next((p for p in people if p.id == customer_owner_id), None)
        # An owner who is not in Slack can't click: the project owner acts for them.
        if owner is not None and not owner.slack_user_id and any(p.role == Role.PROJECT_OWNER for p in customer):
            return Standing.OWNER
    return Standing.CUSTOMER


def stands_in(people: Iterable[Person], customer_owner_id: int | None) -> bool:
    """Whether the project owner acts for this milestone's customer-side owner (who is not in Slack)."""
    owner = next((p for p in people if p.id == customer_owner_id), None)
    return owner is not None and owner.side == Side.CUSTOMER and not owner.slack_user_id


def people_of(record: OnboardingRecord) -> list[Person]:
    return [Person(p.id, p.side, p.role, p.slack_user_id) for p in record.people]


def standing_of(record: OnboardingRecord, actor: Actor, customer_owner_id: int | None = None) -> Standing:
    return standing(actor.user_id, actor.side, people_of(record), customer_owner_id=customer_owner_id)


def channel_problem(record: OnboardingRecord, actor: Actor) -> str | None:
    """Why a control clicked in `actor.channel_id` can't act on this onboarding, or None.

    The bot's controls live in the onboarding's shared and internal channels and in direct
    messages to the vendor's people; a control that arrives from anywhere else was not ours.
    """
    where = actor.channel_id
    ob = record.onboarding
    if not where or where in (ob.shared_channel_id, ob.internal_channel_id):
        return None
    if where.startswith("D") and actor.side is Side.VENDOR:
        return None
    shared = f" Use the one in <#{ob.shared_channel_id}>." if ob.shared_channel_id else ""
    return f"That control belongs to another channel, so I didn't act on it.{shared}"


def check(record: OnboardingRecord, actor: Actor, act: Act, customer_owner_id: int | None = None) -> str | None:
    """The one check every act on an onboarding passes: the channel it came from, then the table."""
    return channel_problem(record, actor) or refusal(act, standing_of(record, actor, customer_owner_id))


def refusal(act: Act, who: Standing) -> str | None:
    """Why someone of this standing may not do `act`, or None when they may."""
    if who in ALLOWED.get(act, frozenset()):
        return None
    if who in REFUSALS:
        return REFUSALS[who]
    if who is Standing.VENDOR_TEAM:
        if act in (Act.CONFIRM, Act.REJECT):
            return "Only someone on the customer's side can confirm this; that is the point of asking them."
        if act is Act.RATE:
            return "The rating is the customer's to give; a low score reaches you in the internal channel."
        if act is Act.SIGN_OFF:
            return "Only the executive sponsor named for this project can sign off go-live."
        return "That isn't something the vendor's team does here."
    if act in CUSTOMER_REFUSALS:
        return CUSTOMER_REFUSALS[act]
    if act in (Act.START, Act.DONE, Act.BLOCK, Act.UNBLOCK):
        return "Only this milestone's owner can update it. Use *My tasks* to see yours."
    return "That is for the vendor's team. Ask your CSM in this channel."


def offers(record: OnboardingRecord, actor: Actor) -> Callable[[Milestone, Act], bool]:
    """What to offer this reader on a milestone, from the same table: only the acts they may do.

    For views only one person reads (My tasks); a card in the channel is read by both sides, and
    refuses whoever may not.
    """
    people = people_of(record)

    def may(milestone: Milestone, act: Act) -> bool:
        who = standing(actor.user_id, actor.side, people, customer_owner_id=milestone.customer_owner_id)
        return who in ALLOWED.get(act, frozenset())

    return may
