"""The `/onboard help` answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from messages import blocks as b


def help_blocks(
    command: str, subcommands: Sequence[tuple[str, str]], *, problem: str | None = None
) -> list[dict[str, Any]]:
    """The help text; `subcommands` are (usage, summary) pairs."""
    out: list[dict[str, Any]] = []
    if problem:
        out.append(b.section(f":warning: {problem} Here is what I can do:"))
    out.append(b.header(f"{command}: customer onboarding in Slack"))
    lines = [f"`{usage}`  {summary}" for usage, summary in subcommands]
    out.append(b.section("\n".join(lines)))
    out.append(
        b.context(
            "Customers in a shared channel act through the buttons on the onboarding messages; "
            "the commands are for the vendor's team."
        )
    )
    return out
