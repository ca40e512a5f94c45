"""Reading what a person entered in a modal (`view.state.values`), one input per block."""

from __future__ import annotations

from datetime import date, time
from typing import Any


class FormValues:
    def __init__(self, view: dict[str, Any]) -> None:
        self._values: dict[str, dict[str, Any]] = (view.get("state") or {}).get("values") or {}

    def _element(self, block_id: str) -> dict[str, Any]:
        block = self._values.get(block_id) or {}
        return block.get(block_id) or next(iter(block.values()), {})

    def text(self, block_id: str) -> str:
        value = self._element(block_id).get("value")
        return value.strip() if isinstance(value, str) else ""

    def date(self, block_id: str) -> date | None:
        raw = self._element(block_id).get("selected_date")
        try:
            return date.fromisoformat(raw) if isinstance(raw, str) and raw else None
        except ValueError:  # not a date Slack's date picker could have sent
            return None

    def time(self, block_id: str) -> time | None:
        raw = self._element(block_id).get("selected_time")
        try:
            return time.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 5 else None
        except ValueError:  # not a time Slack's time picker could have sent
            return None

    def user(self, block_id: str) -> str | None:
        return self._element(block_id).get("selected_user") or None

    def conversation(self, block_id: str) -> str | None:
        element = self._element(block_id)
        return element.get("selected_conversation") or element.get("selected_channel") or None

    def option(self, block_id: str) -> str | None:
        selected = self._element(block_id).get("selected_option")
        return selected.get("value") if selected else None

    def options(self, block_id: str) -> list[str]:
        return [o["value"] for o in self._element(block_id).get("selected_options") or []]
