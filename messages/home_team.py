"""The App Home's team section as Block Kit: the numbers of `onboard-bot metrics` for my team and the
worst onboardings first, each with a link to its shared channel.

Built from `bot.value.team_home.TeamSummary`. A home view holds at most 100 blocks, so each summary
shows its worst `TEAM_SHOWN` onboardings and how many more there are, with "Show all": a modal of
every one, worst first, `PAGE_SIZE` to a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.domain import Role, Stage
from bot.core.ids import Action, View
from bot.core.payloads import TeamPage
from bot.value.portfolio import COMPLETION_TARGET_PERCENT, RATED, Group
from bot.value.team_home import TeamLine, TeamSummary
from messages import blocks as b

TEAM_SHOWN = 10
PAGE_SIZE = 40  # onboardings per page of "Show all" (a modal holds at most 100 blocks)
NAMES_SHOWN = 5  # of the onboardings that miss a target, per target
NAME_MAX = 60
SCHEDULE_WORDS = {"behind": "Behind", "at_risk": "At risk", "on_track": "On track", "live": "Live"}
STAGES = {stage.value for stage in Stage}
TITLES = {Role.CSM_MANAGER: "My team's numbers", Role.IMPLEMENTATION_CSM: "My onboardings' numbers"}
MODAL_TITLES = {Role.CSM_MANAGER: "My team", Role.IMPLEMENTATION_CSM: "My onboardings"}


def team_blocks(summaries: Sequence[TeamSummary], *, shown: int = TEAM_SHOWN) -> list[dict[str, Any]]:
    """Every summary's blocks, each opened by a divider; nothing at all for someone with none."""
    out: list[dict[str, Any]] = []
    for summary in summaries:
        out += [b.divider(), b.header(TITLES[summary.role]), b.section(numbers_text(summary.group))]
        missed = missed_text(summary.group)
        if missed:
            out.append(b.context(missed))
        out += [b.section(line_text(line)) for line in summary.lines[:shown]]
        left = len(summary.lines) - shown
        if left > 0:
            show_all = b.button("Show all", Action.TEAM_ALL, TeamPage(summary.role, 0).encode())
            out.append(b.section(f"…and {left} more, better placed than these.", accessory=show_all))
    return out


def team_modal(summary: TeamSummary, page: int, *, size: int = PAGE_SIZE) -> dict[str, Any]:
    """Every running onboarding of the summary, worst first, `size` to a page (`page` counts from 0)."""
    pages = max(1, -(-len(summary.lines) // size))
    page = min(max(page, 0), pages - 1)
    shown = summary.lines[page * size : (page + 1) * size]
    blocks: list[dict[str, Any]] = [
        b.context(
            f"Worst first: behind, at risk, then by health. Page {page + 1} of {pages}, "
            f"{len(summary.lines)} onboardings set up or live."
        ),
        *(b.section(line_text(line)) for line in shown),
    ]
    if not shown:
        blocks.append(b.section("No onboardings set up or live right now."))
    moves = []
    if page > 0:
        moves.append(b.button("Previous", f"{Action.TEAM_PAGE}.previous", TeamPage(summary.role, page - 1).encode()))
    if page + 1 < pages:
        moves.append(b.button("Next", f"{Action.TEAM_PAGE}.next", TeamPage(summary.role, page + 1).encode()))
    if moves:
        blocks.append(b.actions(*moves))
    return b.modal(View.TEAM_ALL, MODAL_TITLES[summary.role], blocks, close="Close")


def _show(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def numbers_text(g: Group) -> str:
    count = len(g.members)
    csat = [f"{stage.label} {_show(g.csat(stage))}" for stage in RATED if g.csat(stage) is not None]
    lines = [
        f"*{count} onboarding{'' if count == 1 else 's'}* · {g.count('on_track')} on track · "
        f"{g.count('at_risk')} at risk · {g.count('behind')} behind · {g.count('live')} live",
        f"Time to first value: median {_show(g.median_first_value_days, ' days')} (target 14 days)",
        f"Seat activation: median {_show(g.median_activation_percent, '%')} (target 70% by day 60)",
        f"Milestone completion: {_show(g.completion_percent, '%')} (target {COMPLETION_TARGET_PERCENT}%)"
        f" · on time {_show(g.on_time_percent, '%')}",
        f"Customer ratings (1-5): {', '.join(csat) if csat else 'none yet'}",
    ]
    return "\n".join(lines)


def missed_text(g: Group) -> str:
    lines = []
    for target, words in (("first_value", "first value"), ("activation", "activation"), ("completion", "completion")):
        names = g.missing(target)
        if names:
            listed = ", ".join(b.esc(b.clip(n, NAME_MAX)) for n in names[:NAMES_SHOWN])
            more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
            lines.append(f"Missing {words}: {listed}{more}")
    return "\n".join(lines)


def line_text(line: TeamLine) -> str:
    n = line.numbers
    name = f"*{b.esc(b.clip(n.name, NAME_MAX))}*"
    where = f"<#{n.shared_channel_id}> " if n.shared_channel_id else ""
    parts = [f"{where}{name}", SCHEDULE_WORDS.get(n.schedule, "Not planned yet")]
    if n.stage in STAGES:
        parts.append(Stage(n.stage).label)
    parts.append(f"health {line.health}" if line.health is not None else "no health score yet")
    if n.csm:
        parts.append(f"CSM {b.esc(b.clip(n.csm, NAME_MAX))}")
    return " · ".join(parts)
