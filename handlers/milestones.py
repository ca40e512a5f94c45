"""Milestone buttons and forms on the cards, on "My tasks" and on nudges.

Every click: through the boundary (ack, decode, who), then one call into bot.milestones.changes,
then what changed is published. A refused, stale or orphaned click gets an ephemeral answer and
changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.core.calendar import today_in
from bot.core.domain import Act, Side
from bot.core.effects import Kind, Outcome
from bot.core.ids import Action, Field, View
from bot.core.payloads import MilestoneChoice, MilestoneForm, MilestoneRef
from bot.core.text import problem
from bot.milestones import permissions
from bot.milestones.changes import Change, change, check
from bot.milestones.rules import Actor
from bot.runtime.services import Services
from bot.slack import publish
from bot.slack.forms import FormValues
from bot.slack.lookups import SLACK_SLOW, SLOW, user_identities
from handlers.boundary import From, Interaction, Submission, on_action, on_view
from messages import cards as card_blocks
from messages import milestone_modals as forms

log = logging.getLogger(__name__)

BUTTON_ACTS = {
    Action.MILESTONE_START: Act.START,
    Action.MILESTONE_DONE: Act.DONE,
    Action.MILESTONE_UNBLOCK: Act.UNBLOCK,
    Action.MILESTONE_CONFIRM: Act.CONFIRM,
}
REASON_MAX = forms.REASON_MAX
UNBLOCKER_MAX = forms.UNBLOCKER_MAX


def register(app: App, services: Services) -> None:
    def answer(i: Interaction[Any], outcome: Outcome, ref: MilestoneRef) -> None:
        """Publish what changed (a stale click refreshes the card too) and tell the person what needs telling."""
        record = publish.publish(services, outcome.changed, now=services.clock.now())
        if outcome.kind is not Kind.APPLIED:
            i.say(outcome.message)
        elif i.from_ephemeral and record is not None:
            today = today_in(record.onboarding.timezone, services.clock.now())
            i.respond(
                replace_original=True,
                response_type="ephemeral",
                text="Your open milestones",
                blocks=card_blocks.my_tasks(record, i.actor.user_id, today, permissions.offers(record, i.actor)),
            )

    def run(i: Interaction[Any], ref: MilestoneRef, what: Change) -> None:
        outcome = change(services.engine, ref, i.actor, what, now=services.clock.now(), playbooks=services.playbooks)
        answer(i, outcome, ref)

    for action_id, act in BUTTON_ACTS.items():

        def clicked(i: Interaction[MilestoneRef], act: Act = act) -> None:
            run(i, i.payload, Change(act))

        on_action(app, services, action_id, MilestoneRef)(clicked)

    def open_form(
        i: Interaction[Any],
        ref: MilestoneRef,
        act: Act,
        build: Callable[..., dict[str, Any]],
        fallback: Callable[[MilestoneRef], list[dict[str, Any]]] | None = None,
    ) -> None:
        refused, milestone, record = check(services.engine, ref, i.actor, act)
        if refused is not None:
            answer(i, refused, ref)
            return
        form = build(milestone, ref, record)
        # The form remembers where it was opened, to answer there once the change is made.
        form["private_metadata"] = MilestoneForm(
            ref.onboarding_id, ref.milestone_id, ref.version, i.actor.channel_id or ""
        ).encode()
        try:
            i.open_view(services, form)
        except SlackApiError as exc:
            log.info("could not open the %s form: %s", act, exc.response.get("error"))
            if fallback is not None:
                i.say("I couldn't open the form here.", fallback(ref))
            else:
                i.say("I couldn't open the form here; please try again from the card.")

    def today_of(record) -> Any:
        return today_in(record.onboarding.timezone, services.clock.now())

    @on_action(app, services, Action.MILESTONE_BLOCK, MilestoneRef)
    def block(i: Interaction[MilestoneRef]) -> None:
        open_form(
            i,
            i.payload,
            Act.BLOCK,
            lambda m, ref, rec: forms.block_view(m, ref, today_of(rec)),
            forms.quick_block_buttons,
        )

    @on_action(app, services, Action.MILESTONE_REJECT, MilestoneRef)
    def reject(i: Interaction[MilestoneRef]) -> None:
        open_form(i, i.payload, Act.REJECT, lambda m, ref, rec: forms.reject_view(m, ref), forms.quick_reject_buttons)

    def reassign_view(m, ref, rec) -> dict[str, Any]:
        customers = [p for p in rec.people if p.side == Side.CUSTOMER]
        vendor = rec.person_by_id(m.vendor_owner_id)
        return forms.reassign_view(m, ref, customers, vendor.slack_user_id if vendor else None)

    @on_action(app, services, Action.MILESTONE_ASSIGN, MilestoneRef)
    def assign(i: Interaction[MilestoneRef]) -> None:
        open_form(i, i.payload, Act.REASSIGN, reassign_view)

    @on_action(app, services, Action.MILESTONE_MENU, MilestoneChoice, source=From.OPTION)
    def menu(i: Interaction[MilestoneChoice]) -> None:
        choice = i.payload
        if choice.act is Act.CHANGE_DUE:
            open_form(i, choice.milestone, Act.CHANGE_DUE, lambda m, ref, rec: forms.due_view(m, ref))
        elif choice.act is Act.REASSIGN:
            open_form(i, choice.milestone, Act.REASSIGN, reassign_view)
        else:
            i.say("That menu no longer works. Use *My tasks* for a fresh one.")

    @on_action(app, services, re.compile(rf"^{re.escape(Action.MILESTONE_QUICK)}\.\w+$"), MilestoneChoice)
    def quick(i: Interaction[MilestoneChoice]) -> None:
        choice = i.payload
        if choice.act not in (Act.BLOCK, Act.REJECT) or choice.reason not in forms.QUICK_REASONS:
            i.say("That button no longer works. Use *My tasks* for a fresh one.")
            return
        run(i, choice.milestone, Change(choice.act, reason=forms.QUICK_REASONS[choice.reason]))

    def submitted(view_id: View, read: Callable[[FormValues, Actor], tuple[Change | None, dict[str, str]]]) -> None:
        @on_view(app, services, view_id, MilestoneForm.decode)
        def listener(s: Submission[MilestoneForm]) -> None:
            what, errors = read(s.form, s.actor)
            if errors or what is None:
                s.ack(response_action="errors", errors=errors)
                return
            # The form's own inputs are fine: close it now, well inside Slack's 3 seconds, then make
            # the change (which may wait on the database) and tell the person if it could not be made.
            s.ack()
            origin = s.payload.channel_id or None
            actor = replace(s.actor, channel_id=origin)
            outcome = change(
                services.engine, s.payload.milestone, actor, what, now=services.clock.now(),
                playbooks=services.playbooks,
            )  # fmt: skip
            publish.publish(services, outcome.changed, now=services.clock.now())
            if outcome.kind is not Kind.APPLIED:
                publish.tell(services, actor.user_id, origin, outcome.message)

    def blocked(form: FormValues, actor: Actor) -> tuple[Change | None, dict[str, str]]:
        what, who = form.text(Field.BLOCKED_WHAT), form.text(Field.BLOCKED_WHO)
        since = form.date(Field.BLOCKED_SINCE)
        errors: dict[str, str] = {}
        if not what:
            errors[Field.BLOCKED_WHAT] = "Say what is blocking it, so the right person can act."
        elif wrong := problem(what, REASON_MAX, multiline=True):
            errors[Field.BLOCKED_WHAT] = wrong
        if not who:
            errors[Field.BLOCKED_WHO] = "Name who can unblock it."
        elif wrong := problem(who, UNBLOCKER_MAX):
            errors[Field.BLOCKED_WHO] = wrong
        if since and since > services.clock.now().date():
            errors[Field.BLOCKED_SINCE] = "That date is in the future."
        if errors:
            return None, errors
        return Change(Act.BLOCK, reason=what, unblocker=who, since=since), {}

    def rejected(form: FormValues, actor: Actor) -> tuple[Change | None, dict[str, str]]:
        reason = form.text(Field.REJECT_REASON)
        if not reason:
            return None, {Field.REJECT_REASON: "Say what still needs to happen."}
        if wrong := problem(reason, REASON_MAX, multiline=True):
            return None, {Field.REJECT_REASON: wrong}
        return Change(Act.REJECT, reason=reason), {}

    def due_changed(form: FormValues, actor: Actor) -> tuple[Change | None, dict[str, str]]:
        new_due, reason = form.date(Field.NEW_DUE), form.text(Field.DUE_REASON)
        errors: dict[str, str] = {}
        if new_due is None:
            errors[Field.NEW_DUE] = "Pick the new due date."
        elif new_due.weekday() >= 5:
            errors[Field.NEW_DUE] = "That's a weekend; pick a business day."
        if not reason:
            errors[Field.DUE_REASON] = "Say why it moves; the customer sees this in the history."
        elif wrong := problem(reason, REASON_MAX):
            errors[Field.DUE_REASON] = wrong
        if errors:
            return None, errors
        return Change(Act.CHANGE_DUE, reason=reason, due_on=new_due), {}

    def reassigned(form: FormValues, actor: Actor) -> tuple[Change | None, dict[str, str]]:
        chosen_customer = form.option(Field.CUSTOMER_OWNER)
        vendor_user = form.user(Field.VENDOR_OWNER)
        if not vendor_user:
            return None, {Field.VENDOR_OWNER: "Pick the owner on your side."}
        if chosen_customer is not None and not chosen_customer.isdigit():
            return None, {Field.CUSTOMER_OWNER: "Pick the owner on the customer's side from the list."}
        try:
            teams, names = user_identities(services.quick, {vendor_user})
        except SLACK_SLOW:
            return None, {Field.VENDOR_OWNER: SLOW}
        if teams.get(vendor_user) != services.vendor_team_id:
            return None, {Field.VENDOR_OWNER: "Pick someone from your own team."}
        return Change(
            Act.REASSIGN,
            customer_owner_id=int(chosen_customer) if chosen_customer else None,
            vendor_user_id=vendor_user,
            vendor_name=names.get(vendor_user, vendor_user),
        ), {}

    submitted(View.MILESTONE_BLOCK, blocked)
    submitted(View.MILESTONE_REJECT, rejected)
    submitted(View.MILESTONE_DUE, due_changed)
    submitted(View.MILESTONE_REASSIGN, reassigned)
