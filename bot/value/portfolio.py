"""The team lead's numbers: each onboarding's value metrics against its targets, grouped by tier,
CSM or playbook, with the onboardings that miss each target named.

Targets: time to first value within the playbook's `first_value_target_days` (14 by default), seat
activation at least `activation_target_percent` (70%) once `activation_target_days` (60) have passed
since signature, milestone completion at least `COMPLETION_TARGET_PERCENT` (90%) of what is due.
An onboarding too young for a target is not counted as missing it.

The read is set-based: the onboardings, their people, stages and milestones, usage, latest adoption
snapshots and ratings come in a fixed number of statements, whatever their number.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.domain import OnboardingStatus, Role, Stage
from bot.planning.playbook import Playbook
from bot.value.summary import summary_from
from store import ratings
from store.db import session_scope
from store.models import Onboarding
from store.onboardings import load_many
from store.usage import latest_adoption, usage_by_onboarding

COMPLETION_TARGET_PERCENT = 90
RATED = tuple(s for s in Stage if s is not Stage.PRE_KICKOFF)


class By(StrEnum):
    ALL = "all"
    TIER = "tier"
    CSM = "csm"
    PLAYBOOK = "playbook"


@dataclass(frozen=True)
class Numbers:
    """One onboarding's figures and whether it misses each target."""

    name: str
    tier: int
    playbook: str
    csm: str  # the implementation CSM's name ("" when none is named)
    schedule: str
    first_value_days: int | None
    activation_percent: int | None
    due: int
    done_of_due: int
    done: int
    on_time: int
    scores: dict[str, list[int]]
    misses_first_value: bool
    misses_activation: bool
    misses_completion: bool
    onboarding_id: int = 0
    stage: str = ""
    status: str = ""
    shared_channel_id: str | None = None


@dataclass
class Group:
    key: str
    members: list[Numbers] = field(default_factory=list)

    def _median(self, values: list[int]) -> float | None:
        return statistics.median(values) if values else None

    @property
    def median_first_value_days(self) -> float | None:
        return self._median([m.first_value_days for m in self.members if m.first_value_days is not None])

    @property
    def median_activation_percent(self) -> float | None:
        return self._median([m.activation_percent for m in self.members if m.activation_percent is not None])

    @property
    def completion_percent(self) -> int | None:
        due = sum(m.due for m in self.members)
        return round(sum(m.done_of_due for m in self.members) * 100 / due) if due else None

    @property
    def on_time_percent(self) -> int | None:
        done = sum(m.done for m in self.members)
        return round(sum(m.on_time for m in self.members) * 100 / done) if done else None

    def count(self, schedule: str) -> int:
        return sum(1 for m in self.members if m.schedule == schedule)

    def csat(self, stage: Stage) -> float | None:
        scores = [s for m in self.members for s in m.scores.get(stage.value, [])]
        return round(statistics.mean(scores), 1) if scores else None

    def missing(self, target: str) -> list[str]:
        return sorted(m.name for m in self.members if getattr(m, f"misses_{target}"))

    def as_row(self) -> dict[str, Any]:
        """The group as one flat row (CSV and JSON alike)."""
        row: dict[str, Any] = {
            "group": self.key,
            "onboardings": len(self.members),
            "median_days_to_first_value": self.median_first_value_days,
            "first_value_missed": "; ".join(self.missing("first_value")),
            "median_activation_percent": self.median_activation_percent,
            "activation_missed": "; ".join(self.missing("activation")),
            "completion_percent": self.completion_percent,
            "completion_target_percent": COMPLETION_TARGET_PERCENT,
            "completion_missed": "; ".join(self.missing("completion")),
            "on_time_percent": self.on_time_percent,
            "on_track": self.count("on_track"),
            "at_risk": self.count("at_risk"),
            "behind": self.count("behind"),
            "live": self.count("live"),
        }
        for stage in RATED:
            row[f"csat_{stage.value}"] = self.csat(stage)
        return row


def numbers(
    engine: Engine,
    now: datetime,
    playbooks: Mapping[str, Playbook],
    *,
    since: date | None = None,
    only: Iterable[int] | None = None,
) -> list[Numbers]:
    """Every onboarding signed on or after `since` (cancelled ones left out), oldest first; of the
    onboardings `only` names, when given."""
    with session_scope(engine) as session:
        query = select(Onboarding.id).where(col(Onboarding.status) != OnboardingStatus.CANCELLED.value)
        if since is not None:
            query = query.where(Onboarding.contract_signed_on >= since)
        if only is not None:
            query = query.where(col(Onboarding.id).in_(sorted(set(only))))
        ids = list(session.exec(query.order_by(col(Onboarding.contract_signed_on), col(Onboarding.id))))
        if not ids:
            return []
        scores: dict[int, dict[str, list[int]]] = {}
        for r in ratings.ratings_of(session, ids):
            scores.setdefault(r.onboarding_id, {}).setdefault(r.stage, []).append(r.score)
        records = load_many(session, ids)
        usage = usage_by_onboarding(session, ids)
        adoption = latest_adoption(session, ids)
        return [
            _numbers_of(summary_from(records[i], now, playbooks, usage[i], adoption.get(i)), scores.get(i, {}))
            for i in ids
            if i in records
        ]


def _numbers_of(summary: Any, scores: dict[str, list[int]]) -> Numbers:
    record, s = summary.record, summary.settings
    ob = record.onboarding
    age = (summary.today - ob.contract_signed_on).days
    first = summary.first_value_days
    activation = summary.activation
    csm = record.person(Role.IMPLEMENTATION_CSM)
    rates = summary.rates
    completion = rates.done_of_due * 100 / rates.due if rates.due else None
    return Numbers(
        name=ob.customer_name,
        tier=ob.tier,
        playbook=ob.playbook_key,
        csm=csm.name if csm else "",
        schedule=ob.schedule or "",
        first_value_days=first,
        activation_percent=activation.percent if activation else None,
        due=rates.due,
        done_of_due=rates.done_of_due,
        done=rates.done,
        on_time=rates.on_time,
        scores=scores,
        misses_first_value=(first > s.first_value_target_days) if first is not None
        else age > s.first_value_target_days,
        misses_activation=age >= s.activation_target_days
        and (activation is None or activation.percent < s.activation_target_percent),
        misses_completion=completion is not None and completion < COMPLETION_TARGET_PERCENT,
        onboarding_id=record.id,
        stage=ob.stage,
        status=ob.status,
        shared_channel_id=ob.shared_channel_id,
    )  # fmt: skip


def grouped(found: list[Numbers], by: By) -> list[Group]:
    groups: dict[str, Group] = {}
    for n in found:
        key = {By.ALL: "all", By.TIER: f"level {n.tier}", By.CSM: n.csm or "(no CSM)", By.PLAYBOOK: n.playbook}[by]
        groups.setdefault(key, Group(key)).members.append(n)
    return [groups[k] for k in sorted(groups)]
