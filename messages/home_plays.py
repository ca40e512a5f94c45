"""The App Home's "Adoption plays" section: each play running for the viewer, in the words of its post
(the same template, so a team's own words show here too); nothing at all when none runs."""

from __future__ import annotations

from typing import Any

from bot.core.notices import Rule
from bot.value.plays import RunningPlay
from messages import blocks as b
from messages.after_go_live_posts import line
from messages.templates import Templates

PLAYS_SHOWN = 5


def plays_section(plays: list[RunningPlay], templates: Templates) -> list[dict[str, Any]]:
    if not plays:
        return []
    blocks = [b.divider(), b.header("Adoption plays")]
    for play in plays[:PLAYS_SHOWN]:
        blocks.append(b.section(line(templates, Rule.VALUE_PLAY, play.play, play.facts)))
        blocks.append(b.context(f"Last said {play.said_on:%a %d %b}; it stops once the trend does."))
    if len(plays) > PLAYS_SHOWN:
        blocks.append(b.context(f"…and {len(plays) - PLAYS_SHOWN} more in your direct messages."))
    return blocks
