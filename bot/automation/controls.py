"""What people do to the bot's automated posts: snooze a reason to speak, pick up an escalation,
post a sign-off reminder in the shared channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.automation.snooze import Refused, said_until
from bot.core.calendar import today_in
from bot.core.domain import Act, MilestoneStatus, Role, Side
from bot.core.effects import CardKind
from bot.core.notices import MILESTONE_SNOOZES, SNOOZABLE, Audience, Notice, Rule
from bot.core.payloads import BadPayload, NoticeRef
from bot.milestones import permissions
from bot.milestones.permissions import Standing
from bot.milestones.rules import Actor
from store import audit, outbox, snoozes
from store.activity import record_click
from store.db import session_scope
from store.onboardings import OnboardingRecord, load
from store.queries import cards_of

UNREADABLE = "I couldn't read that control: the message may be out of date. Nothing was changed."
GONE = "This onboarding no longer exists."
VENDOR_ONLY = "Only the vendor's team can pick up an escalation."

# Given the onboarding's timezone and now, until when to stay quiet (raises Refused or BadPayload).
UntilOf = Callable[[str, datetime], datetime]


def _reason_named(ref: NoticeRef) -> str:
    return f"{ref.rule} on {ref.subject}" if ref.subject else f"{ref.rule} on the whole onboarding"


def _snooze_refusal(record: OnboardingRecord, ref: NoticeRef, actor: Actor) -> str | None:
    if ref.rule not in SNOOZABLE:
        return UNREADABLE  # not a reason any post offers to snooze
    if problem := permissions.channel_problem(record, actor):
        return problem
    about = ref.subject if ref.rule in MILESTONE_SNOOZES else ""
    milestone = next((m for m in record.milestones if m.key == about), None) if about else None
    owner_id = milestone.customer_owner_id if milestone is not None else None
    who = permissions.standing_of(record, actor, owner_id)
    if who is Standing.VENDOR_TEAM or (who is Standing.OWNER and milestone is not None):
        return None
    if who not in (Standing.CUSTOMER, Standing.OWNER):
        return permissions.refusal(Act.SNOOZE, who)
    owner = record.person_by_id(owner_id)
    if owner is not None and owner.slack_user_id:
        return f"This is <@{owner.slack_user_id}>'s milestone: only they or the vendor's team can snooze it."
    return "Only the vendor's team can snooze this."


def snooze(engine: Engine, ref: NoticeRef, until_of: UntilOf, actor: Actor, *, now: datetime) -> str:
    """Keep a reason quiet until the chosen moment; the answer for the person."""
    with session_scope(engine) as session:
        record = load(session, ref.onboarding_id)
        if record is None:
            return GONE
        ob = record.onboarding
        if refusal := _snooze_refusal(record, ref, actor):
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
            actor=actor.user_id, actor_side=actor.side_value, field="until", reason=_reason_named(ref),
            old=before.isoformat() if before else None, new=until.isoformat(), at=now,
        )  # fmt: skip
        record_click(session, onboarding_id=ob.id, slack_user_id=actor.user_id, side=actor.side_value, at=now)
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
        record = load(session, ref.onboarding_id)
        if record is None:
            return PickedUp(GONE, None)
        if refused := permissions.check(record, actor, Act.PICK_UP):
            return PickedUp(refused, None)
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


@dataclass(frozen=True)
class Reminded:
    answer: str
    claimed: bool  # a reminder was written to the outbox: deliver it now


def remind_publicly(engine: Engine, ref: NoticeRef, actor: Actor, *, now: datetime) -> Reminded:
    """The CSM's choice, from the sign-off note: remind the sponsor in the shared channel, once a day."""
    if ref.rule not in (Rule.DUE_SOON, Rule.OVERDUE) or not ref.subject:
        return Reminded(UNREADABLE, False)
    with session_scope(engine) as session:
        record = load(session, ref.onboarding_id)
        if record is None:
            return Reminded(GONE, False)
        if refused := permissions.check(record, actor, Act.REMIND_PUBLICLY):
            return Reminded(refused, False)
        ob = record.onboarding
        milestone = next((m for m in record.milestones if m.key == ref.subject), None)
        if milestone is None:
            return Reminded(UNREADABLE, False)
        if milestone.status == MilestoneStatus.DONE or ob.sponsor_signed_at:
            return Reminded("It's signed off already, so there is nothing to remind anyone of.", False)
        if not ob.shared_channel_id:
            return Reminded("This onboarding has no shared channel to post in.", False)
        sponsor = record.person_by_id(milestone.customer_owner_id) or record.person(Role.EXECUTIVE_SPONSOR)
        card = next((c for c in cards_of(session, [ob.id]) if c.kind == CardKind.SIGNOFF and c.ts), None)
        facts: dict[str, object] = {"customer_name": ob.customer_name}
        if sponsor is not None:
            facts["sponsor"] = f"<@{sponsor.slack_user_id}>" if sponsor.slack_user_id else sponsor.name
            facts["addressed"] = facts["sponsor"]
        if card is not None:
            facts |= {"card_channel": card.channel_id, "card_ts": card.ts}
        notice = Notice(
            Rule.SIGNOFF_REMINDER, ob.id, milestone.key, today_in(ob.timezone, now).isoformat(),
            Audience.SHARED, ob.shared_channel_id, ob.shared_channel_id, not_before=now, urgent=True,
            why=f"<@{actor.user_id}> asked for a sign-off reminder in the shared channel", facts=facts,
        )  # fmt: skip
        if not outbox.claim(session, [notice]):
            return Reminded("A reminder went to the shared channel today already: one a day is plenty.", False)
        audit.record(
            session, onboarding_id=ob.id, entity="milestone", entity_id=milestone.id, action="signoff_reminded",
            actor=actor.user_id, actor_side=actor.side_value, field="shared_channel", new=ob.shared_channel_id, at=now,
        )  # fmt: skip
        record_click(session, onboarding_id=ob.id, slack_user_id=actor.user_id, side=actor.side_value, at=now)
    return Reminded(f"I'm posting the reminder in <#{ob.shared_channel_id}> now.", True)
