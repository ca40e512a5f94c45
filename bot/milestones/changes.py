"""Applying a person's action to a milestone, and adding one to a live plan, safely.

Every change is a compare-and-set on the milestone's version: two clicks at once, a double click or
a click on an outdated card can never both apply; the loser is told it changed meanwhile. Each
applied change is audited and counted as activity of the person who made it. The result says what
to show (bot.core.effects); nothing here calls Slack.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from bot.core.calendar import today_in
from bot.core.domain import Act, MilestoneStatus, OnboardingStatus, Side, Stage, Track
from bot.core.effects import GONE, Ask, CardKind, Changed, Event, History, Kind, Line, Outcome
from bot.core.payloads import MilestoneRef
from bot.milestones import forecast, permissions
from bot.milestones.rules import Actor, Subject, refusal, transition
from bot.onboarding.readiness import kickoff_allowed
from bot.onboarding.start import readiness_of
from bot.planning.playbook import Playbook
from store import audit
from store.activity import record_activity
from store.db import session_scope
from store.models import Milestone, Person
from store.onboardings import OnboardingRecord, load

STALE = "This changed meanwhile, so I didn't apply your click. Here is the current card."
TITLE_MAX = 200


@dataclass(frozen=True)
class Change:
    act: Act
    reason: str | None = None
    unblocker: str | None = None
    since: date | None = None
    due_on: date | None = None
    customer_owner_id: int | None = None
    vendor_owner_id: int | None = None
    # Reassign: the vendor-side owner by Slack user (checked to be on the vendor's team) and name.
    vendor_user_id: str | None = None
    vendor_name: str | None = None


def _user_of(record: OnboardingRecord, person_id: int | None) -> str | None:
    person = record.person_by_id(person_id)
    return person.slack_user_id if person else None


def subject_of(record: OnboardingRecord, milestone: Milestone) -> Subject:
    """The milestone as the permission and transition rules see it."""
    return Subject(
        status=MilestoneStatus(milestone.status),
        client_verified=milestone.client_verified,
        customer_owner_user=_user_of(record, milestone.customer_owner_id),
        vendor_owner_user=_user_of(record, milestone.vendor_owner_id),
    )


def _stale(record: OnboardingRecord, stage: str) -> Outcome:
    return Outcome(Kind.STALE, STALE, Changed(record.id, {stage}))


def check(
    engine: Engine, ref: MilestoneRef, actor: Actor, act: Act
) -> tuple[Outcome | None, Milestone | None, OnboardingRecord | None]:
    """Before opening a form: would this act be allowed now? (refusal or None, milestone, record)."""
    with session_scope(engine) as session:
        record = load(session, ref.onboarding_id)
        milestone = next((m for m in record.milestones if m.id == ref.milestone_id), None) if record else None
        if record is None or milestone is None:
            return Outcome(Kind.MISSING, GONE), None, None
        subject = subject_of(record, milestone)
        if reason := permissions.check(record, actor, act, milestone.customer_owner_id) or refusal(act, subject):
            return Outcome.refused(reason), milestone, record
        if milestone.version != ref.version:
            return (
                Outcome(
                    Kind.STALE,
                    "This changed meanwhile; the card now shows where it stands.",
                    Changed(record.id, {milestone.stage}),
                ),
                milestone,
                record,
            )
        allowed = transition(act, actor, subject)
        refused = None if isinstance(allowed, MilestoneStatus) else Outcome.refused(allowed)
        return refused, milestone, record


def change(
    engine: Engine, ref: MilestoneRef, actor: Actor, what: Change, *, now: datetime, playbooks: dict[str, Playbook]
) -> Outcome:
    with session_scope(engine) as session:
        return apply_change(session, ref, actor, what, now=now, playbooks=playbooks)


def apply_change(
    session: Session,
    ref: MilestoneRef,
    actor: Actor,
    change: Change,
    *,
    now: datetime,
    playbooks: dict[str, Playbook],
) -> Outcome:
    record = load(session, ref.onboarding_id, lock=True, cards=True)
    milestone = next((m for m in record.milestones if m.id == ref.milestone_id), None) if record else None
    if record is None or milestone is None or record.onboarding.status == OnboardingStatus.CANCELLED:
        return Outcome(Kind.MISSING, GONE)
    subject = subject_of(record, milestone)
    if reason := permissions.check(record, actor, change.act, milestone.customer_owner_id) or refusal(
        change.act, subject
    ):
        return Outcome.refused(reason)
    if milestone.version != ref.version:
        return _stale(record, milestone.stage)
    new_status = transition(change.act, actor, subject)
    if not isinstance(new_status, MilestoneStatus):
        return Outcome.refused(new_status)

    playbook = playbooks.get(record.onboarding.playbook_key)
    signing_milestone = playbook is not None and milestone.key == playbook.go_live_milestone.key
    if signing_milestone and change.act in (Act.DONE, Act.CONFIRM):
        return Outcome.refused("Go-live is done when the sponsor signs off on the sign-off card.")
    if new_status is MilestoneStatus.DONE and milestone.stage == Stage.KICKOFF:
        readiness = readiness_of(session, record)
        if not kickoff_allowed(record.onboarding, readiness):
            missing = "; ".join(c.text for c in readiness.missing)
            return Outcome.refused(
                f"Kickoff can't be marked done until the readiness gate is met: {missing} "
                "(someone on the vendor's team can override the gate, with a reason, in the internal channel)."
            )
    if change.act is Act.REASSIGN:
        customers = {p.id for p in record.people if p.side == Side.CUSTOMER}
        if change.customer_owner_id is not None and change.customer_owner_id not in customers:
            return Outcome.refused("That person isn't one of this customer's people; pick one from the list.")
        change = _with_vendor_owner(session, record, milestone, change, now, actor)

    values, history = _changes(change, actor, milestone, new_status, record, now)
    values["version"] = milestone.version + 1
    result = session.execute(
        update(Milestone)
        .where(Milestone.id == milestone.id, Milestone.version == ref.version)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return _stale(record, milestone.stage)

    audit.record_many(
        session,
        [
            {
                "onboarding_id": record.id,
                "entity": "milestone",
                "entity_id": milestone.id,
                "action": change.act.value,
                "field": name,
                "old": getattr(milestone, name),
                "new": new,
                "reason": change.reason,
                "actor": actor.user_id,
                "actor_side": actor.side_value,
                "at": now,
            }
            for name, new in values.items()
            if name != "version" and getattr(milestone, name) != new
        ],
    )
    record_activity(
        session,
        onboarding_id=record.id,
        slack_user_id=actor.user_id,
        side=actor.side_value,
        kind="click",
        at=now,
    )
    written = forecast.refresh_changed(session, record.onboarding, record.milestones, milestone, values, playbooks, now)
    # The record, read under the onboarding's lock, becomes how it stands once this commits: the
    # publishing shows it without reading it again.
    for instance, columns in ((milestone, values), (record.onboarding, written)):
        for name, new in columns.items():
            set_committed_value(instance, name, new)
    changed = Changed(record.id, {milestone.stage}, [Line(CardKind.STAGE, milestone.stage, history)], state=record)
    if new_status is MilestoneStatus.AWAITING_CONFIRMATION and milestone.customer_owner_id is not None:
        changed.ask = Ask(milestone.stage, milestone.id, milestone.customer_owner_id)
    return Outcome(Kind.APPLIED, changed=changed)


def _with_vendor_owner(
    session: Session, record: OnboardingRecord, milestone: Milestone, change: Change, now: datetime, actor: Actor
) -> Change:
    """The reassignment with the vendor-side owner as a person of this onboarding (added when new to it)."""
    theirs = [p for p in record.people if p.side == Side.VENDOR and p.slack_user_id == change.vendor_user_id]
    role = milestone.vendor_owner_role
    vendor = next((p for p in theirs if p.role == role), None)
    if vendor is None and theirs and (not role or any(p.role == role for p in record.people)):
        vendor = theirs[0]  # someone already on the team, and the milestone's role is held by another
    if vendor is None and change.vendor_user_id:
        # Someone new to the onboarding, or to a role nobody holds yet (the ongoing CSM, often), takes it on.
        vendor = Person(
            onboarding_id=record.id,
            side=Side.VENDOR.value,
            role=milestone.vendor_owner_role or "technical_lead",
            name=change.vendor_name or change.vendor_user_id,
            slack_user_id=change.vendor_user_id,
            created_at=now,
        )
        session.add(vendor)
        session.flush()
        record.people.append(vendor)
        audit.record(
            session,
            onboarding_id=record.id,
            entity="person",
            entity_id=vendor.id,
            action="added",
            field=vendor.role,
            new=vendor.slack_user_id,
            reason=f"named as owner of {milestone.key}",
            actor=actor.user_id,
            actor_side=actor.side_value,
            at=now,
        )
    customer = change.customer_owner_id if change.customer_owner_id is not None else milestone.customer_owner_id
    return Change(Act.REASSIGN, customer_owner_id=customer, vendor_owner_id=vendor.id if vendor else None)


def _changes(
    change: Change, actor: Actor, m: Milestone, status: MilestoneStatus, record: OnboardingRecord, now: datetime
) -> tuple[dict[str, Any], History]:
    values: dict[str, Any] = {"status": status.value}
    act = change.act
    event = {
        Act.START: Event.STARTED,
        Act.CONFIRM: Event.CONFIRMED,
        Act.REJECT: Event.REJECTED,
        Act.BLOCK: Event.BLOCKED,
        Act.UNBLOCK: Event.UNBLOCKED,
        Act.CHANGE_DUE: Event.DUE_CHANGED,
        Act.REASSIGN: Event.REASSIGNED,
        Act.DONE: Event.DONE,
    }[act]
    history = History(event, actor.user_id, title=m.title, detail=change.reason or "")
    if act is Act.START:
        values["started_at"] = now
    elif act is Act.DONE:
        if status is MilestoneStatus.AWAITING_CONFIRMATION:
            return values, History(Event.AWAITING, actor.user_id, title=m.title)
        values["completed_at"] = now
        if m.client_verified:
            values["confirmed_by"] = actor.user_id
    elif act is Act.CONFIRM:
        values.update(completed_at=now, confirmed_by=actor.user_id)
    elif act is Act.BLOCK:
        values.update(
            blocked_reason=change.reason,
            blocked_unblocker=change.unblocker,
            blocked_since=change.since or today_in(record.onboarding.timezone, now),
        )
    elif act is Act.UNBLOCK:
        values.update(blocked_reason=None, blocked_unblocker=None, blocked_since=None)
    elif act is Act.CHANGE_DUE:
        values["due_on"] = change.due_on
        history = History(
            event, actor.user_id, title=m.title, detail=change.reason or "", before=m.due_on, after=change.due_on
        )
    elif act is Act.REASSIGN:
        vendor_id = change.vendor_owner_id if change.vendor_owner_id is not None else m.vendor_owner_id
        values.update(customer_owner_id=change.customer_owner_id, vendor_owner_id=vendor_id)
        names = tuple(p.name for p in record.people if p.id in (change.customer_owner_id, vendor_id))
        history = History(event, actor.user_id, title=m.title, names=names)
    return values, history


@dataclass(frozen=True)
class NewMilestone:
    onboarding_id: int
    title: str
    stage: str | None
    track: str | None
    start_on: date
    due_on: date
    customer_owner_role: str | None
    vendor_owner_role: str | None
    client_verified: bool


def add_milestone(engine: Engine, new: NewMilestone, actor: Actor, *, now: datetime) -> Outcome:
    """Add a milestone to a live plan, owned by whoever holds the chosen roles (its vendor team only)."""
    if actor.side is not Side.VENDOR:
        return Outcome.refused("Only the vendor's team can add milestones.")
    stage_value = new.stage if new.stage in Stage._value2member_map_ else None
    track_value = new.track if new.track in Track._value2member_map_ else Track.BUSINESS.value
    with session_scope(engine) as session:
        record = load(session, new.onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, "That onboarding no longer exists.")
        if reason := permissions.check(record, actor, Act.ADD_MILESTONE):
            return Outcome.refused(reason)
        ob = record.onboarding
        stage = stage_value or ob.stage
        by_role = {p.role: p for p in reversed(record.people)}
        count = session.exec(select(func.count()).select_from(Milestone).where(Milestone.onboarding_id == ob.id)).one()
        customer, vendor = by_role.get(new.customer_owner_role or ""), by_role.get(new.vendor_owner_role or "")
        m = Milestone(
            onboarding_id=record.id,
            stage=stage,
            key=f"added_{uuid.uuid4().hex[:8]}",
            title=new.title,
            track=track_value or Track.BUSINESS.value,
            position=count,
            customer_owner_role=new.customer_owner_role,
            vendor_owner_role=new.vendor_owner_role,
            customer_owner_id=customer.id if customer else None,
            vendor_owner_id=vendor.id if vendor else None,
            start_on=new.start_on,
            due_on=new.due_on,
            client_verified=new.client_verified,
        )
        session.add(m)
        session.flush()
        audit.record(
            session,
            onboarding_id=record.id,
            entity="milestone",
            entity_id=m.id,
            action="added",
            new=new.title,
            actor=actor.user_id,
            actor_side=Side.VENDOR.value,
            at=now,
        )
        history = History(Event.ADDED, actor.user_id, title=new.title, after=new.due_on)
        return Outcome(Kind.APPLIED, changed=Changed(record.id, {stage}, [Line(CardKind.STAGE, stage, history)]))
