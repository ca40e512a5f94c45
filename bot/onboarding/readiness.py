"""The readiness gate before kickoff: a named project owner able to drive it, a realistic
timeline, and a CSM with room for one more account at this tier."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import TIER_ACCOUNT_RATIO, Role, Side, Tier
from store.models import Onboarding, Person


@dataclass(frozen=True)
class GateCheck:
    key: str
    ok: bool
    text: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[GateCheck, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def missing(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.ok]


def evaluate(onboarding: Onboarding, people: list[Person], csm_active_accounts: int) -> Readiness:
    """`csm_active_accounts` counts the CSM's active onboardings, this one included."""
    return Readiness((_project_owner(people), _timeline(onboarding), _capacity(onboarding, csm_active_accounts)))


def _project_owner(people: list[Person]) -> GateCheck:
    owner = next((p for p in people if p.side == Side.CUSTOMER and p.role == Role.PROJECT_OWNER), None)
    if owner is None:
        return GateCheck(
            "project_owner", False, "Name the customer's project owner: the person who drives this week to week."
        )
    lacking = [what for what, ok in (("capacity", owner.has_capacity), ("authority", owner.has_authority)) if not ok]
    if lacking:
        return GateCheck(
            "project_owner",
            False,
            f"Confirm that {owner.name}, the project owner, has the {' and '.join(lacking)} to drive this.",
        )
    return GateCheck("project_owner", True, f"Project owner: {owner.name}, with capacity and authority.")


def _timeline(onboarding: Onboarding) -> GateCheck:
    earliest = onboarding.earliest_go_live_on
    if earliest is not None and onboarding.target_go_live_on < earliest:
        return GateCheck(
            "timeline",
            False,
            f"Go-live on {onboarding.target_go_live_on:%a %d %b} is not realistic; "
            f"the earliest realistic date is {earliest:%a %d %b %Y}. Agree a new date with the customer.",
        )
    return GateCheck("timeline", True, f"Go-live on {onboarding.target_go_live_on:%a %d %b %Y} is realistic.")


def _capacity(onboarding: Onboarding, accounts: int) -> GateCheck:
    ratio = TIER_ACCOUNT_RATIO.get(Tier(onboarding.tier))
    if ratio is None:
        return GateCheck("capacity", True, "No account ratio applies at this service level.")
    if accounts > ratio:
        return GateCheck(
            "capacity",
            False,
            f"The CSM would carry {accounts} active onboardings; this level allows {ratio} per CSM. "
            "Rebalance before kickoff.",
        )
    return GateCheck("capacity", True, f"The CSM carries {accounts} of {ratio} accounts allowed at this level.")


def kickoff_allowed(onboarding: Onboarding, readiness: Readiness) -> bool:
    """Kickoff may be marked done when the gate passes, or a vendor-side user overrode it."""
    return readiness.ready or onboarding.gate_override_at is not None
