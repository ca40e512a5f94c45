"""Milestone buttons and forms on the cards, on "My tasks" and on nudges.

Every click: ack, then one call into bot.milestones.changes, then the cards are rebuilt from the
store and updated in place, with a line in the card's thread. A refused, stale or orphaned click
gets an ephemeral answer and changes nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import publish as cards
from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Side
from bot.slack.forms import FormValues
from bot.core.ids import Action, Field, View
from bot.milestones.changes import GONE, Change, Kind, Outcome, apply_change, subject_of
from bot.milestones.rules import Act, Actor, refusal, transition
from bot.core.payloads import BadPayload, MilestoneRef
from bot.runtime.services import Services
from handlers.replies import ephemeral
from bot.slack.lookups import user_identities
from messages import cards as card_blocks
from messages import milestone_modals as forms
from store.db import session_scope
from store.models import Milestone, Person
from store.onboardings import load

log = logging.getLogger(__name__)

BUTTON_ACTS = {
    Action.MILESTONE_START: Act.START,
    Action.MILESTONE_DONE: Act.DONE,
    Action.MILESTONE_UNBLOCK: Act.UNBLOCK,
    Action.MILESTONE_CONFIRM: Act.CONFIRM,
}


def _now() -> datetime:
    return datetime.now(UTC)


class MilestoneClicks:
    def __init__(self, services: Services) -> None:
        self.services = services

    def actor(self, body: dict[str, Any]) -> Actor:
        user = body["user"]
        return Actor(user["id"], self.services.side_of(user.get("team_id")))

    def preflight(self, ref: MilestoneRef, actor: Actor, act: Act) -> tuple[str | None, Milestone | None, Any]:
        """Before opening a form: is this click going anywhere? (message, milestone, record)."""
        with session_scope(self.services.engine) as session:
            record = load(session, ref.onboarding_id)
            milestone = next((m for m in record.milestones if m.id == ref.milestone_id), None) if record else None
            if milestone is None:
                return GONE, None, None
            subject = subject_of(record, milestone)
            if reason := refusal(act, actor, subject):
                return reason, milestone, record
            if milestone.version != ref.version:
                self.after(Outcome(Kind.STALE, record=record, milestone=milestone), None)
                return "This changed meanwhile; the card now shows where it stands.", milestone, record
            outcome = transition(act, actor, subject)
            return (None if isinstance(outcome, MilestoneStatus) else outcome), milestone, record

    def run(self, ref: MilestoneRef, actor: Actor, change: Change, respond=None, from_ephemeral: bool = False) -> Outcome:
        with session_scope(self.services.engine) as session:
            outcome = apply_change(session, ref, actor, change, now=_now(), playbooks=self.services.playbooks)
        self.after(outcome, respond, from_ephemeral=from_ephemeral, actor=actor)
        return outcome

    def after(self, outcome: Outcome, respond, *, from_ephemeral: bool = False, actor: Actor | None = None) -> None:
        if outcome.kind in (Kind.MISSING, Kind.REFUSED):
            if respond:
                ephemeral(respond, outcome.message)
            return
        record, milestone = outcome.record, outcome.milestone
        stage = milestone.stage if milestone else record.onboarding.stage
        now = _now()
        cards.refresh(self.services, record, stages={stage}, now=now)
        if outcome.kind is Kind.STALE:
            if respond:
                ephemeral(respond, outcome.message)
            return
        card = cards.card_for_stage(self.services, record.onboarding.id, stage)
        cards.thread_line(self.services, card, outcome.history)
        if outcome.ask is not None and milestone is not None:
            mention = f"<@{outcome.ask.slack_user_id}>" if outcome.ask.slack_user_id else outcome.ask.name
            cards.thread_line(
                self.services,
                card,
                f"{mention}, could you confirm *{milestone.title}* is done? Use *Confirm* on the card, "
                "or *Not yet…* if something is still missing.",
            )
        if from_ephemeral and respond and actor is not None:
            today = today_in(record.onboarding.timezone, now)
            respond(replace_original=True, response_type="ephemeral", text="Your open milestones",
                    blocks=card_blocks.my_tasks(record, actor.user_id, today))


def _decode(value: str | None, respond) -> MilestoneRef | None:
    try:
        return MilestoneRef.decode(value)
    except BadPayload:
        ephemeral(respond, "That button no longer works. Use *My tasks* for a fresh one.")
        return None


def _isephemeral(body: dict[str, Any]) -> bool:
    return bool((body.get("container") or {}).get("is_ephemeral"))


def register(app: App, services: Services) -> None:
    clicks = MilestoneClicks(services)

    def simple(act: Act):
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
            ack()
            ref = _decode(action.get("value"), respond)
            if ref is not None:
                clicks.run(ref, clicks.actor(body), Change(act), respond, from_ephemeral=_isephemeral(body))

        return listener

    for action_id, act in BUTTON_ACTS.items():
        app.action(action_id)(simple(act))

    def open_form(act: Act, build, fallback=None):
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond, client: WebClient) -> None:
            ack()
            raw = action.get("value") or (action.get("selected_option") or {}).get("value", "").split("|", 1)[-1]
            ref = _decode(raw, respond)
            if ref is None:
                return
            actor = clicks.actor(body)
            problem, milestone, record = clicks.preflight(ref, actor, act)
            if problem:
                ephemeral(respond, problem)
                return
            try:
                client.views_open(trigger_id=body["trigger_id"], view=build(milestone, ref, record))
            except SlackApiError as exc:
                log.info("could not open the %s form: %s", act, exc.response.get("error"))
                if fallback is not None:
                    ephemeral(respond, "I couldn't open the form here.", fallback(ref))
                else:
                    ephemeral(respond, "I couldn't open the form here; please try again from the card.")

        return listener

    def today_of(record) -> Any:
        return today_in(record.onboarding.timezone, _now())

    app.action(Action.MILESTONE_BLOCK)(
        open_form(Act.BLOCK, lambda m, ref, rec: forms.block_view(m, ref, today_of(rec)), forms.quick_block_buttons)
    )
    app.action(Action.MILESTONE_REJECT)(
        open_form(Act.REJECT, lambda m, ref, rec: forms.reject_view(m, ref), forms.quick_reject_buttons)
    )
    due_form = open_form(Act.CHANGE_DUE, lambda m, ref, rec: forms.due_view(m, ref))

    def reassign_build(m, ref, rec):
        customers = [p for p in rec.people if p.side == Side.CUSTOMER]
        vendor = rec.person_by_id(m.vendor_owner_id)
        return forms.reassign_view(m, ref, customers, vendor.slack_user_id if vendor else None)

    reassign_form = open_form(Act.REASSIGN, reassign_build)

    @app.action(Action.MILESTONE_MENU)
    def menu(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond, client: WebClient) -> None:
        choice = (action.get("selected_option") or {}).get("value", "")
        kind = choice.split("|", 1)[0]
        listener = due_form if kind == card_blocks.MENU_CHANGE_DUE else reassign_form
        listener(ack, body, action, respond, client)

    @app.action(re.compile(rf"^{re.escape(Action.MILESTONE_QUICK)}\.\w+$"))
    def quick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
        ack()
        parts = (action.get("value") or "").split("|")
        ref = _decode(parts[1] if len(parts) == 3 else None, respond)
        if ref is None:
            return
        reason = forms.QUICK_REASONS.get(parts[2], forms.QUICK_REASONS["other"])
        act = Act.REJECT if parts[0] == "reject" else Act.BLOCK
        clicks.run(ref, clicks.actor(body), Change(act, reason=reason), respond)

    def submit(view_id: View, build_change):
        def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            try:
                ref = MilestoneRef.decode(view.get("private_metadata"))
            except BadPayload:
                return ack(response_action="errors", errors={_first_input(view): "This form is out of date; close it."})
            change, errors = build_change(FormValues(view), body)
            if errors:
                return ack(response_action="errors", errors=errors)
            with session_scope(services.engine) as session:
                outcome = apply_change(session, ref, clicks.actor(body), change, now=_now(), playbooks=services.playbooks)
            if outcome.kind is not Kind.APPLIED:
                ack(response_action="errors", errors={_first_input(view): outcome.message})
                if outcome.kind is Kind.STALE:
                    clicks.after(outcome, None)
                return
            ack()
            clicks.after(outcome, None)

        app.view(view_id)(listener)

    def blocked_change(form: FormValues, body) -> tuple[Change | None, dict[str, str]]:
        what, who = form.text(Field.BLOCKED_WHAT), form.text(Field.BLOCKED_WHO)
        since = form.date(Field.BLOCKED_SINCE)
        errors = {}
        if not what:
            errors[Field.BLOCKED_WHAT] = "Say what is blocking it, so the right person can act."
        if not who:
            errors[Field.BLOCKED_WHO] = "Name who can unblock it."
        if since and since > _now().date():
            errors[Field.BLOCKED_SINCE] = "That date is in the future."
        return Change(Act.BLOCK, reason=what, unblocker=who, since=since), errors

    def reject_change(form: FormValues, body):
        reason = form.text(Field.REJECT_REASON)
        errors = {} if reason else {Field.REJECT_REASON: "Say what still needs to happen."}
        return Change(Act.REJECT, reason=reason), errors

    def due_change(form: FormValues, body):
        new_due, reason = form.date(Field.NEW_DUE), form.text(Field.DUE_REASON)
        errors = {}
        if new_due is None:
            errors[Field.NEW_DUE] = "Pick the new due date."
        elif new_due.weekday() >= 5:
            errors[Field.NEW_DUE] = "That's a weekend; pick a business day."
        if not reason:
            errors[Field.DUE_REASON] = "Say why it moves; the customer sees this in the history."
        return Change(Act.CHANGE_DUE, reason=reason, due_on=new_due), errors

    def reassign_change(form: FormValues, body):
        ref = MilestoneRef.decode(body["view"]["private_metadata"])
        chosen_customer = form.option(Field.CUSTOMER_OWNER)
        vendor_user = form.user(Field.VENDOR_OWNER)
        errors: dict[str, str] = {}
        if not vendor_user:
            return None, {Field.VENDOR_OWNER: "Pick the owner on your side."}
        teams, names = user_identities(services.client, {vendor_user})
        if teams.get(vendor_user) != services.vendor_team_id:
            return None, {Field.VENDOR_OWNER: "Pick someone from your own team."}
        with session_scope(services.engine) as session:
            record = load(session, ref.onboarding_id)
            if record is None:
                return None, {Field.VENDOR_OWNER: GONE}
            vendor = next((p for p in record.people if p.side == Side.VENDOR and p.slack_user_id == vendor_user), None)
            milestone = next((m for m in record.milestones if m.id == ref.milestone_id), None)
            if vendor is None:
                # Someone new to this onboarding takes the role the milestone asks for (e.g. the ongoing CSM).
                role = (milestone.vendor_owner_role if milestone else None) or "technical_lead"
                vendor = Person(onboarding_id=record.onboarding.id, side=Side.VENDOR.value, role=role,
                                name=names.get(vendor_user, vendor_user), slack_user_id=vendor_user)
                session.add(vendor)
                session.flush()
            customer_id = int(chosen_customer) if chosen_customer else (milestone.customer_owner_id if milestone else None)
            vendor_id = vendor.id
        return Change(Act.REASSIGN, customer_owner_id=customer_id, vendor_owner_id=vendor_id), errors

    submit(View.MILESTONE_BLOCK, blocked_change)
    submit(View.MILESTONE_REJECT, reject_change)
    submit(View.MILESTONE_DUE, due_change)
    submit(View.MILESTONE_REASSIGN, reassign_change)


def _first_input(view: dict[str, Any]) -> str:
    return next((blk["block_id"] for blk in view.get("blocks", []) if blk.get("type") == "input"), "x")
