"""`/onboard <subcommand> ...`: one Slack command, routed to the subcommands domains register."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.domain import Side
from bot.runtime.services import Services
from messages.help import help_blocks

COMMAND = "/onboard"


@dataclass
class CommandCall:
    """One invocation, with the words after the subcommand already split."""

    ack: Ack
    respond: Respond
    client: WebClient
    command: dict[str, Any]
    args: list[str]
    services: Services

    @property
    def user_id(self) -> str:
        return self.command["user_id"]

    @property
    def side(self) -> Side | None:
        return self.services.side_of(self.command.get("team_id"))


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    run: Callable[[CommandCall], None]
    vendor_only: bool = True


@dataclass
class CommandRouter:
    subcommands: dict[str, Subcommand] = field(default_factory=dict)

    def add(self, sub: Subcommand) -> None:
        if sub.name in self.subcommands:
            raise ValueError(f"subcommand {sub.name!r} registered twice")
        self.subcommands[sub.name] = sub

    def listing(self) -> list[Subcommand]:
        return sorted(self.subcommands.values(), key=lambda s: s.name)

    def handle(self, call: CommandCall) -> None:
        if not call.args:
            self._help(call)
            return
        name = call.args[0].lower()
        sub = self.subcommands.get(name)
        if sub is None:
            self._help(call, problem=f"`{COMMAND} {name}` is not a command I know.")
            return
        if sub.vendor_only and call.side is not Side.VENDOR:
            call.ack(
                response_type="ephemeral",
                text=f"`{COMMAND} {sub.name}` is for the vendor's team. "
                "Use the buttons on the onboarding messages in this channel instead.",
            )
            return
        call.args = call.args[1:]
        sub.run(call)

    def _help(self, call: CommandCall, problem: str | None = None) -> None:
        blocks = help_blocks(COMMAND, [(s.usage, s.summary) for s in self.listing()], problem=problem)
        call.ack(response_type="ephemeral", text=problem or f"How to use {COMMAND}", blocks=blocks)


def split_args(text: str) -> list[str]:
    """Shell-like words, so `"Acme Corp"` stays one argument; unbalanced quotes fall back to spaces."""
    try:
        return shlex.split(text or "")
    except ValueError:
        return (text or "").split()


def register(app: App, services: Services, router: CommandRouter) -> None:
    router.add(
        Subcommand(
            name="help",
            usage=f"{COMMAND} help",
            summary="Show this list.",
            run=lambda call: router._help(call),
            vendor_only=False,
        )
    )

    @app.command(COMMAND)
    def onboard(ack: Ack, respond: Respond, client: WebClient, command: dict[str, Any]) -> None:
        router.handle(
            CommandCall(
                ack=ack,
                respond=respond,
                client=client,
                command=command,
                args=split_args(command.get("text", "")),
                services=services,
            )
        )
