"""Finding onboardings for the vendor's commands: by channel or name, and whose they are."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Milestone, Onboarding
from store.onboardings import OnboardingRecord, load
from store.queries import (
    failed_setups,
    is_manager,
    milestones_of,
    onboarding_in_channel,
    onboardings_named,
    onboardings_of,
)


@dataclass
class Found:
    record: OnboardingRecord | None = None
    several: list[str] = field(default_factory=list)  # the names, when a name matched more than one


def find(engine: Engine, *, channel_id: str, name: str) -> Found:
    """The onboarding of this channel, or the one whose customer name contains `name`."""
    with session_scope(engine) as session:
        found = onboarding_in_channel(session, channel_id) if not name else None
        if found is None and name:
            matches = onboardings_named(session, name)
            if len(matches) > 1:
                return Found(several=[m.customer_name for m in matches])
            found = matches[0] if matches else None
        return Found(load(session, found.id) if found is not None and found.id is not None else None)


@dataclass
class Portfolio:
    allowed: bool
    onboardings: list[Onboarding] = field(default_factory=list)
    milestones: dict[int, list[Milestone]] = field(default_factory=dict)


def portfolio(engine: Engine, user_id: str, *, everyone: bool) -> Portfolio:
    """The active and live onboardings with this person on the vendor team (everyone's, for a manager)."""
    with session_scope(engine) as session:
        if everyone and not is_manager(session, user_id):
            return Portfolio(False)
        rows = onboardings_of(session, None if everyone else user_id)
        return Portfolio(True, rows, milestones_of(session, [ob.id for ob in rows if ob.id is not None]))


def with_failed_setup(engine: Engine, *, most_failures: int) -> list[int]:
    """Running onboardings some of whose setup posts Slack refused, fewer than `most_failures` times so far."""
    with session_scope(engine) as session:
        return failed_setups(session, most_failures=most_failures)


def choices_for(engine: Engine, user_id: str, channel_id: str) -> tuple[int | None, list[tuple[int, str]]]:
    """(this channel's onboarding id, the person's onboardings as (id, name)) for the add-milestone form."""
    with session_scope(engine) as session:
        here = onboarding_in_channel(session, channel_id)
        mine = onboardings_of(session, user_id)
        return (here.id if here else None), [(ob.id, ob.customer_name) for ob in mine if ob.id is not None][:100]
