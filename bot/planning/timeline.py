"""Dating a playbook for one customer, and checking that a go-live date is realistic.

Rules:
- Offsets are business days from the contract-signed date (day 0; see bot.core.calendar), weekends and
  the given holidays skipped. A milestone occupies its start and due days inclusive.
- A milestone starts on its playbook start day, or the business day after its last dependency is
  due, whichever is later. Plans are never compressed below the playbook's days.
- The go-live milestone additionally waits `buffer_days` after its last dependency: the earliest
  realistic go-live is the end of the critical path to go-live readiness plus the buffer (plus the
  sign-off day itself).
- IT milestones without their own due day last as long as the IT duration of their dependency.
  Planning uses the upper bound of the range (the field's durations are wide, and the buffer is for
  the unexpected, not for the expected long case); a known figure for one customer can be passed
  as an int. The lower bound gives a best case, reported alongside.
- A later target stretches the plan: work still happens as early as possible, while the go-live
  stage (and what follows, except IT work) moves so the sign-off lands on the target. An earlier target than the
  earliest realistic date is infeasible; the plan is then dated to the earliest realistic date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.core.calendar import (
    NO_HOLIDAYS,
    add_business_days,
    business_day_on_or_before,
    business_days_between,
)
from bot.core.domain import ITDependency, Role, Stage, Track
from bot.planning.playbook.model import Playbook

DurationInput = int | tuple[int, int]


@dataclass(frozen=True)
class Slot:
    """A milestone's place in offsets; `after` is its latest-finishing dependency."""

    start: int
    due: int
    after: str | None = None

    @property
    def days(self) -> int:
        return self.due - self.start + 1


@dataclass(frozen=True)
class PlannedMilestone:
    key: str
    title: str
    stage: Stage
    track: Track
    start: date
    due: date
    customer_owner: Role
    vendor_owner: Role
    client_verified: bool
    depends_on: tuple[str, ...]
    first_value: bool
    go_live: bool
    requires_it: ITDependency | None


@dataclass(frozen=True)
class Feasibility:
    feasible: bool
    target_go_live: date | None
    earliest_go_live: date
    best_case_go_live: date  # with the lower bound of every IT duration
    driving_track: Track
    driving_milestones: tuple[str, ...]  # the critical chain, first to go-live
    reason: str

    @property
    def it_on_critical_path(self) -> bool:
        return self.driving_track is Track.IT


@dataclass(frozen=True)
class Plan:
    contract_signed: date
    go_live: date
    it_in_scope: tuple[ITDependency, ...]
    milestones: tuple[PlannedMilestone, ...]
    feasibility: Feasibility


def it_planning_days(
    playbook: Playbook, overrides: Mapping[str, DurationInput] | None = None, best_case: bool = False
) -> dict[ITDependency, int]:
    """Business days to plan per IT dependency: the playbook's range, then per-customer overrides."""
    pick = 0 if best_case else 1
    days = {dep: span[pick] for dep, span in playbook.it_durations.items()}
    for name, value in (overrides or {}).items():
        dep = ITDependency(name)
        days[dep] = value if isinstance(value, int) else value[pick]
        if days[dep] < 1:
            raise ValueError(f"IT duration for {dep.value} must be at least 1 business day")
    return days


def schedule_offsets(
    playbook: Playbook, durations: Mapping[ITDependency, int], floors: Mapping[str, int] | None = None
) -> dict[str, Slot]:
    """Earliest slots for a playbook with no cycles; `floors` replaces playbook start days."""
    specs = {m.key: m for m in playbook.milestones}
    floors = floors or {}
    slots: dict[str, Slot] = {}

    def place(key: str) -> Slot:
        if key in slots:
            return slots[key]
        spec = specs[key]
        start = floors.get(key, spec.start_day)
        after = None
        for dep in spec.depends_on:
            slot = place(dep)
            if after is None or (slot.due, slot.days) > (slots[after].due, slots[after].days):
                after = dep
        if after is not None:
            wait = playbook.buffer_days if spec.go_live else 0
            start = max(start, slots[after].due + 1 + wait)
        slots[key] = Slot(start, start + spec.length_days(durations) - 1, after)
        return slots[key]

    for spec in playbook.milestones:
        place(spec.key)
    return slots


def plan_onboarding(
    playbook: Playbook,
    contract_signed: date,
    target_go_live: date | None = None,
    it_in_scope: Iterable[ITDependency | str] = (),
    it_durations: Mapping[str, DurationInput] | None = None,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> Plan:
    scope = tuple(dict.fromkeys(ITDependency(k) for k in it_in_scope))
    scoped = playbook.scoped(scope)
    durations = it_planning_days(playbook, it_durations)
    go_live = scoped.go_live_milestone
    asap = schedule_offsets(scoped, durations)
    best = schedule_offsets(scoped, it_planning_days(playbook, it_durations, best_case=True))
    earliest = asap[go_live.key].due

    def on(offset: int) -> date:
        return add_business_days(contract_signed, offset, holidays)

    target = earliest
    if target_go_live is not None:
        last_day = business_day_on_or_before(target_go_live, holidays)
        target = max(earliest, business_days_between(contract_signed, last_day, holidays))
    shift = target - earliest
    floors = {}
    for spec in scoped.milestones:
        if spec.go_live:
            floors[spec.key] = target - spec.length_days(durations) + 1
        elif spec.stage.position >= Stage.GO_LIVE.position and spec.requires_it is None:
            floors[spec.key] = spec.start_day + shift
    final = schedule_offsets(scoped, durations, floors)

    order = {m.key: i for i, m in enumerate(scoped.milestones)}
    planned = sorted(
        (
            PlannedMilestone(
                key=m.key,
                title=m.title,
                stage=m.stage,
                track=m.track,
                start=on(final[m.key].start),
                due=on(final[m.key].due),
                customer_owner=m.customer_owner,
                vendor_owner=m.vendor_owner,
                client_verified=m.client_verified,
                depends_on=m.depends_on,
                first_value=m.first_value,
                go_live=m.go_live,
                requires_it=m.requires_it,
            )
            for m in scoped.milestones
        ),
        key=lambda p: (p.start, p.due, order[p.key]),
    )
    feasibility = _feasibility(scoped, asap, on, target_go_live, on(best[go_live.key].due), holidays)
    return Plan(contract_signed, on(final[go_live.key].due), scope, tuple(planned), feasibility)


def check_feasibility(
    playbook: Playbook,
    contract_signed: date,
    target_go_live: date | None,
    it_in_scope: Iterable[ITDependency | str] = (),
    it_durations: Mapping[str, DurationInput] | None = None,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> Feasibility:
    return plan_onboarding(playbook, contract_signed, target_go_live, it_in_scope, it_durations, holidays).feasibility


def planned_milestones(
    playbook: Playbook,
    contract_signed: date,
    target_go_live: date | None = None,
    it_in_scope: Iterable[ITDependency | str] = (),
    it_durations: Mapping[str, DurationInput] | None = None,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> list[PlannedMilestone]:
    return list(
        plan_onboarding(playbook, contract_signed, target_go_live, it_in_scope, it_durations, holidays).milestones
    )


def _feasibility(
    scoped: Playbook,
    asap: Mapping[str, Slot],
    on: Callable[[int], date],
    target: date | None,
    best_case: date,
    holidays: Collection[date],
) -> Feasibility:
    go_live = scoped.go_live_milestone
    chain = [go_live.key]
    while (after := asap[chain[-1]].after) is not None:
        chain.append(after)
    chain.reverse()
    specs = {m.key: m for m in scoped.milestones}
    days: dict[Track, int] = defaultdict(int)
    last_seen: dict[Track, int] = {}
    for i, key in enumerate(chain):
        days[specs[key].track] += asap[key].days
        last_seen[specs[key].track] = i
    track = max(days, key=lambda t: (days[t], last_seen[t]))
    in_track = [i for i, k in enumerate(chain) if specs[k].track is track and k != go_live.key] or [len(chain) - 1]
    named = chain[max(in_track, key=lambda i: (asap[chain[i]].days, i))]
    earliest = on(asap[go_live.key].due)
    feasible = target is None or target >= earliest
    driver = f'the {_track(track)} track ("{specs[named].title}", due {_day(on(asap[named].due))})'
    reason = _reason(driver, track is Track.IT, scoped.buffer_days, earliest, target, best_case, holidays)
    return Feasibility(feasible, target, earliest, best_case, track, tuple(chain), reason)


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _track(track: Track) -> str:
    return "IT" if track is Track.IT else track.value


def _reason(
    driver: str,
    it_driven: bool,
    buffer_days: int,
    earliest: date,
    target: date | None,
    best_case: date,
    holidays: Collection[date],
) -> str:
    if target is None:
        return f"The earliest realistic go-live is {_day(earliest)}, driven by {driver}."
    if target < earliest:
        text = (
            f"Target go-live {_day(target)} is too early: {driver} leaves the earliest realistic go-live "
            f"at {_day(earliest)}, with {buffer_days} buffer days."
        )
        if best_case < earliest:
            if best_case <= target:
                text += f" It fits only if the IT work takes its shortest estimate (go-live {_day(best_case)})."
            else:
                text += f" Even with the shortest IT estimates, go-live is no earlier than {_day(best_case)}."
        return text
    slack = business_days_between(earliest, business_day_on_or_before(target, holidays), holidays)
    text = (
        f"Target go-live {_day(target)} is realistic: the earliest is {_day(earliest)} "
        f"({slack} business days of slack), driven by {driver}."
    )
    if it_driven:
        text += " The IT track is the critical path; it needs to start now and be checked weekly."
    return text
