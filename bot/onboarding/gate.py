"""Overriding the readiness gate: vendor side only, with a reason, audited, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot.core.domain import Act, Side
from bot.core.effects import CardKind, Changed, Event, History, Kind, Line, Outcome
from bot.core.text import problem
from bot.milestones import permissions
from bot.milestones.rules import Actor
from store import audit
from store.db import session_scope
from store.onboardings import load

REASON_MIN = 10
REASON_MAX = 1000


def reason_problem(reason: str) -> str | None:
    if len(reason) < REASON_MIN:
        return f"Give a reason of at least {REASON_MIN} characters."
    return problem(reason, REASON_MAX, multiline=True)


def may_override(engine: Engine, onboarding_id: int, actor: Actor) -> tuple[str | None, str]:
    """(why not, or None; the customer's name) before the override form opens."""
    if actor.side is not Side.VENDOR:
        return "Only the vendor's team can do this.", ""
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return "This onboarding no longer exists.", ""
        if refused := permissions.check(record, actor, Act.OVERRIDE_GATE):
            return refused, ""
        ob = record.onboarding
        if ob.gate_override_at is not None:
            return f"<@{ob.gate_override_by}> already overrode the gate.", ob.customer_name
        return None, ob.customer_name


def override_gate(engine: Engine, onboarding_id: int, actor: Actor, reason: str, *, now: datetime) -> Outcome:
    if actor.side is not Side.VENDOR:
        return Outcome.refused("Only the vendor's team can do this.")
    if problem := reason_problem(reason):
        return Outcome.refused(problem)
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, "This onboarding no longer exists.")
        if refused := permissions.check(record, actor, Act.OVERRIDE_GATE):
            return Outcome.refused(refused)
        ob = record.onboarding
        if ob.gate_override_at is not None:
            return Outcome(
                Kind.STALE, f"<@{ob.gate_override_by}> already overrode the gate.", Changed(record.id, handoff=True)
            )
        ob.gate_override_at, ob.gate_override_by, ob.gate_override_reason = now, actor.user_id, reason
        ob.updated_at = now
        ob.version += 1
        session.add(ob)
        audit.record(
            session,
            onboarding_id=record.id,
            entity="onboarding",
            entity_id=ob.id,
            action="gate_overridden",
            actor=actor.user_id,
            actor_side=Side.VENDOR.value,
            reason=reason,
            at=now,
        )
        history = History(Event.GATE_OVERRIDDEN, actor.user_id, detail=reason)
        return Outcome(
            Kind.APPLIED, changed=Changed(record.id, handoff=True, lines=[Line(CardKind.HANDOFF, "", history)])
        )
