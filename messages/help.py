"""The `/onboard help` answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from messages import blocks as b

if TYPE_CHECKING:
    from handlers.commands import Subcommand


def help_blocks(command: str, subcommands: list[Subcommand], *, problem: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if problem:
        out.append(b.section(f":warning: {problem} Here is what I can do:"))
    out.append(b.header(f"{command}: customer onboarding in Slack"))
    lines = [f"`{sub.usage}`  {sub.summary}" for sub in subcommands]
    out.append(b.section("\n".join(lines)))
    out.append(
        b.context(
            "Customers in a shared channel act through the buttons on the onboarding messages; "
            "the commands are for the vendor's team."
        )
    )
    return out
