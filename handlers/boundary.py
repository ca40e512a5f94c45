"""The trust boundary: every click and form submission passes here before any domain code runs.

`on_action` and `on_view` register a listener behind one gate: it acknowledges (clicks at once,
their work then running on the services' work pool; forms once their own inputs are read),
decodes the typed payload the bot put in the button value, option, block id or
`private_metadata` (bot.core.payloads), resolves who is acting and on which side, and refuses
(an ephemeral answer, or an inline form error) when any of it does not add up. Listeners receive
an `Interaction` or a `Submission` and never parse a payload themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.domain import Side
from bot.core.payloads import BadPayload, Payload
from bot.milestones.rules import Actor
from bot.runtime.services import Services
from bot.slack.forms import FormValues
from handlers.errors import SORRY

log = logging.getLogger("onboard_bot.boundary")

P = TypeVar("P", bound=Payload)
T = TypeVar("T")

OUT_OF_DATE = "That button no longer works. Use *My tasks* for a fresh one."
FORM_OUT_OF_DATE = "This form is out of date; close it and start again from the card."
VENDOR_ONLY = "Only the vendor's team can do this."


class From(Enum):
    """Where a control carries its payload."""

    VALUE = "value"  # a button's value
    OPTION = "option"  # the chosen option of a select or overflow menu
    BLOCK = "block"  # the block id (a datepicker has no value of its own)


def actor_of(services: Services, body: dict[str, Any]) -> Actor:
    """Who acts, where: the user and their team as Slack sent them, and the channel clicked in."""
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return Actor(str(user.get("id") or ""), services.side_of(user.get("team_id")), channel or None)


def ephemeral(respond: Respond, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    """An answer only the person who acted sees."""
    if blocks:
        respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
    else:
        respond(response_type="ephemeral", replace_original=False, text=text)


@dataclass
class Interaction(Generic[P]):
    payload: P
    actor: Actor
    body: dict[str, Any]
    action: dict[str, Any]
    respond: Respond
    client: WebClient

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id") or "")

    @property
    def from_ephemeral(self) -> bool:
        return bool((self.body.get("container") or {}).get("is_ephemeral"))

    def say(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        ephemeral(self.respond, text, blocks)

    def open_view(self, services: Services, view: dict[str, Any]) -> None:
        open_view(services, self.client, self.trigger_id, view)


def sealed(services: Services, view: dict[str, Any]) -> dict[str, Any]:
    """The view with its private_metadata sealed, so that what comes back is known to be ours."""
    return {**view, "private_metadata": services.seal.seal(view.get("private_metadata") or "")}


def open_view(services: Services, client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    client.views_open(trigger_id=trigger_id, view=sealed(services, view))


def after_ack(services: Services, respond: Respond, work: Callable[[], None]) -> None:
    """Run what follows an ack on the services' work pool (inline when there is none).

    The listener's thread is then free at once for the next ack. Bolt's error handler does not see
    what fails on the pool, so it is logged and the person told here, the same way.
    """
    if services.work is None:
        work()
        return

    def run() -> None:
        try:
            work()
        except Exception as exc:
            log.error("listener failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
            try:
                ephemeral(respond, SORRY)
            except Exception:
                log.warning("could not tell the user about the failure")

    services.work.submit(run)


def _raw(action: dict[str, Any], source: From) -> str | None:
    if source is From.VALUE:
        return action.get("value")
    if source is From.OPTION:
        return (action.get("selected_option") or {}).get("value")
    return action.get("block_id")


def on_action(
    app: App,
    services: Services,
    action_id: str | re.Pattern[str],
    payload: type[P],
    *,
    source: From = From.VALUE,
    vendor_only: bool = False,
    unreadable: str = OUT_OF_DATE,
) -> Callable[[Callable[[Interaction[P]], None]], None]:
    """Register `listener(interaction)` for clicks on `action_id` carrying a `payload`."""

    def register(listener: Callable[[Interaction[P]], None]) -> None:
        def gate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
            ack()
            after_ack(services, respond, lambda: checked(body, action, respond, client))

        def checked(body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
            try:
                decoded = payload.decode(_raw(action, source))
            except BadPayload as exc:
                log.info("refused a %s click: %s", action.get("action_id"), exc)
                ephemeral(respond, unreadable)
                return
            actor = actor_of(services, body)
            if vendor_only and actor.side is not Side.VENDOR:
                ephemeral(respond, VENDOR_ONLY)
                return
            listener(Interaction(decoded, actor, body, action, respond, client))

        app.action(action_id)(gate)

    return register


@dataclass
class Submission(Generic[T]):
    payload: T
    actor: Actor
    body: dict[str, Any]
    view: dict[str, Any]
    form: FormValues
    ack: Ack
    client: WebClient
    services: Services

    def replace(self, view: dict[str, Any]) -> None:
        """Answer with the next step of the form, sealed like every view the bot hands out."""
        self.ack(response_action="update", view=sealed(self.services, view))

    @property
    def first_input(self) -> str:
        return first_input(self.view)

    def refuse(self, message: str, block_id: str | None = None) -> None:
        """Answer the form with an inline error (on the first input unless one is named)."""
        self.ack(response_action="errors", errors={block_id or self.first_input: message})


def first_input(view: dict[str, Any]) -> str:
    return next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "x")


def on_view(
    app: App,
    services: Services,
    callback_id: str,
    decode: Callable[[str | None], T],
    *,
    vendor_only: bool = False,
    refusal: str = VENDOR_ONLY,
) -> Callable[[Callable[[Submission[T]], None]], None]:
    """Register `listener(submission)` for a form whose `private_metadata` `decode` reads.

    The listener acks itself: with errors for its own inputs, or to close or replace the form.
    """

    def register(listener: Callable[[Submission[T]], None]) -> None:
        def gate(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
            actor = actor_of(services, body)
            if vendor_only and actor.side is not Side.VENDOR:
                ack(response_action="errors", errors={first_input(view): refusal})
                return
            try:
                decoded = decode(services.seal.open(view.get("private_metadata")))
            except BadPayload as exc:
                log.info("refused a %s submission: %s", callback_id, exc)
                ack(response_action="errors", errors={first_input(view): FORM_OUT_OF_DATE})
                return
            listener(Submission(decoded, actor, body, view, FormValues(view), ack, client, services))

        app.view(callback_id)(gate)

    return register
