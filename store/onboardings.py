"""An onboarding read back whole (its people, stages and milestones), and counts about onboardings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core.domain import OnboardingStatus, Role
from store.models import Milestone, Onboarding, Person, PostedCard, StageRecord


@dataclass
class OnboardingRecord:
    onboarding: Onboarding
    people: list[Person]
    stages: list[StageRecord]
    milestones: list[Milestone]
    # The onboarding's revision this locked read was given (`load(lock=True)`): of two records of
    # one onboarding, the one with the higher stamp shows the later state, whichever process read
    # them. 0: read without the lock.
    stamp: int = 0
    cards: list[PostedCard] | None = None  # the cards posted so far, when read with them

    @property
    def posted(self) -> dict[tuple[str, str], PostedCard] | None:
        """The cards posted so far by (kind, subject), when read with them."""
        return None if self.cards is None else by_kind(self.cards)

    @property
    def id(self) -> int:
        """The onboarding's id (a record read back from the store always has one)."""
        assert self.onboarding.id is not None
        return self.onboarding.id

    def person(self, role: Role) -> Person | None:
        return next((p for p in self.people if p.role == role.value), None)

    def person_by_id(self, person_id: int | None) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)


def load(session: Session, onboarding_id: int, *, lock: bool = False, cards: bool = False) -> OnboardingRecord | None:
    """The onboarding read whole (with `cards`, its posted cards too). With `lock`, it is first locked
    for the rest of the transaction (its row on PostgreSQL, the database's write lock on SQLite):
    nobody else changes it until the commit, so what is read, with what this transaction writes, is
    how it stands once committed.

    The lock is taken by giving the onboarding its next revision, the record's stamp: locked reads
    of one onboarding follow one another, so their stamps grow in the order of the states they read.
    """
    if lock:
        lock_for_writing(session)
        bump = (
            update(Onboarding)
            .where(col(Onboarding.id) == onboarding_id)
            .values(revision=col(Onboarding.revision) + 1)
            .returning(Onboarding)  # the row as it now stands, in one statement
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        onboarding = session.execute(bump).scalar_one_or_none()
    else:
        onboarding = session.get(Onboarding, onboarding_id)
    if onboarding is None:
        return None
    stamp = onboarding.revision if lock else 0
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
    return OnboardingRecord(
        onboarding, people, stages, milestones, stamp, cards_of(session, onboarding_id) if cards else None
    )


def cards_of(session: Session, onboarding_id: int) -> list[PostedCard]:
    """Every card an onboarding has posted so far."""
    return list(session.exec(select(PostedCard).where(PostedCard.onboarding_id == onboarding_id)))


def by_kind(cards: list[PostedCard]) -> dict[tuple[str, str], PostedCard]:
    return {(c.kind, c.subject): c for c in cards}


def lock_for_writing(session: Session) -> None:
    """On SQLite, begin the transaction as a writer now (a row lock is taken by the read on PostgreSQL).

    The sqlite3 module begins a transaction only at the first write, so the reads before it would
    see the database as it was before another writer's commit."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
