"""Value and adoption, vendor side: `/onboard account-id <customer> <id>` (which product account an
onboarding's usage comes from) and `/onboard report [customer]` (the value report: an ephemeral
preview, then "Post to channel" or "Edit text" first; the same preview opens from the reminder that the
first value report is due)."""

from __future__ import annotations

from slack_bolt import App

from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingRef
from bot.core.text import problem
from bot.onboarding.lookup import Found, find
from bot.runtime.services import Services
from bot.slack import publish
from bot.slack.value_report import facts_of, post_report
from bot.value.accounts import set_account_id
from handlers.boundary import Interaction, Submission, on_action, on_view
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages import value_report
from messages.blocks import esc

USAGE = "/onboard account-id <customer> <account id>"
REFUSED = "Only the vendor's team can post value reports."


def _not_one(found: Found, name: str, next_step: str) -> str | None:
    """Why `name` names no single onboarding, with what to do instead; None when it names one."""
    if found.several:
        names = ", ".join(esc(n) for n in found.several[:10])
        return f"Several onboardings match “{esc(name)}”: {names}. Use more of the name."
    if found.record is None:
        hint = f"No onboarding matches “{esc(name)}”." if name else "This channel has no onboarding."
        return f"{hint} {next_step}"
    return None


def register(app: App, services: Services, router: CommandRouter) -> None:
    def account_id(call: CommandCall) -> None:
        if len(call.args) < 2:
            call.ack(
                response_type="ephemeral",
                text=f"Give the customer and the product's account id: `{USAGE}` "
                '(quote a name with spaces: `"Acme Corp"`).',
            )
            return
        name, account = " ".join(call.args[:-1]).strip(), call.args[-1].strip()
        call.ack()  # the look-up and the write come after: answered through the command's response_url
        found = find(services.engine, channel_id=call.command.get("channel_id", ""), name=name)
        if refused := _not_one(found, name, "`/onboard list` shows yours."):
            call.respond(response_type="ephemeral", text=refused)
            return
        assert found.record is not None
        outcome = set_account_id(
            services.engine, found.record.id, account, actor=call.user_id, now=services.clock.now()
        )
        call.respond(response_type="ephemeral", text=esc(outcome.message))

    def report(call: CommandCall) -> None:
        name = " ".join(call.args).strip()
        call.ack()  # the report reads the store and the usage: answered through the command's response_url
        found = find(services.engine, channel_id=call.command.get("channel_id", ""), name=name)
        if refused := _not_one(found, name, "Try `/onboard report <customer>`."):
            call.respond(response_type="ephemeral", text=refused)
            return
        assert found.record is not None
        facts = facts_of(services, found.record.id, services.clock.now())
        if facts is None:
            call.respond(response_type="ephemeral", text="This onboarding no longer exists.")
            return
        blocks = value_report.report_blocks(services.templates, facts, preview=True)
        call.respond(response_type="ephemeral", text=value_report.report_text(facts), blocks=blocks)

    @on_action(app, services, Action.REPORT_PREVIEW, OnboardingRef, vendor_only=True)
    def preview(i: Interaction[OnboardingRef]) -> None:
        """From the reminder that the first value report is due: the same preview as `/onboard report`."""
        facts = facts_of(services, i.payload.onboarding_id, services.clock.now())
        if facts is None:
            i.say("This onboarding no longer exists.")
            return
        i.say(value_report.report_text(facts), value_report.report_blocks(services.templates, facts, preview=True))

    @on_action(app, services, Action.REPORT_POST, OnboardingRef, vendor_only=True)
    def post(i: Interaction[OnboardingRef]) -> None:
        record = publish.fresh_record(services.engine, i.payload.onboarding_id)
        if record is None:
            i.say("This onboarding no longer exists; nothing was posted.")
            return
        told = post_report(
            services, record.id, record.onboarding.shared_channel_id, actor=i.actor.user_id, now=services.clock.now()
        )
        i.say(told)

    @on_action(app, services, Action.REPORT_EDIT, OnboardingRef, vendor_only=True)
    def edit(i: Interaction[OnboardingRef]) -> None:
        facts = facts_of(services, i.payload.onboarding_id, services.clock.now())
        if facts is None:
            i.say("This onboarding no longer exists.")
            return
        i.open_view(services, value_report.edit_view(services.templates, facts))

    @on_view(app, services, View.REPORT_EDIT, OnboardingRef.decode, vendor_only=True, refusal=REFUSED)
    def edited(s: Submission[OnboardingRef]) -> None:
        text = s.form.text(Field.REPORT_TEXT)
        if not text:
            s.refuse("Write the opening words, or close this and post the report as it is.", Field.REPORT_TEXT)
            return
        if wrong := problem(text, value_report.INTRO_MAX, multiline=True):
            s.refuse(wrong, Field.REPORT_TEXT)
            return
        s.ack()  # the text is fine: close the form, then post and say how it went
        record = publish.fresh_record(services.engine, s.payload.onboarding_id)
        if record is None:
            publish.tell(services, s.actor.user_id, None, "This onboarding no longer exists; nothing was posted.")
            return
        told = post_report(
            services,
            record.id,
            record.onboarding.shared_channel_id,
            actor=s.actor.user_id,
            now=services.clock.now(),
            edited=text,
        )
        publish.tell(services, s.actor.user_id, record.onboarding.shared_channel_id, told)

    router.add(
        Subcommand(
            "report",
            "/onboard report [customer]",
            "Preview the value report (numbers, success criteria, adoption chart), then post it.",
            report,
        )
    )
    router.add(
        Subcommand(
            "account-id",
            USAGE,
            "Tie an onboarding to the customer's account in the product (usage reports).",
            account_id,
        )
    )
