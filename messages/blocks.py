"""Small Block Kit builders. Every message and view is assembled from these, so text limits are
enforced in one place rather than at each call site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONTEXT_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75


def esc(text: object) -> str:
    """Person-typed text made inert for mrkdwn: no mention, channel ping or link can come of it."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A mention of someone the bot resolved itself (a Slack user id it stored or was sent)."""
    return f"<@{user_id}>"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t, CONTEXT_TEXT_MAX) for t in texts[:10]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(
    text: str, action_id: str, value: str | None = None, *, style: str | None = None, url: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, BUTTON_TEXT_MAX), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


MODAL_TITLE_MAX = 24


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    """An input block whose element's action_id is the block id (see bot.slack.forms)."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def text_input(
    *,
    initial: str | None = None,
    placeholder: str | None = None,
    multiline: bool = False,
    max_length: int = 3000,
    min_length: int | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    if min_length:
        element["min_length"] = min_length
    return element


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, 75), "value": value}
    if description:
        opt["description"] = plain(description, 75)
    return opt


def static_select(
    options: list[dict[str, Any]], *, initial: str | None = None, placeholder: str = "Choose"
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "options": options[:100],
        "placeholder": plain(placeholder, 150),
    }
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return element


def checkboxes(options: list[dict[str, Any]], *, initial: Sequence[str] = ()) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "checkboxes", "options": options[:10]}
    chosen = [o for o in options if o["value"] in initial]
    if chosen:
        element["initial_options"] = chosen
    return element


def datepicker(initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datepicker"}
    if initial:
        element["initial_date"] = initial
    return element


def timepicker(initial: str | None = None, *, timezone: str | None = None) -> dict[str, Any]:
    """A time of day ("HH:mm"); with `timezone` (IANA), Slack shows and returns it in that zone."""
    element: dict[str, Any] = {"type": "timepicker"}
    if initial:
        element["initial_time"] = initial
    if timezone:
        element["timezone"] = timezone
    return element


def users_select(initial: str | None = None, placeholder: str = "Pick a person") -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select", "placeholder": plain(placeholder, 150)}
    if initial:
        element["initial_user"] = initial
    return element


def conversations_select(initial: str | None = None, placeholder: str = "Pick a channel") -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "conversations_select",
        "placeholder": plain(placeholder, 150),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if initial:
        element["initial_conversation"] = initial
    return element


def modal(
    callback_id: str,
    title: str,
    blocks: list[dict[str, Any]],
    *,
    submit: str | None = None,
    close: str = "Cancel",
    private_metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "close": plain(close, MODAL_TITLE_MAX),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE_MAX)
    return view
