"""What people do to the bot's automated posts: snooze a reason to speak, pick up an escalation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.automation.snooze import Refused, said_until
from bot.core.domain import Side
from bot.core.payloads import BadPayload, NoticeRef
from bot.milestones.rules import Actor
from store import audit, snoozes
from store.activity import record_click
from store.db import session_scope
from store.models import Onboarding

UNREADABLE = "I couldn't read that control: the message may be out of date. Nothing was changed."
GONE = "This onboarding no longer exists."
VENDOR_ONLY = "Only the vendor's team can pick up an escalation."

# Given the onboarding's timezone and now, until when to stay quiet (raises Refused or BadPayload).
UntilOf = Callable[[str, datetime], datetime]


def _reason_named(ref: NoticeRef) -> str:
    return f"{ref.rule} on {ref.subject}" if ref.subject else f"{ref.rule} on the whole onboarding"


def _snooze_refusal(session, ref: NoticeRef, actor: Actor) -> str | None:
    if actor.side is Side.VENDOR:
        return None
    owner = snoozes.customer_owner(session, ref.onboarding_id, ref.subject) if ref.subject else None
    if owner == actor.user_id:
        return None
    if owner:
        return f"This is <@{owner}>'s milestone: only they or the vendor's team can snooze it."
    return "Only the vendor's team can snooze this."


def snooze(engine: Engine, ref: NoticeRef, until_of: UntilOf, actor: Actor, *, now: datetime) -> str:
    """Keep a reason quiet until the chosen moment; the answer for the person."""
    with session_scope(engine) as session:
        ob = session.get(Onboarding, ref.onboarding_id)
        if ob is None:
            return GONE
        if refusal := _snooze_refusal(session, ref, actor):
            return refusal
        try:
            until = until_of(ob.timezone, now)
        except Refused as refused:
            return str(refused)
        except BadPayload:
            return UNREADABLE
        row, before = snoozes.snooze(session, ref, until=until, by=actor.user_id, now=now)
        audit.record(
            session, onboarding_id=ob.id, entity="snooze", entity_id=row.id, action="snoozed",
            actor=actor.user_id, actor_side=actor.side.value, field="until", reason=_reason_named(ref),
            old=before.isoformat() if before else None, new=until.isoformat(), at=now,
        )  # fmt: skip
        record_click(session, onboarding_id=ob.id, slack_user_id=actor.user_id, side=actor.side.value, at=now)
        return f"Snoozed until {said_until(until, ob.timezone)}: I'll stay quiet about this until then."


@dataclass(frozen=True)
class PickedUp:
    answer: str
    by: str | None  # who is on it now (None: nobody, the escalation is gone)


def pick_up(engine: Engine, ref: NoticeRef, actor: Actor, *, now: datetime) -> PickedUp:
    """ "I'm on it": the escalation stops climbing (vendor side only)."""
    if actor.side is not Side.VENDOR:
        return PickedUp(VENDOR_ONLY, None)
    with session_scope(engine) as session:
        if session.get(Onboarding, ref.onboarding_id) is None:
            return PickedUp(GONE, None)
        escalation = snoozes.open_escalation(session, ref)
        if escalation is None:
            return PickedUp("This escalation is already resolved: there is nothing to pick up.", None)
        if snoozes.acknowledge(session, escalation, by=actor.user_id, now=now):
            audit.record(
                session, onboarding_id=ref.onboarding_id, entity="escalation", entity_id=escalation.id,
                action="acknowledged", actor=actor.user_id, actor_side=Side.VENDOR.value,
                field="acknowledged_by", new=actor.user_id, at=now,
            )  # fmt: skip
            record_click(
                session, onboarding_id=ref.onboarding_id, slack_user_id=actor.user_id, side=Side.VENDOR.value, at=now
            )
            return PickedUp(
                "It's yours: I've noted that you are on it, and the escalation stops climbing.", actor.user_id
            )
        on_it = escalation.acknowledged_by
        return PickedUp("You're already on it." if on_it == actor.user_id else f"<@{on_it}> is already on it.", on_it)
