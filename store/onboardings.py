"""An onboarding read back whole (its people, stages and milestones), and counts about onboardings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.domain import OnboardingStatus, Role
from store.models import Milestone, Onboarding, Person, StageRecord


@dataclass
class OnboardingRecord:
    onboarding: Onboarding
    people: list[Person]
    stages: list[StageRecord]
    milestones: list[Milestone]

    @property
    def id(self) -> int:
        """The onboarding's id (a record read back from the store always has one)."""
        assert self.onboarding.id is not None
        return self.onboarding.id

    def person(self, role: Role) -> Person | None:
        return next((p for p in self.people if p.role == role.value), None)

    def person_by_id(self, person_id: int | None) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)


def load(session: Session, onboarding_id: int) -> OnboardingRecord | None:
    onboarding = session.get(Onboarding, onboarding_id)
    if onboarding is None:
        return None
    people = list(session.exec(select(Person).where(Person.onboarding_id == onboarding_id).order_by(col(Person.id))))
    stages = list(
        session.exec(
            select(StageRecord).where(StageRecord.onboarding_id == onboarding_id).order_by(col(StageRecord.position))
        )
    )
    milestones = list(
        session.exec(
            select(Milestone).where(Milestone.onboarding_id == onboarding_id).order_by(col(Milestone.position))
        )
    )
    return OnboardingRecord(onboarding, people, stages, milestones)


def load_many(session: Session, onboarding_ids: list[int]) -> dict[int, OnboardingRecord]:
    """Many onboardings read back whole in four statements, whatever their number (keyed by id)."""
    if not onboarding_ids:
        return {}
    ids = sorted(set(onboarding_ids))
    found = {
        ob.id: OnboardingRecord(ob, [], [], [])
        for ob in session.exec(select(Onboarding).where(col(Onboarding.id).in_(ids)))
    }
    for person in session.exec(select(Person).where(col(Person.onboarding_id).in_(ids)).order_by(col(Person.id))):
        found[person.onboarding_id].people.append(person)
    stages = select(StageRecord).where(col(StageRecord.onboarding_id).in_(ids))
    for stage in session.exec(stages.order_by(col(StageRecord.onboarding_id), col(StageRecord.position))):
        found[stage.onboarding_id].stages.append(stage)
    milestones = select(Milestone).where(col(Milestone.onboarding_id).in_(ids))
    for m in session.exec(milestones.order_by(col(Milestone.onboarding_id), col(Milestone.position))):
        found[m.onboarding_id].milestones.append(m)
    return found


def active_onboardings_for_csm(session: Session, slack_user_id: str) -> int:
    """How many active onboardings this person runs as implementation CSM."""
    query = (
        select(func.count(func.distinct(Onboarding.id)))
        .join(Person, col(Person.onboarding_id) == col(Onboarding.id))
        .where(
            Person.role == Role.IMPLEMENTATION_CSM.value,
            Person.slack_user_id == slack_user_id,
            Onboarding.status == OnboardingStatus.ACTIVE.value,
        )
    )
    return session.exec(query).one()
