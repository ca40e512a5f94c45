"""The handoff to the ongoing CSM: what the written handoff is drawn from, storing it, and its acceptance.

`facts_for` gathers, from the store, what the written handoff says (messages.ongoing renders it for the
CSM to edit). `hand_over` stores the handoff in one transaction, audited: the ongoing CSM as a person
of the onboarding (role ongoing_csm), the meeting, the renewal date, the text as the CSM edited it, and
the vendor-side ownership of every open milestone the implementation CSM held moved to them. From then
on the rules address the ongoing CSM where they addressed the CSM. `accept` is the ongoing CSM's alone:
it marks the adoption stage's handoff milestone done, then the onboarding completes through the usual
completion (bot.milestones.stage_moves) once adoption's other criteria are met.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.core.domain import Act, MilestoneStatus, OnboardingStatus, Role, Side, Stage
from bot.core.effects import GONE, CardKind, Changed, Event, History, Kind, Line, Outcome
from bot.core.ids import Field
from bot.core.text import problem
from bot.milestones import permissions
from bot.milestones.rules import Actor
from bot.milestones.stage_moves import complete_onboarding
from store import account_handoffs, audit
from store.db import session_scope
from store.models import AccountHandoff, Milestone, Person
from store.onboardings import OnboardingRecord, load

HANDOFF_MILESTONE = "handoff_done"
WRITTEN_MAX = 3000  # one multiline input of a modal
EXPANSION_MAX = 1000
LOW_SCORE = 2


@dataclass
class HandoffFacts:
    """What the written handoff is drawn from, read from the store."""

    record: OnboardingRecord
    renewal_on: date
    ongoing_user_id: str | None
    escalations: list[Any] = field(default_factory=list)
    health: list[Any] = field(default_factory=list)
    low_ratings: list[Any] = field(default_factory=list)
    stored: AccountHandoff | None = None


def default_renewal(contract_signed_on: date) -> date:
    """A year after the contract was signed (the 29th of February falls on the 28th)."""
    try:
        return contract_signed_on.replace(year=contract_signed_on.year + 1)
    except ValueError:
        return contract_signed_on.replace(year=contract_signed_on.year + 1, day=28)


def facts_for(engine: Engine, onboarding_id: int) -> HandoffFacts | None:
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return None
        stored = account_handoffs.handoff_of(session, onboarding_id)
        named = record.person(Role.ONGOING_CSM)
        return HandoffFacts(
            record=record,
            renewal_on=stored.renewal_on if stored else default_renewal(record.onboarding.contract_signed_on),
            ongoing_user_id=(stored.ongoing_csm_user_id if stored else None)
            or (named.slack_user_id if named else None),
            escalations=account_handoffs.escalations_of(session, onboarding_id),
            health=account_handoffs.health_history(session, onboarding_id),
            low_ratings=account_handoffs.low_ratings(session, onboarding_id, at_most=LOW_SCORE),
            stored=stored,
        )


@dataclass(frozen=True)
class HandOver:
    """The handoff as the CSM submitted it (the meeting already in UTC)."""

    ongoing_user_id: str
    ongoing_name: str
    meeting_at: datetime
    renewal_on: date
    expansion: str
    written: str


def form_problems(
    *, written: str, expansion: str, meeting_at: datetime | None, renewal_on: date | None, now: datetime
) -> dict[str, str]:
    """What is wrong with the form's inputs, keyed by the form's block ids."""
    errors: dict[str, str] = {}
    if not written:
        errors[Field.WRITTEN_HANDOFF] = "Write the handoff (the draft is prefilled from the onboarding)."
    elif wrong := problem(written, WRITTEN_MAX, multiline=True):
        errors[Field.WRITTEN_HANDOFF] = wrong
    if expansion and (wrong := problem(expansion, EXPANSION_MAX, multiline=True)):
        errors[Field.EXPANSION] = wrong
    if meeting_at is None:
        errors[Field.HANDOFF_MEETING_DAY] = "Pick the day and the time of the handoff meeting."
    elif meeting_at < now:
        errors[Field.HANDOFF_MEETING_DAY] = "That moment has passed; pick a time still to come."
    if renewal_on is None:
        errors[Field.RENEWAL_ON] = "Pick the renewal date."
    return errors


def hand_over(engine: Engine, onboarding_id: int, actor: Actor, given: HandOver, *, now: datetime) -> Outcome:
    """Store the handoff, name the ongoing CSM and move them the open milestones the implementation CSM held."""
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, GONE)
        ob = record.onboarding
        if reason := permissions.check(record, actor, Act.HAND_OVER):
            return Outcome.refused(reason)
        if ob.status not in (OnboardingStatus.ACTIVE, OnboardingStatus.LIVE):
            return Outcome.refused("This onboarding is closed already; its account is with its ongoing CSM.")
        if account_handoffs.handoff_of(session, onboarding_id) is not None:
            return Outcome.refused(
                "The handoff is written already. The ongoing CSM accepts it from its post in the internal channel."
            )
        ongoing = record.person(Role.ONGOING_CSM)
        if ongoing is None:
            ongoing = Person(onboarding_id=ob.id, side=Side.VENDOR.value, role=Role.ONGOING_CSM.value,
                             name=given.ongoing_name, slack_user_id=given.ongoing_user_id, created_at=now)  # fmt: skip
            session.add(ongoing)
            session.flush()
            audit.record(session, onboarding_id=ob.id, entity="person", entity_id=ongoing.id, action="added",
                         field=Role.ONGOING_CSM.value, new=given.ongoing_user_id, actor=actor.user_id,
                         actor_side=actor.side_value, at=now)  # fmt: skip
        elif ongoing.slack_user_id != given.ongoing_user_id:
            before = ongoing.slack_user_id
            ongoing.slack_user_id, ongoing.name = given.ongoing_user_id, given.ongoing_name
            session.add(ongoing)
            audit.record(session, onboarding_id=ob.id, entity="person", entity_id=ongoing.id, action="changed",
                         field=Role.ONGOING_CSM.value, old=before, new=given.ongoing_user_id, actor=actor.user_id,
                         actor_side=actor.side_value, at=now)  # fmt: skip
        implementation = record.person(Role.IMPLEMENTATION_CSM)
        moved = [
            m
            for m in record.milestones
            if m.status != MilestoneStatus.DONE
            and m.vendor_owner_id != ongoing.id
            and (
                (implementation is not None and m.vendor_owner_id == implementation.id)
                or (m.vendor_owner_id is None and m.vendor_owner_role == Role.ONGOING_CSM)
            )
        ]
        if moved:
            session.execute(
                update(Milestone)
                .where(col(Milestone.id).in_([m.id for m in moved]))
                .values(vendor_owner_id=ongoing.id, version=Milestone.version + 1)
                .execution_options(synchronize_session=False)
            )
        for m in moved:
            audit.record(session, onboarding_id=ob.id, entity="milestone", entity_id=m.id, action="reassigned",
                         field="vendor_owner_id", old=m.vendor_owner_id, new=ongoing.id, reason="handed over",
                         actor=actor.user_id, actor_side=actor.side_value, at=now)  # fmt: skip
        stored = AccountHandoff(onboarding_id=ob.id, ongoing_csm_user_id=given.ongoing_user_id,
                                meeting_at=given.meeting_at, renewal_on=given.renewal_on, expansion=given.expansion,
                                written=given.written, written_by=actor.user_id, written_at=now)  # fmt: skip
        session.add(stored)
        audit.record(session, onboarding_id=ob.id, entity="onboarding", entity_id=ob.id, action="handed_over",
                     field="ongoing_csm", new=given.ongoing_user_id, actor=actor.user_id,
                     actor_side=actor.side_value, at=now)  # fmt: skip
        history = History(Event.REASSIGNED, actor.user_id, title="the open milestones", names=(given.ongoing_name,))
        lines = [Line(CardKind.STAGE, Stage.ADOPTION.value, history)] if moved else []
        return Outcome(Kind.APPLIED, changed=Changed(ob.id, {m.stage for m in moved} | {Stage.ADOPTION.value}, lines))


@dataclass
class Accepted:
    """What the acceptance did: the handoff milestone's change, then the completion's (or why it waits)."""

    accepted: Outcome
    completion: Outcome | None = None


def accept(engine: Engine, onboarding_id: int, actor: Actor, *, now: datetime) -> Accepted:
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Accepted(Outcome(Kind.MISSING, GONE))
        ob = record.onboarding
        if reason := permissions.check(record, actor, Act.ACCEPT_HANDOFF):
            return Accepted(Outcome.refused(reason))
        stored = account_handoffs.handoff_of(session, onboarding_id)
        if stored is None:
            return Accepted(Outcome.refused("There is no handoff to accept yet: `/onboard handoff` writes it."))
        if actor.user_id != stored.ongoing_csm_user_id:
            return Accepted(
                Outcome.refused(
                    f"Only <@{stored.ongoing_csm_user_id}>, the ongoing CSM it names, accepts this handoff."
                )
            )
        if stored.accepted_at is not None:
            return Accepted(Outcome(Kind.STALE, "You accepted this handoff already."))
        stored.accepted_by, stored.accepted_at = actor.user_id, now
        session.add(stored)
        audit.record(session, onboarding_id=ob.id, entity="onboarding", entity_id=ob.id, action="handoff_accepted",
                     actor=actor.user_id, actor_side=actor.side_value, at=now)  # fmt: skip
        handoff = next((m for m in record.milestones if m.key == HANDOFF_MILESTONE), None)
        lines = []
        if handoff is not None and handoff.status != MilestoneStatus.DONE:
            session.execute(
                update(Milestone)
                .where(col(Milestone.id) == handoff.id)
                .values(status=MilestoneStatus.DONE.value, completed_at=now, version=Milestone.version + 1)
                .execution_options(synchronize_session=False)
            )
            audit.record(session, onboarding_id=ob.id, entity="milestone", entity_id=handoff.id, action="status",
                         field="status", old=handoff.status, new=MilestoneStatus.DONE.value, actor=actor.user_id,
                         actor_side=actor.side_value, at=now)  # fmt: skip
            lines.append(Line(CardKind.STAGE, handoff.stage, History(Event.DONE, actor.user_id, title=handoff.title)))
        stages = {handoff.stage} if handoff is not None else {Stage.ADOPTION.value}
        accepted = Outcome(Kind.APPLIED, changed=Changed(ob.id, stages, lines))
    if ob.stage != Stage.ADOPTION.value or ob.status != OnboardingStatus.LIVE:
        return Accepted(accepted)  # accepted early: the onboarding completes from its adoption card
    return Accepted(accepted, complete_onboarding(engine, onboarding_id, actor, now=now))


def champion_left(engine: Engine, channel_id: str, user_id: str, *, at: datetime) -> list[int]:
    """Record that the champion of a handed-off account left its shared channel (a renewal risk the
    account cadence flags to the ongoing CSM); returns the onboardings concerned."""
    with session_scope(engine) as session:
        ids = account_handoffs.handed_off_with_champion(session, channel_id, user_id)
        for onboarding_id in ids:
            audit.record(session, onboarding_id=onboarding_id, entity="person", action=account_handoffs.LEFT_CHANNEL,
                         field=Role.CHAMPION.value, old=user_id, actor=user_id, at=at)  # fmt: skip
    return ids
