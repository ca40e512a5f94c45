"""The App Home as Block Kit: my onboardings, what needs my attention, the posts Slack refused.

Built from `bot.onboarding.home.Home`; `permalink(channel_id, ts)` makes the "Open card" links.
A home view holds at most 100 blocks, so every list is capped and says how many it left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.core.ids import Action
from bot.core.payloads import OnboardingRef
from bot.onboarding.home import CardLink, FailedPost, Home, Why
from messages import blocks as b
from messages.automated_posts import ERROR_WORDS
from messages.status import go_live_words

HOME_BLOCKS_MAX = 100
ONBOARDINGS_SHOWN = 30

WHY_WORDS = {
    Why.BLOCKED: "blocked",
    Why.OVERDUE: "overdue",
    Why.AWAITING_CONFIRMATION: "awaiting the customer's confirmation",
}

Permalink = Callable[[str, str], str]


def home_view(home: Home, viewer: str, permalink: Permalink, sections: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """`sections`: blocks other builders add after "My onboardings" (the team's numbers, messages.home_team)."""

    def open_card(onboarding_id: int, card: CardLink | None) -> dict[str, Any] | None:
        if card is None:
            return None
        return b.button(
            "Open card",
            Action.OPEN_CARD,
            OnboardingRef(onboarding_id).encode(),
            url=permalink(card.channel_id, card.ts),
        )

    blocks: list[dict[str, Any]] = [b.header("My onboardings")]
    if not home.onboardings:
        blocks.append(b.section("No onboardings with you on the team yet. Start one with `/onboard new`."))
    for ob in home.onboardings[:ONBOARDINGS_SHOWN]:
        when = go_live_words(ob.go_live_on, ob.projected_on, ob.went_live_on, ob.today)
        text = f"*{_esc(ob.customer_name)}* · {ob.stage.label} · go-live {when} · {ob.schedule.label}"
        blocks.append(b.section(text, accessory=open_card(ob.onboarding_id, ob.card)))
    if len(home.onboardings) > ONBOARDINGS_SHOWN:
        blocks.append(
            b.context(f"…and {len(home.onboardings) - ONBOARDINGS_SHOWN} more: `/onboard list` has them all.")
        )

    blocks += sections
    refused = _refused(home, viewer)

    blocks += [b.divider(), b.header("Needs my attention")]
    if not home.attention:
        blocks.append(b.section("Nothing overdue, blocked or waiting. :sunny:"))
    room = max(0, HOME_BLOCKS_MAX - len(blocks) - len(refused) - 1)  # one for the "more" line
    for item in home.attention[:room]:
        text = f"*{_esc(item.title)}* ({_esc(item.customer_name)}) · {WHY_WORDS[item.why]} · due {item.due_on:%a %d %b}"
        blocks.append(b.section(text, accessory=open_card(item.onboarding_id, item.card)))
    if len(home.attention) > room:
        blocks.append(b.context(f"…and {len(home.attention) - room} more."))

    blocks += refused
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}


def _refused(home: Home, viewer: str) -> list[dict[str, Any]]:
    """The posts Slack refused for good; nothing at all when there are none."""
    if not home.failed:
        return []
    blocks = [
        b.divider(),
        b.header("Posts Slack refused"),
        b.context("I won't try these again. Fix the cause (under each) so that the next posts get through."),
    ]
    blocks += [b.section(failed_line(post, viewer)) for post in home.failed]
    left_out = home.failed_total - len(home.failed)
    if left_out > 0:
        blocks.append(b.context(f"…and {left_out} more."))
    return blocks


def failed_line(post: FailedPost, viewer: str) -> str:
    customer = f"*{_esc(post.customer_name)}*" if post.customer_name else "*No onboarding*"
    if post.channel_id:
        where = f"<#{post.channel_id}>"
    elif post.recipient == viewer:
        where = "a direct message to you"
    else:
        where = f"a direct message to <@{post.recipient}>"
    return f"{customer} · to {where} · {_when(post.due_at)}\n{reason(post.error, post.detail)}."


def reason(error: str, detail: str = "") -> str:
    """Why Slack refused, in words (the same as the delivery-failed alert in the internal channel)."""
    words = ERROR_WORDS.get(error, f"Slack answered `{_esc(error)}`" if error else "Slack refused it")
    words = words[:1].upper() + words[1:]
    return f"{words} ({_esc(detail)})" if detail else words


def _when(at: datetime) -> str:
    """A time Slack shows in the reader's own time zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{at:%a %d %b %Y %H:%M} UTC>"


def _esc(value: Any) -> str:
    return b.esc(value)
