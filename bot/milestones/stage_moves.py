"""Moving an onboarding on to its next stage, completing it after adoption, and the go-live sign-off.

A stage moves on only when its exit criteria are met (bot.milestones.stages); a refusal names each
milestone holding it and what it needs. Go-live is signed off by the named executive sponsor (nobody
may sign for them) once the stage's other criteria are met, and countersigned by the implementation
CSM; the adoption stage, the last, completes the onboarding (handed to the ongoing CSM). Each is a compare-and-set on the onboarding, audited; the result says what to show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.core.calendar import today_in
from bot.core.domain import Act, MilestoneStatus, OnboardingStatus, Role, Side, Stage, StageStatus
from bot.core.effects import GONE, CardKind, Changed, Event, History, Kind, Line, Outcome
from bot.milestones import permissions
from bot.milestones.rules import Actor
from bot.milestones.stages import holds, next_stage, signoff_waits_for, unmet
from bot.planning.forecast import Schedule
from bot.planning.playbook import Playbook
from store import audit
from store.activity import record_activity
from store.db import session_scope
from store.models import Milestone, Onboarding
from store.onboardings import OnboardingRecord, load

MOVED_ON = "The project has already moved on from this stage."


class Signer(StrEnum):
    SPONSOR = "sponsor"
    CSM = "csm"


def advance_stage(
    engine: Engine,
    onboarding_id: int,
    from_stage: Stage,
    actor: Actor,
    *,
    now: datetime,
    playbooks: dict[str, Playbook] | None = None,
) -> Outcome:
    """Move the onboarding on from `from_stage` when its exit criteria are met (vendor side only)."""
    if actor.side is not Side.VENDOR:
        return Outcome.refused("Only the vendor's team moves the project to the next stage.")
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, GONE)
        ob = record.onboarding
        if reason := permissions.check(record, actor, Act.ADVANCE_STAGE):
            return Outcome.refused(reason)
        if ob.stage != from_stage.value:
            return Outcome(Kind.STALE, MOVED_ON, Changed(record.id, {from_stage.value}))
        following = next_stage(from_stage)
        if following is None:
            return Outcome.refused("This is the last stage: use *Complete onboarding* on its card once it is done.")
        if refused := _unfinished(record, from_stage, _go_live_key(record, playbooks)):
            return refused
        moved = session.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id, Onboarding.stage == from_stage.value)  # type: ignore[arg-type]
            .values(stage=following.value, updated_at=now, version=Onboarding.version + 1)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return Outcome(Kind.STALE, MOVED_ON, Changed(record.id, {from_stage.value}))
        for st in record.stages:
            if st.key == from_stage.value:
                st.status, st.completed_at = StageStatus.DONE.value, now
            elif st.key == following.value:
                st.status, st.started_at = StageStatus.ACTIVE.value, now
            session.add(st)
        audit.record(
            session,
            onboarding_id=record.id,
            entity="stage",
            action="advanced",
            field="stage",
            old=from_stage.value,
            new=following.value,
            actor=actor.user_id,
            actor_side=actor.side_value,
            at=now,
        )
        history = History(Event.STAGE_ADVANCED, actor.user_id, stage=following)
        changed = Changed(
            ob.id, {from_stage.value}, [Line(CardKind.STAGE, from_stage.value, history)], moved=(from_stage, following)
        )
        return Outcome(Kind.APPLIED, changed=changed)


def _go_live_key(record: OnboardingRecord, playbooks: dict[str, Playbook] | None) -> str | None:
    playbook = (playbooks or {}).get(record.onboarding.playbook_key)
    return playbook.go_live_milestone.key if playbook else None


def _unfinished(record: OnboardingRecord, stage: Stage, go_live_key: str | None = None) -> Outcome | None:
    """The refusal naming what is still open of `stage` (and each milestone holding it), or None."""
    missing = unmet(record, stage)
    if not missing:
        return None
    lines = "\n".join(
        f"• {c.text}"
        + (
            " (waiting for the customer to confirm)"
            if c.awaiting_customer
            else " (the customer confirms this)"
            if c.client_verified
            else ""
        )
        for c in missing
    )
    return Outcome(
        Kind.REFUSED,
        f"{stage.label} isn't finished yet. Still to do:\n{lines}",
        holds=holds(record, stage, go_live_key),
    )


def complete_onboarding(engine: Engine, onboarding_id: int, actor: Actor, *, now: datetime) -> Outcome:
    """Close the onboarding once the adoption stage's exit criteria are met (vendor side only)."""
    adoption = Stage.ADOPTION
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, GONE)
        ob = record.onboarding
        if reason := permissions.check(record, actor, Act.COMPLETE):
            return Outcome.refused(reason)
        if ob.status == OnboardingStatus.HANDED_OFF:
            return Outcome(Kind.STALE, "This onboarding is already complete.", Changed(record.id, {adoption.value}))
        if ob.stage != adoption.value or ob.status != OnboardingStatus.LIVE:
            return Outcome.refused(
                "The onboarding completes from the adoption stage, after the go-live sign-off. "
                "Move it on from its current stage first."
            )
        if refused := _unfinished(record, adoption):
            return refused
        closed = session.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id, Onboarding.version == ob.version)  # type: ignore[arg-type]
            .values(status=OnboardingStatus.HANDED_OFF.value, updated_at=now, version=Onboarding.version + 1)
            .execution_options(synchronize_session=False)
        )
        if closed.rowcount != 1:  # type: ignore[attr-defined]
            return Outcome(
                Kind.STALE, "This changed meanwhile; here is the current card.", Changed(record.id, {adoption.value})
            )
        for st in record.stages:
            if st.key == adoption.value:
                st.status, st.completed_at = StageStatus.DONE.value, now
                session.add(st)
        audit.record(
            session,
            onboarding_id=record.id,
            entity="onboarding",
            entity_id=ob.id,
            action="completed",
            field="status",
            old=ob.status,
            new=OnboardingStatus.HANDED_OFF.value,
            actor=actor.user_id,
            actor_side=actor.side_value,
            at=now,
        )
        record_activity(
            session, onboarding_id=record.id, slack_user_id=actor.user_id, side=actor.side_value, kind="click", at=now
        )
        history = History(Event.COMPLETED, actor.user_id)
        changed = Changed(ob.id, {adoption.value}, [Line(CardKind.STAGE, adoption.value, history)], completed=True)
        return Outcome(Kind.APPLIED, changed=changed)


def sign_off(
    engine: Engine, onboarding_id: int, actor: Actor, signer: Signer, *, now: datetime, playbooks: dict[str, Playbook]
) -> Outcome:
    """The sponsor signs off go-live; then the implementation CSM countersigns."""
    go_live = Stage.GO_LIVE.value
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, GONE)
        ob = record.onboarding
        act = Act.SIGN_OFF if signer is Signer.SPONSOR else Act.COUNTERSIGN
        if reason := permissions.check(record, actor, act):
            return Outcome.refused(reason)
        sponsor = record.person(Role.EXECUTIVE_SPONSOR)
        csm = record.person(Role.IMPLEMENTATION_CSM)
        if ob.stage != go_live:
            return Outcome.refused("Sign-off opens when the project reaches the go-live stage.")
        playbook = playbooks.get(ob.playbook_key)
        if signer is Signer.SPONSOR:
            if ob.sponsor_signed_at:
                return Outcome.refused(f"<@{ob.sponsor_signed_by}> already signed off.")
            waiting = signoff_waits_for(record, playbook.go_live_milestone.key if playbook else None)
            if waiting:
                lines = "\n".join(f"• {c.text}" for c in waiting)
                return Outcome(
                    Kind.STALE,
                    f"Sign-off opens once the go-live work it rests on is done. Still open:\n{lines}",
                    Changed(record.id, {go_live}),
                )
            if sponsor is None or not sponsor.slack_user_id or actor.user_id != sponsor.slack_user_id:
                return Outcome.refused("Only the executive sponsor named for this project can sign off go-live.")
            values = {"sponsor_signed_by": actor.user_id, "sponsor_signed_at": now}
            history = History(Event.SPONSOR_SIGNED, actor.user_id)
        else:
            if not ob.sponsor_signed_at:
                return Outcome.refused("The executive sponsor signs off first; then the CSM countersigns.")
            if ob.csm_countersigned_at:
                return Outcome.refused(f"<@{ob.csm_countersigned_by}> already countersigned.")
            if csm is None or actor.user_id != csm.slack_user_id:
                return Outcome.refused("Only the implementation CSM countersigns go-live.")
            live_on = today_in(ob.timezone, now)
            review = live_on + timedelta(days=30)
            values = {
                "csm_countersigned_by": actor.user_id,
                "csm_countersigned_at": now,
                "review_30d_on": review,
                "status": OnboardingStatus.LIVE.value,
                "went_live_on": live_on,
                "projected_go_live_on": live_on,
                "schedule": Schedule.LIVE.value,
            }
            history = History(Event.CSM_COUNTERSIGNED, actor.user_id, after=review)
        changed = session.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id, Onboarding.version == ob.version)  # type: ignore[arg-type]
            .values(**values, updated_at=now, version=ob.version + 1)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return Outcome(
                Kind.STALE, "This changed meanwhile; here is the current sign-off card.", Changed(record.id, {go_live})
            )
        for name, value in values.items():
            audit.record(
                session,
                onboarding_id=record.id,
                entity="onboarding",
                entity_id=ob.id,
                action=f"signoff_{signer.value}",
                field=name,
                new=value,
                actor=actor.user_id,
                actor_side=actor.side_value,
                at=now,
            )
        if signer is Signer.CSM and playbook:
            signed = next((m for m in record.milestones if m.key == playbook.go_live_milestone.key), None)
            if signed is not None and signed.status != MilestoneStatus.DONE:
                session.execute(
                    update(Milestone)
                    .where(col(Milestone.id) == signed.id)
                    .values(
                        status=MilestoneStatus.DONE.value,
                        completed_at=now,
                        confirmed_by=ob.sponsor_signed_by,
                        version=signed.version + 1,
                    )
                )
                audit.record(
                    session,
                    onboarding_id=record.id,
                    entity="milestone",
                    entity_id=signed.id,
                    action="done",
                    field="status",
                    old=signed.status,
                    new=MilestoneStatus.DONE.value,
                    reason="signed off by the sponsor and countersigned",
                    actor=actor.user_id,
                    actor_side=actor.side_value,
                    at=now,
                )
        record_activity(
            session, onboarding_id=record.id, slack_user_id=actor.user_id, side=actor.side_value, kind="click", at=now
        )
        return Outcome(Kind.APPLIED, changed=Changed(record.id, {go_live}, [Line(CardKind.SIGNOFF, "", history)]))
