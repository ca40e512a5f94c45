"""`/onboard account-id <customer> <id>` (vendor side): which product account an onboarding's usage comes from."""

from __future__ import annotations

from slack_bolt import App

from bot.onboarding.lookup import find
from bot.runtime.services import Services
from bot.value.accounts import set_account_id
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages.blocks import esc

USAGE = "/onboard account-id <customer> <account id>"


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
        found = find(services.engine, channel_id=call.command.get("channel_id", ""), name=name)
        if found.several:
            names = ", ".join(esc(n) for n in found.several[:10])
            call.ack(
                response_type="ephemeral",
                text=f"Several onboardings match “{esc(name)}”: {names}. Use more of the name.",
            )
            return
        if found.record is None:
            call.ack(
                response_type="ephemeral",
                text=f"No onboarding matches “{esc(name)}”. `/onboard list` shows yours.",
            )
            return
        outcome = set_account_id(
            services.engine, found.record.id, account, actor=call.user_id, now=services.clock.now()
        )
        call.ack(response_type="ephemeral", text=esc(outcome.message))

    router.add(
        Subcommand(
            "account-id",
            USAGE,
            "Tie an onboarding to the customer's account in the product (usage reports).",
            account_id,
        )
    )
