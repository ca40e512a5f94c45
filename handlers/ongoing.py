"""`/onboard handoff [customer]`: the handoff to the ongoing CSM, and their acceptance of it (vendor side)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from slack_bolt import App

from bot.core.calendar import add_business_days, today_in, zone_of
from bot.core.domain import Act, Side
from bot.core.effects import CardKind, Hold, Kind, Need, Outcome
from bot.core.ids import Action, Field, View
from bot.core.payloads import HandoverForm, OnboardingRef
from bot.milestones import permissions
from bot.milestones.rules import Actor
from bot.onboarding.lookup import find
from bot.onboarding.ongoing import HandOver, accept, facts_for, form_problems, hand_over
from bot.runtime.services import Services
from bot.slack import ongoing as slack_side
from bot.slack import publish
from bot.slack.lookups import SLACK_SLOW, SLOW, user_identities
from handlers.boundary import Interaction, Submission, on_action, on_view, open_view
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages import ongoing as words
from messages import stage_holds

MEETING_AT = time(10, 0)  # the form's first suggestion, in the customer's timezone
NOT_VENDOR = "The ongoing CSM must be someone of the vendor's team; pick a colleague."


def register(app: App, services: Services, router: CommandRouter) -> None:
    def open_form(call: CommandCall) -> None:
        call.ack()  # then the look-up, then the form: well inside the trigger's 3 seconds
        name = " ".join(call.args).strip()
        found = find(services.engine, channel_id=call.command.get("channel_id", ""), name=name)
        if found.several:
            names = ", ".join(found.several[:10])
            call.respond(
                response_type="ephemeral", text=f"Several onboardings match “{name}”: {names}. Add more of the name."
            )
            return
        if found.record is None:
            hint = f"No onboarding matches “{name}”." if name else "This channel has no onboarding."
            call.respond(response_type="ephemeral", text=f"{hint} Try `/onboard handoff <customer>`.")
            return
        actor = Actor(call.user_id, call.side)
        if refused := permissions.check(found.record, actor, Act.HAND_OVER):
            call.respond(response_type="ephemeral", text=refused)
            return
        facts = facts_for(services.engine, found.record.id)
        if facts is None:
            call.respond(response_type="ephemeral", text="This onboarding no longer exists.")
            return
        if facts.stored is not None:
            call.respond(
                response_type="ephemeral",
                text=f"The handoff to <@{facts.stored.ongoing_csm_user_id}> is written already: "
                "it is in the internal channel, where they accept it.",
            )
            return
        today = today_in(found.record.onboarding.timezone, services.clock.now())
        view = words.handoff_view(
            facts,
            today=today,
            meeting_day=add_business_days(today, 2),
            meeting_time=f"{MEETING_AT:%H:%M}",
            draft=words.written_draft(facts, today),
        )
        open_view(services, call.client, call.command["trigger_id"], view)

    router.add(
        Subcommand(
            "handoff",
            "/onboard handoff [customer]",
            "Hand the account to the ongoing CSM: the meeting, the renewal date and the written handoff.",
            open_form,
        )
    )

    @on_view(app, services, View.ONGOING_HANDOFF, HandoverForm.decode, vendor_only=True)
    def submitted(s: Submission[HandoverForm]) -> None:
        # Read from the form and the sealed metadata alone until the ack (plus the one Slack look-up).
        form, now, tz = s.form, services.clock.now(), zone_of(s.payload.timezone)
        day, at = form.date(Field.HANDOFF_MEETING_DAY), form.time(Field.HANDOFF_MEETING_TIME)
        meeting = datetime.combine(day, at, tzinfo=tz) if day and at else None
        written, expansion, renewal = (
            form.text(Field.WRITTEN_HANDOFF),
            form.text(Field.EXPANSION),
            form.date(Field.RENEWAL_ON),
        )
        errors = form_problems(written=written, expansion=expansion, meeting_at=meeting, renewal_on=renewal, now=now)
        if day and at is None:
            errors[Field.HANDOFF_MEETING_TIME] = "Pick the time of the meeting."
        ongoing = form.user(Field.ONGOING_CSM)
        names: dict[str, str] = {}
        if not ongoing:
            errors[Field.ONGOING_CSM] = "Pick the ongoing CSM."
        else:
            try:
                teams, names = user_identities(services.quick, {ongoing})
            except SLACK_SLOW:
                s.refuse(SLOW)
                return
            if services.side_of(teams.get(ongoing)) is not Side.VENDOR:
                errors[Field.ONGOING_CSM] = NOT_VENDOR
        if errors or meeting is None or renewal is None or not ongoing:
            s.ack(response_action="errors", errors=errors)
            return
        s.ack()
        given = HandOver(ongoing, names.get(ongoing, ongoing), meeting.astimezone(UTC), renewal, expansion, written)
        outcome = hand_over(services.engine, s.payload.onboarding_id, s.actor, given, now=now)
        if outcome.kind is not Kind.APPLIED:
            publish.tell(services, s.actor.user_id, None, outcome.message)
            return
        record = publish.publish(services, outcome.changed, now=now)
        if record is None:
            publish.tell(services, s.actor.user_id, None, "This onboarding no longer exists.")
            return
        failures = slack_side.announce(services, record)
        done = f"Handed over to <@{ongoing}>: the written handoff is in <#{record.onboarding.internal_channel_id}>."
        publish.tell(services, s.actor.user_id, None, "\n".join([done, *(f":x: {f}" for f in failures)]))

    def holds_answer(i: Interaction[OnboardingRef], outcome: Outcome) -> None:
        posted = publish.card_places(services.engine, i.payload.onboarding_id)

        def link(hold: Hold) -> str | None:
            signing = Need.SIGN_OFF in hold.needs
            card = posted.get((CardKind.SIGNOFF, "") if signing else (CardKind.STAGE, hold.stage.value))
            return services.permalink(*card) if card else None

        message = (
            f"You accepted the handoff. The onboarding completes once the rest of adoption is done. {outcome.message}"
        )
        i.say(message, stage_holds.refusal(message, outcome.holds, link))

    @on_action(app, services, Action.ONGOING_ACCEPT, OnboardingRef, vendor_only=True)
    def accepted(i: Interaction[OnboardingRef]) -> None:
        now = services.clock.now()
        result = accept(services.engine, i.payload.onboarding_id, i.actor, now=now)
        if result.accepted.kind is not Kind.APPLIED:
            i.say(result.accepted.message)
            return
        record = publish.publish(services, result.accepted.changed, now=now)
        if record is not None:
            slack_side.refresh_post(services, record)
        completion = result.completion
        if completion is None:
            i.say("You accepted the handoff. The onboarding completes from its adoption card once it gets there.")
        elif completion.kind is Kind.APPLIED:
            publish.publish(services, completion.changed, now=now)
            i.say("You accepted the handoff, and the onboarding is complete: the account is yours.")
        elif completion.holds:
            holds_answer(i, completion)
        else:
            i.say(f"You accepted the handoff. {completion.message}")
