"""Applying a person's action to a milestone, a stage or the go-live sign-off, safely.

Every change is a compare-and-set on the milestone's version: two clicks at once, a double click or
a click on an outdated card can never both apply; the loser is told it changed meanwhile. Each
applied change is audited and counted as activity of the person who made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, OnboardingStatus, Role, Side, Stage, StageStatus
from bot.onboarding.start import readiness_of
from bot.milestones.rules import Act, Actor, Subject, refusal, transition
from bot.core.payloads import MilestoneRef
from bot.planning.playbook import Playbook
from bot.onboarding.readiness import kickoff_allowed
from bot.milestones.stages import next_stage, unmet
from store import audit
from store.activity import record_activity
from store.models import Milestone, Onboarding, Person
from store.onboardings import OnboardingRecord, load


class Kind(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"
    STALE = "stale"
    MISSING = "missing"


@dataclass
class Outcome:
    kind: Kind
    message: str = ""
    record: OnboardingRecord | None = None
    milestone: Milestone | None = None
    history: str = ""  # one line for the card's thread
    ask: Person | None = None  # who is asked to confirm, when a confirmation is now awaited
    stage_started: Stage | None = None

    @property
    def applied(self) -> bool:
        return self.kind is Kind.APPLIED


@dataclass(frozen=True)
class Change:
    act: Act
    reason: str | None = None
    unblocker: str | None = None
    since: date | None = None
    due_on: date | None = None
    customer_owner_id: int | None = None
    vendor_owner_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


GONE = "This onboarding or milestone no longer exists. It may have been removed; nothing was changed."
STALE = "This changed meanwhile, so I didn't apply your click. Here is the current card."


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


def apply_change(
    session: Session,
    ref: MilestoneRef,
    actor: Actor,
    change: Change,
    *,
    now: datetime,
    playbooks: dict[str, Playbook],
) -> Outcome:
    milestone = session.get(Milestone, ref.milestone_id)
    if milestone is None or milestone.onboarding_id != ref.onboarding_id:
        return Outcome(Kind.MISSING, GONE)
    record = load(session, ref.onboarding_id)
    if record is None or record.onboarding.status == OnboardingStatus.CANCELLED:
        return Outcome(Kind.MISSING, GONE)
    subject = subject_of(record, milestone)
    if reason := refusal(change.act, actor, subject):
        return Outcome(Kind.REFUSED, reason, record, milestone)
    if milestone.version != ref.version:
        return Outcome(Kind.STALE, STALE, record, milestone)
    new_status = transition(change.act, actor, subject)
    if not isinstance(new_status, MilestoneStatus):
        return Outcome(Kind.REFUSED, new_status, record, milestone)

    playbook = playbooks.get(record.onboarding.playbook_key)
    signing_milestone = playbook is not None and milestone.key == playbook.go_live_milestone.key
    if signing_milestone and change.act in (Act.DONE, Act.CONFIRM):
        return Outcome(Kind.REFUSED, "Go-live is done when the sponsor signs off on the sign-off card.", record, milestone)
    if new_status is MilestoneStatus.DONE and milestone.stage == Stage.KICKOFF:
        readiness = readiness_of(session, record)
        if not kickoff_allowed(record.onboarding, readiness):
            missing = "; ".join(c.text for c in readiness.missing)
            return Outcome(
                Kind.REFUSED,
                f"Kickoff can't be marked done until the readiness gate is met: {missing} "
                "(someone on the vendor's team can override the gate, with a reason, in the internal channel).",
                record,
                milestone,
            )

    values, history = _changes(change, actor, milestone, new_status, record, now)
    values["version"] = milestone.version + 1
    result = session.execute(
        update(Milestone)
        .where(Milestone.id == milestone.id, Milestone.version == ref.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        fresh = load(session, ref.onboarding_id)
        return Outcome(Kind.STALE, STALE, fresh, None)

    for name, new in values.items():
        old = getattr(milestone, name)
        if name != "version" and old != new:
            audit.record(session, onboarding_id=record.onboarding.id, entity="milestone", entity_id=milestone.id,
                         action=change.act.value, field=name, old=old, new=new,
                         reason=change.reason, actor=actor.user_id, actor_side=actor.side.value, at=now)
    record_activity(session, onboarding_id=record.onboarding.id, slack_user_id=actor.user_id,
                    side=actor.side.value, kind="click", at=now)
    session.execute(update(Onboarding).where(Onboarding.id == record.onboarding.id).values(updated_at=now))
    session.flush()
    session.expire_all()
    fresh = load(session, ref.onboarding_id)
    updated = next(m for m in fresh.milestones if m.id == milestone.id)
    ask = None
    if new_status is MilestoneStatus.AWAITING_CONFIRMATION:
        ask = fresh.person_by_id(updated.customer_owner_id)
    return Outcome(Kind.APPLIED, "", fresh, updated, history, ask)


def _changes(
    change: Change, actor: Actor, m: Milestone, status: MilestoneStatus, record: OnboardingRecord, now: datetime
) -> tuple[dict[str, Any], str]:
    who = f"<@{actor.user_id}>"
    values: dict[str, Any] = {"status": status.value}
    act = change.act
    if act is Act.START:
        values["started_at"] = now
        return values, f"{who} started *{m.title}*."
    if act is Act.DONE:
        if status is MilestoneStatus.AWAITING_CONFIRMATION:
            return values, f"{who} marked *{m.title}* done; it now waits for the customer's confirmation."
        values["completed_at"] = now
        if m.client_verified:
            values["confirmed_by"] = actor.user_id
        return values, f"{who} marked *{m.title}* done."
    if act is Act.CONFIRM:
        values.update(completed_at=now, confirmed_by=actor.user_id)
        return values, f"{who} confirmed *{m.title}*. :white_check_mark:"
    if act is Act.REJECT:
        return values, f"{who} sent *{m.title}* back to in progress: {change.reason}"
    if act is Act.BLOCK:
        values.update(blocked_reason=change.reason, blocked_unblocker=change.unblocker,
                      blocked_since=change.since or today_in(record.onboarding.timezone, now))
        return values, f"{who} marked *{m.title}* blocked: {change.reason}"
    if act is Act.UNBLOCK:
        values.update(blocked_reason=None, blocked_unblocker=None, blocked_since=None)
        return values, f"{who} unblocked *{m.title}*."
    if act is Act.CHANGE_DUE:
        values["due_on"] = change.due_on
        return values, f"{who} moved *{m.title}* from {m.due_on:%a %d %b} to {change.due_on:%a %d %b}: {change.reason}"
    if act is Act.REASSIGN:
        values.update(customer_owner_id=change.customer_owner_id, vendor_owner_id=change.vendor_owner_id)
        names = [p.name for p in record.people if p.id in (change.customer_owner_id, change.vendor_owner_id)]
        return values, f"{who} reassigned *{m.title}* to {' and '.join(names) or 'nobody'}."
    raise ValueError(act)


def advance_stage(
    session: Session, onboarding_id: int, from_stage: str, actor: Actor, *, now: datetime
) -> Outcome:
    """Move the onboarding on from `from_stage` when its exit criteria are met (vendor side only)."""
    record = load(session, onboarding_id)
    if record is None:
        return Outcome(Kind.MISSING, GONE)
    if actor.side is not Side.VENDOR:
        return Outcome(Kind.REFUSED, "Only the vendor's team moves the project to the next stage.", record)
    ob = record.onboarding
    if ob.stage != from_stage:
        return Outcome(Kind.STALE, "The project has already moved on from this stage.", record)
    stage = Stage(from_stage)
    following = next_stage(stage)
    if following is None:
        return Outcome(Kind.REFUSED, "This is the last stage.", record)
    missing = unmet(record, stage)
    if missing:
        lines = "\n".join(
            f"• {c.text}"
            + (" (waiting for the customer to confirm)" if c.awaiting_customer
               else " (the customer confirms this)" if c.client_verified else "")
            for c in missing
        )
        return Outcome(Kind.REFUSED, f"{stage.label} isn't finished yet. Still to do:\n{lines}", record)
    changed = session.execute(
        update(Onboarding)
        .where(Onboarding.id == ob.id, Onboarding.stage == from_stage)
        .values(stage=following.value, updated_at=now, version=Onboarding.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return Outcome(Kind.STALE, "The project has already moved on from this stage.", record)
    for st in record.stages:
        if st.key == from_stage:
            st.status, st.completed_at = StageStatus.DONE.value, now
        elif st.key == following.value:
            st.status, st.started_at = StageStatus.ACTIVE.value, now
        session.add(st)
    audit.record(session, onboarding_id=ob.id, entity="stage", action="advanced", field="stage", old=from_stage,
                 new=following.value, actor=actor.user_id, actor_side=actor.side.value, at=now)
    session.flush()
    session.expire_all()
    return Outcome(Kind.APPLIED, "", load(session, onboarding_id),
                   history=f"<@{actor.user_id}> moved the project on to *{following.label}*.", stage_started=following)


def sign_off(
    session: Session, onboarding_id: int, actor: Actor, role: str, *, now: datetime, playbooks: dict[str, Playbook]
) -> Outcome:
    """The sponsor signs off go-live (nobody may sign for them); the implementation CSM countersigns."""
    record = load(session, onboarding_id)
    if record is None:
        return Outcome(Kind.MISSING, GONE)
    ob = record.onboarding
    sponsor = record.person(Role.EXECUTIVE_SPONSOR)
    csm = record.person(Role.IMPLEMENTATION_CSM)
    if ob.stage != Stage.GO_LIVE:
        return Outcome(Kind.REFUSED, "Sign-off opens when the project reaches the go-live stage.", record)
    if role == "sponsor":
        if ob.sponsor_signed_at:
            return Outcome(Kind.REFUSED, f"<@{ob.sponsor_signed_by}> already signed off.", record)
        if sponsor is None or not sponsor.slack_user_id or actor.user_id != sponsor.slack_user_id:
            return Outcome(Kind.REFUSED, "Only the executive sponsor named for this project can sign off go-live.",
                           record)
        values = {"sponsor_signed_by": actor.user_id, "sponsor_signed_at": now}
        history = f"<@{actor.user_id}> signed off go-live. :tada:"
    else:
        if not ob.sponsor_signed_at:
            return Outcome(Kind.REFUSED, "The executive sponsor signs off first; then the CSM countersigns.", record)
        if ob.csm_countersigned_at:
            return Outcome(Kind.REFUSED, f"<@{ob.csm_countersigned_by}> already countersigned.", record)
        if csm is None or actor.user_id != csm.slack_user_id:
            return Outcome(Kind.REFUSED, "Only the implementation CSM countersigns go-live.", record)
        review = today_in(ob.timezone, now) + timedelta(days=30)
        values = {"csm_countersigned_by": actor.user_id, "csm_countersigned_at": now, "review_30d_on": review,
                  "status": OnboardingStatus.LIVE.value}
        history = f"<@{actor.user_id}> countersigned. We're live; the 30-day review is on {review:%a %d %b}."
    changed = session.execute(
        update(Onboarding)
        .where(Onboarding.id == ob.id, Onboarding.version == ob.version)
        .values(**values, updated_at=now, version=ob.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return Outcome(Kind.STALE, "This changed meanwhile; here is the current sign-off card.", record)
    for name, value in values.items():
        audit.record(session, onboarding_id=ob.id, entity="onboarding", entity_id=ob.id, action=f"signoff_{role}",
                     field=name, new=value, actor=actor.user_id, actor_side=actor.side.value, at=now)
    playbook = playbooks.get(ob.playbook_key)
    if role != "sponsor" and playbook:
        signed = next((m for m in record.milestones if m.key == playbook.go_live_milestone.key), None)
        if signed is not None and signed.status != MilestoneStatus.DONE:
            session.execute(
                update(Milestone).where(Milestone.id == signed.id).values(
                    status=MilestoneStatus.DONE.value, completed_at=now, confirmed_by=ob.sponsor_signed_by,
                    version=signed.version + 1)
            )
            audit.record(session, onboarding_id=ob.id, entity="milestone", entity_id=signed.id, action="done",
                         field="status", old=signed.status, new=MilestoneStatus.DONE.value,
                         reason="signed off by the sponsor and countersigned", actor=actor.user_id,
                         actor_side=actor.side.value, at=now)
    record_activity(session, onboarding_id=ob.id, slack_user_id=actor.user_id, side=actor.side.value,
                    kind="click", at=now)
    session.flush()
    session.expire_all()
    return Outcome(Kind.APPLIED, "", load(session, onboarding_id), history=history)
