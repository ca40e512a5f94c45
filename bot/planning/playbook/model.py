"""What a playbook is, once read: stages with exit criteria, and dated-by-offset milestones.

Every day number is in business days from the contract-signed date (day 0); a milestone occupies
its start and due days inclusive, so `start_day == due_day` is a one-day milestone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from bot.core.domain import ITDependency, Role, Stage, Tier, Track
from bot.planning.settings import RuleSettings

# (low, high) in business days; the field's usual ranges.
DEFAULT_IT_DURATIONS: Mapping[ITDependency, tuple[int, int]] = MappingProxyType(
    {
        ITDependency.SSO: (5, 10),
        ITDependency.CRM_INTEGRATION: (5, 15),
        ITDependency.DATA_MIGRATION: (10, 30),
        ITDependency.SECURITY_REVIEW: (10, 20),
    }
)


@dataclass(frozen=True)
class ExitCriterion:
    text: str
    client_verified: bool
    milestones: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageSpec:
    stage: Stage
    exit_criteria: tuple[ExitCriterion, ...]


@dataclass(frozen=True)
class PhaseSpec:
    """A rollout phase (pilot, department, ...) with its own completion criteria."""

    key: str
    name: str
    completion_criteria: tuple[ExitCriterion, ...]


@dataclass(frozen=True)
class MilestoneSpec:
    key: str
    title: str
    stage: Stage
    track: Track
    start_day: int
    # None only for an IT milestone whose length comes from the playbook's IT durations.
    due_day: int | None
    customer_owner: Role
    vendor_owner: Role
    client_verified: bool
    depends_on: tuple[str, ...] = ()
    requires_it: ITDependency | None = None
    first_value: bool = False
    go_live: bool = False
    # A key event the product reports (POST /api/usage) that completes this milestone on its own.
    completed_by_event: str | None = None

    def length_days(self, it_durations: Mapping[ITDependency, int]) -> int:
        """Business days the milestone occupies (at least 1)."""
        if self.due_day is None:
            assert self.requires_it is not None
            return it_durations[self.requires_it]
        return self.due_day - self.start_day + 1


@dataclass(frozen=True)
class Playbook:
    key: str
    name: str
    tiers: frozenset[Tier]
    length_days: int
    buffer_days: int
    it_durations: Mapping[ITDependency, tuple[int, int]]
    stages: tuple[StageSpec, ...]
    milestones: tuple[MilestoneSpec, ...]
    phases: tuple[PhaseSpec, ...] = ()
    description: str = ""
    rules: RuleSettings = field(default_factory=RuleSettings)  # the [rules] table over the defaults
    source: str = field(default="", compare=False)

    def milestone(self, key: str) -> MilestoneSpec:
        for spec in self.milestones:
            if spec.key == key:
                return spec
        raise KeyError(key)

    def stage(self, stage: Stage) -> StageSpec:
        for spec in self.stages:
            if spec.stage is stage:
                return spec
        raise KeyError(stage)

    @property
    def first_value_milestone(self) -> MilestoneSpec:
        return next(m for m in self.milestones if m.first_value)

    @property
    def go_live_milestone(self) -> MilestoneSpec:
        return next(m for m in self.milestones if m.go_live)

    def scoped(self, it_in_scope: Collection[ITDependency | str]) -> Playbook:
        """The playbook for one customer: milestones needing out-of-scope IT work are dropped.

        References to dropped milestones go too; a criterion left with no milestone after that was
        only about the dropped IT work, so it goes as well.
        """
        scope = {ITDependency(k) for k in it_in_scope}
        kept = tuple(m for m in self.milestones if m.requires_it is None or m.requires_it in scope)
        keys = {m.key for m in kept}
        milestones = tuple(replace(m, depends_on=tuple(d for d in m.depends_on if d in keys)) for m in kept)

        def criteria(items: tuple[ExitCriterion, ...]) -> tuple[ExitCriterion, ...]:
            out = []
            for c in items:
                refs = tuple(k for k in c.milestones if k in keys)
                if c.milestones and not refs:
                    continue
                out.append(replace(c, milestones=refs))
            return tuple(out)

        return replace(
            self,
            milestones=milestones,
            stages=tuple(replace(s, exit_criteria=criteria(s.exit_criteria)) for s in self.stages),
            phases=tuple(replace(p, completion_criteria=criteria(p.completion_criteria)) for p in self.phases),
        )
