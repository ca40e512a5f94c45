"""Snoozing a nudge, picking up an escalation ("I'm on it") and posting a sign-off reminder in the
shared channel, from controls on the bot's posts."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.automation.controls import UNREADABLE, pick_up, remind_publicly, snooze
from bot.automation.snooze import SPANS, until_date
from bot.core.ids import Action
from bot.core.payloads import NoticeRef, SnoozeChoice
from bot.runtime.services import Services
from bot.runtime.sweep import run_delivery
from handlers.boundary import From, Interaction, on_action
from messages.automated_posts import picked_up

log = logging.getLogger("onboard_bot.nudges")


def _show_picked_up(client: WebClient, body: dict[str, Any], user_id: str) -> None:
    container, message = body.get("container") or {}, body.get("message") or {}
    if container.get("type") != "message" or not message.get("blocks"):
        return
    try:
        client.chat_update(
            channel=container["channel_id"], ts=container["message_ts"],
            blocks=picked_up(message["blocks"], user_id), text=message.get("text") or "Escalation picked up",
        )  # fmt: skip
    except SlackApiError as exc:
        log.warning("could not mark the escalation message picked up: %s", exc.response.get("error"))


def register(app: App, services: Services) -> None:
    @on_action(app, services, Action.NUDGE_SNOOZE, SnoozeChoice, source=From.OPTION, unreadable=UNREADABLE)
    def snooze_for(i: Interaction[SnoozeChoice]) -> None:
        span = SPANS[i.payload.span]
        i.say(snooze(services.engine, i.payload.notice, lambda _tz, now: now + span, i.actor, now=services.clock.now()))

    @on_action(app, services, Action.NUDGE_SNOOZE_UNTIL, NoticeRef, source=From.BLOCK, unreadable=UNREADABLE)
    def snooze_until(i: Interaction[NoticeRef]) -> None:
        chosen = i.action.get("selected_date")
        i.say(
            snooze(
                services.engine,
                i.payload,
                lambda tz, now: until_date(chosen, tz, now),
                i.actor,
                now=services.clock.now(),
            )
        )

    @on_action(app, services, Action.ESCALATION_ACK, NoticeRef, unreadable=UNREADABLE)
    def on_it(i: Interaction[NoticeRef]) -> None:
        result = pick_up(services.engine, i.payload, i.actor, now=services.clock.now())
        if result.by:
            _show_picked_up(i.client, i.body, result.by)
        i.say(result.answer)

    @on_action(app, services, Action.SIGNOFF_REMIND, NoticeRef, unreadable=UNREADABLE)
    def remind(i: Interaction[NoticeRef]) -> None:
        now = services.clock.now()
        result = remind_publicly(services.engine, i.payload, i.actor, now=now)
        if result.claimed and run_delivery(services, now, clock=services.clock) is None:
            i.say("The reminder is queued: it goes out with the next sweep, in a few minutes.")
            return
        i.say(result.answer)
