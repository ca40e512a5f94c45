"""What holds a stage back, as Block Kit: each milestone, what it needs, and a button that fixes it.

Shown when a move to the next stage (or the completion of the onboarding) is refused, only to the
person who asked. "Assign owner" opens the milestone's reassign form; "Open card" links to the
stage card that has the milestone's own buttons, when that card is in the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.domain import ROLE_LABELS, Role
from bot.core.effects import Hold, Need
from bot.core.ids import Action
from bot.core.payloads import MilestoneRef, OnboardingRef
from messages import blocks as b

HOLDS_SHOWN = 12  # a refusal stays well inside a message's 50 blocks and Slack's size limit

# the link to the card that has the fix for this hold, or None when that card is not posted yet
CardLink = Callable[[Hold], str | None]


def _role(role: str | None) -> str:
    return ROLE_LABELS[Role(role)].lower() if role and role in Role._value2member_map_ else "owner"


def need_words(hold: Hold) -> str:
    words = []
    for need in hold.needs:
        if need is Need.CUSTOMER_OWNER:
            words.append(f"an owner on the customer's side ({_role(hold.customer_role)})")
        elif need is Need.VENDOR_OWNER:
            words.append(f"an owner on our side ({_role(hold.vendor_role)})")
        elif need is Need.CONFIRMATION:
            words.append("the customer's confirmation (their owner presses *Confirm* on the card)")
        elif need is Need.SIGN_OFF:
            words.append("the executive sponsor's sign-off and the CSM's countersignature, on the sign-off card")
        elif need is Need.UNBLOCK:
            words.append("unblocking")
        else:
            words.append("to be done")
    return "needs " + " and ".join(words)


def assign_button(onboarding_id: int, milestone_id: int, version: int) -> dict[str, Any]:
    return b.button(
        "Assign owner", Action.MILESTONE_ASSIGN, MilestoneRef(onboarding_id, milestone_id, version).encode()
    )


def _fix(hold: Hold, link: CardLink) -> dict[str, Any] | None:
    if Need.CUSTOMER_OWNER in hold.needs or Need.VENDOR_OWNER in hold.needs:
        return assign_button(hold.onboarding_id, hold.milestone_id, hold.version)
    url = link(hold)
    if url is None:
        return None
    return b.button("Open card", Action.OPEN_CARD, OnboardingRef(hold.onboarding_id).encode(), url=url)


def refusal(message: str, holds: list[Hold], link: CardLink) -> list[dict[str, Any]]:
    """The refusal as blocks: what is still to do, then each milestone holding it with its fix."""
    out = [b.section(message)]
    if not holds:
        return out
    out.append(b.context("*What holds it*"))
    for hold in holds[:HOLDS_SHOWN]:
        where = f" · {hold.stage.label}"
        out.append(b.section(f"*{b.esc(hold.title)}*{where}\n{need_words(hold)}", accessory=_fix(hold, link)))
    if len(holds) > HOLDS_SHOWN:
        out.append(b.context(f"…and {len(holds) - HOLDS_SHOWN} more: *My tasks* lists the ones needing an owner."))
    return out
