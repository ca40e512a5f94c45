"""Overriding the readiness gate: vendor side only, with a reason, audited."""

from __future__ import annotations

from slack_bolt import App

from bot.core.effects import Kind
from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingForm, OnboardingRef
from bot.onboarding.gate import may_override, override_gate, reason_problem
from bot.runtime.services import Services
from bot.slack import publish
from handlers.boundary import Interaction, Submission, on_action, on_view
from messages.handoff_posts import override_view


def register(app: App, services: Services) -> None:
    @on_action(app, services, Action.GATE_OVERRIDE, OnboardingRef, vendor_only=True)
    def open_override(i: Interaction[OnboardingRef]) -> None:
        refused, customer_name = may_override(services.engine, i.payload.onboarding_id, i.actor)
        if refused:
            i.say(refused)
            return
        form = override_view(i.payload, customer_name)
        # The form remembers where it was opened, to answer there if the override cannot be made.
        form["private_metadata"] = OnboardingForm(i.payload.onboarding_id, i.actor.channel_id or "").encode()
        i.open_view(services, form)

    @on_view(app, services, View.GATE_OVERRIDE, OnboardingForm.read, vendor_only=True)
    def submit_override(s: Submission[OnboardingForm]) -> None:
        reason = s.form.text(Field.OVERRIDE_REASON)
        if problem := reason_problem(reason):
            s.refuse(problem, Field.OVERRIDE_REASON)
            return
        # The reason is fine: close the form now, well inside Slack's 3 seconds, then make the
        # override (which waits on the database) and tell the person if it could not be made.
        s.ack()
        outcome = override_gate(services.engine, s.payload.onboarding_id, s.actor, reason, now=services.clock.now())
        publish.publish(services, outcome.changed, now=services.clock.now())
        if outcome.kind is not Kind.APPLIED:
            publish.tell(services, s.actor.user_id, s.payload.channel_id or None, outcome.message)
