"""`/onboard status`, `/onboard list` and `/onboard milestone add` (vendor side)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.core.calendar import today_in
from bot.core.domain import Act
from bot.core.effects import Kind
from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingRef
from bot.core.text import problem
from bot.milestones import permissions
from bot.milestones.changes import TITLE_MAX, NewMilestone, add_milestone
from bot.onboarding.lookup import choices_for, find, portfolio
from bot.runtime.services import Services
from bot.slack import publish
from handlers.boundary import Interaction, Submission, on_action, on_view, open_view
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages import milestone_modals as forms
from messages import status as status_blocks
from messages.blocks import esc


def _optional_onboarding(raw: str | None) -> OnboardingRef | None:
    return OnboardingRef.decode(raw) if raw else None


def register(app: App, services: Services, router: CommandRouter) -> None:
    # Both read the database: acknowledged at once, answered through the command's response_url.
    def status(call: CommandCall) -> None:
        call.ack()
        name = " ".join(call.args).strip()
        found = find(services.engine, channel_id=call.command.get("channel_id", ""), name=name)
        if found.several:
            names = ", ".join(found.several[:10])
            call.respond(response_type="ephemeral", text=f"Several onboardings match “{name}”: {names}.")
            return
        if found.record is None:
            hint = f"No onboarding matches “{name}”." if name else "This channel has no onboarding."
            call.respond(response_type="ephemeral", text=f"{hint} Try `/onboard status <customer>`.")
            return
        missing = [publish.PART_NAMES[k] for k in publish.missing_setup(services.engine, found.record)]
        playbook = services.playbooks.get(found.record.onboarding.playbook_key)
        text, blocks = status_blocks.status(found.record, services.clock.now(), missing, playbook)
        call.respond(response_type="ephemeral", text=text, blocks=blocks)

    def listing(call: CommandCall) -> None:
        call.ack()
        everyone = "--all" in call.args
        mine = portfolio(services.engine, call.user_id, everyone=everyone)
        if not mine.allowed:
            call.respond(response_type="ephemeral", text="`--all` is for CSM managers.")
            return
        if not mine.onboardings:
            call.respond(
                response_type="ephemeral",
                text="No active onboardings" + ("." if everyone else " with you on the team."),
            )
            return
        text, blocks = status_blocks.listing(mine.onboardings, mine.milestones, services.clock.now(), everyone=everyone)
        call.respond(response_type="ephemeral", text=text, blocks=blocks)

    def milestone(call: CommandCall) -> None:
        if call.args[:1] != ["add"]:
            call.ack(response_type="ephemeral", text="Use `/onboard milestone add`.")
            return
        call.ack()
        here, choices = choices_for(services.engine, call.user_id, call.command.get("channel_id", ""))
        if here is None and not choices:
            call.respond(response_type="ephemeral", text="You have no active onboardings to add a milestone to.")
            return
        today = today_in(services.settings.default_timezone, services.clock.now())
        open_view(
            services, call.client, call.command["trigger_id"], forms.add_view(choices, preselected=here, today=today)
        )

    router.add(
        Subcommand(
            "status", "/onboard status [customer]", "Where an onboarding stands (this channel's, or by name).", status
        )
    )
    router.add(
        Subcommand(
            "list", "/onboard list [--all]", "Your onboardings: stage, days to go-live, health, blocked.", listing
        )
    )
    router.add(Subcommand("milestone", "/onboard milestone add", "Add a milestone to a live plan.", milestone))

    @on_action(app, services, Action.SETUP_REPOST, OnboardingRef, vendor_only=True)
    def repost(i: Interaction[OnboardingRef]) -> None:
        record = publish.fresh_record(services.engine, i.payload.onboarding_id)
        if record is None:
            i.say("This onboarding no longer exists.")
            return
        if refused := permissions.check(record, i.actor, Act.REPOST_SETUP):
            i.say(refused)
            return
        failures = publish.post_setup(services, record, actor=i.actor.user_id, now=services.clock.now())
        i.say("\n".join(f":x: {f}" for f in failures) if failures else "Posted: all of the setup is in Slack now.")

    @on_view(
        app,
        services,
        View.MILESTONE_ADD,
        _optional_onboarding,
        vendor_only=True,
        refusal="Only the vendor's team can add milestones.",
    )
    def add(s: Submission[OnboardingRef | None]) -> None:
        form = s.form
        chosen: Any = s.payload
        if chosen is None:
            try:
                chosen = OnboardingRef(int(form.option(Field.ONBOARDING) or ""))
            except ValueError:
                chosen = None
        title = form.text(Field.MILESTONE_TITLE)
        start, due = form.date(Field.MILESTONE_START), form.date(Field.MILESTONE_DUE)
        errors: dict[str, str] = {}
        if not title:
            errors[Field.MILESTONE_TITLE] = "Describe the outcome."
        elif wrong := problem(title, TITLE_MAX):
            errors[Field.MILESTONE_TITLE] = wrong
        if start is None:
            errors[Field.MILESTONE_START] = "Pick a start date."
        if due is None:
            errors[Field.MILESTONE_DUE] = "Pick a due date."
        elif start and due < start:
            errors[Field.MILESTONE_DUE] = "The due date comes before the start."
        elif due.weekday() >= 5:
            errors[Field.MILESTONE_DUE] = "That's a weekend; pick a business day."
        if chosen is None:
            errors[Field.ONBOARDING] = "Pick the onboarding."
        if errors or start is None or due is None or chosen is None:
            s.ack(response_action="errors", errors=errors)
            return
        new = NewMilestone(
            onboarding_id=chosen.onboarding_id,
            title=title,
            stage=form.option(Field.MILESTONE_STAGE),
            track=form.option(Field.MILESTONE_TRACK),
            start_on=start,
            due_on=due,
            customer_owner_role=form.option(Field.CUSTOMER_OWNER),
            vendor_owner_role=form.option(Field.VENDOR_OWNER),
            client_verified="yes" in form.options(Field.MILESTONE_CLIENT_VERIFIED),
        )
        # The form's own inputs are fine: close it now, inside Slack's 3 seconds, then write (which may
        # wait on the database) and tell the person what became of it.
        s.ack()
        outcome = add_milestone(services.engine, new, s.actor, now=services.clock.now())
        publish.publish(services, outcome.changed, now=services.clock.now())
        if outcome.kind is Kind.APPLIED:
            publish.tell(services, s.actor.user_id, None, f"Added to the plan: *{esc(title)}*.")
        else:
            publish.tell(services, s.actor.user_id, None, f"I couldn't add *{esc(title)}*. {outcome.message}")
