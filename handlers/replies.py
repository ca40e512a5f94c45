"""Answers only the person who clicked sees, through the interaction's response_url."""

from __future__ import annotations


def ephemeral(respond, text: str, blocks: list | None = None) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text, **({"blocks": blocks} if blocks else {}))
