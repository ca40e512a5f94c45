"""The team's numbers on a vendor person's App Home, as plain data: `onboard-bot metrics` for my team.

A CSM manager sees the onboardings that name them the CSM's manager; a CSM sees the onboardings they
run as implementation CSM; someone who is both sees both. Each summary is the metrics command's group
of those onboardings (bot.value.portfolio, the same numbers against the same targets), and its
running onboardings (set up or live) worst first: behind, then at risk, then the lowest latest
health score (none yet comes after every score), then by name.

Whatever the number of onboardings, the read is a fixed number of statements: who holds the role,
the portfolio's set-based read, and the latest health scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.core.domain import OnboardingStatus, Role
from bot.planning.playbook import Playbook
from bot.value.portfolio import By, Group, Numbers, grouped, numbers
from store.account_handoffs import latest_scores
from store.db import session_scope
from store.queries import onboardings_with_role

RUNNING = (OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value)
WORST_FIRST = {"behind": 0, "at_risk": 1}


@dataclass(frozen=True)
class TeamLine:
    numbers: Numbers
    health: int | None  # the latest stored early health score, None before the first


@dataclass(frozen=True)
class TeamSummary:
    role: Role  # CSM_MANAGER: the team I manage; IMPLEMENTATION_CSM: my own onboardings
    group: Group
    lines: list[TeamLine]  # the running onboardings, worst first


def worst_first(lines: list[TeamLine]) -> list[TeamLine]:
    def rank(line: TeamLine) -> tuple:
        n = line.numbers
        health = line.health if line.health is not None else 101
        return (WORST_FIRST.get(n.schedule, 2), health, n.name.lower(), n.onboarding_id)

    return sorted(lines, key=rank)


def team_of(engine: Engine, slack_user_id: str, now: datetime, playbooks: Mapping[str, Playbook]) -> list[TeamSummary]:
    with session_scope(engine) as session:
        held = {role: onboardings_with_role(session, slack_user_id, role)
                for role in (Role.CSM_MANAGER, Role.IMPLEMENTATION_CSM)}  # fmt: skip
        every = sorted({i for ids in held.values() for i in ids})
        health = {row.onboarding_id: row.score for row in latest_scores(session.connection(), every)}
    found = {n.onboarding_id: n for n in numbers(engine, now, playbooks, only=every)} if every else {}
    summaries = []
    for role, ids in held.items():
        members = [found[i] for i in ids if i in found]
        if not members:
            continue
        [group] = grouped(members, By.ALL)
        running = [TeamLine(n, health.get(n.onboarding_id)) for n in members if n.status in RUNNING]
        summaries.append(TeamSummary(role, group, worst_first(running)))
    return summaries
