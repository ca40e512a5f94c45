"""Snoozing a nudge and picking up an escalation ("I'm on it"), from controls on the bot's messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core.domain import Side
from bot.core.ids import Action
from bot.core.payloads import BadPayload, NoticeRef
from bot.runtime.services import Services
from bot.automation.snooze import Refused, parse_date_block, parse_option, said_until, until_date
from handlers.replies import ephemeral
from messages import blocks as b
from store import audit, snoozes
from store.activity import record_click
from store.db import session_scope
from store.models import Onboarding

log = logging.getLogger("onboard_bot.nudges")

UNREADABLE = "I couldn't read that control: the message may be out of date. Nothing was changed."
GONE = "This onboarding no longer exists."
VENDOR_ONLY = "Only the vendor's team can pick up an escalation."
MESSAGE_BLOCKS_MAX = 50

# Given the onboarding and now, until when to stay quiet (raises Refused or BadPayload).
UntilOf = Callable[[Onboarding, datetime], datetime]


def _reason_named(ref: NoticeRef) -> str:
    return f"{ref.rule} on {ref.subject}" if ref.subject else f"{ref.rule} on the whole onboarding"


def _snooze_refusal(session: Session, ref: NoticeRef, user_id: str, side: Side) -> str | None:
    if side is Side.VENDOR:
        return None
    owner = snoozes.customer_owner(session, ref.onboarding_id, ref.subject) if ref.subject else None
    if owner == user_id:
        return None
    if owner:
        return f"This is <@{owner}>'s milestone: only they or the vendor's team can snooze it."
    return "Only the vendor's team can snooze this."


def _picked_up(blocks: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    """The message as it was, without its "I'm on it" button and with who picked it up."""
    kept = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") != Action.ESCALATION_ACK]
            if not elements:
                continue
            block = {**block, "elements": elements}
        kept.append(block)
    return kept[: MESSAGE_BLOCKS_MAX - 1] + [b.context(f":raising_hand: <@{user_id}> is on it")]


def _show_picked_up(client: WebClient, body: dict[str, Any], user_id: str) -> None:
    container, message = body.get("container") or {}, body.get("message") or {}
    if container.get("type") != "message" or not message.get("blocks"):
        return
    try:
        client.chat_update(
            channel=container["channel_id"], ts=container["message_ts"],
            blocks=_picked_up(message["blocks"], user_id), text=message.get("text") or "Escalation picked up",
        )
    except SlackApiError as exc:
        log.warning("could not mark the escalation message picked up: %s", exc.response.get("error"))


def register(app: App, services: Services) -> None:
    def snooze(body: dict[str, Any], respond, decode: Callable[[], tuple[NoticeRef, UntilOf]]) -> None:
        user = body["user"]
        side = services.side_of(user.get("team_id"))
        try:
            ref, until_of = decode()
        except BadPayload:
            return ephemeral(respond, UNREADABLE)
        now = datetime.now(UTC)
        with session_scope(services.engine) as session:
            ob = session.get(Onboarding, ref.onboarding_id)
            answer = GONE if ob is None else _snooze_refusal(session, ref, user["id"], side)
            if answer is None:
                try:
                    until = until_of(ob, now)
                except Refused as refused:
                    answer = str(refused)
                except BadPayload:
                    answer = UNREADABLE
                else:
                    row, before = snoozes.snooze(session, ref, until=until, by=user["id"], now=now)
                    audit.record(
                        session, onboarding_id=ob.id, entity="snooze", entity_id=row.id, action="snoozed",
                        actor=user["id"], actor_side=side.value, field="until", reason=_reason_named(ref),
                        old=before.isoformat() if before else None, new=until.isoformat(), at=now,
                    )
                    record_click(session, onboarding_id=ob.id, slack_user_id=user["id"], side=side.value, at=now)
                    answer = f"Snoozed until {said_until(until, ob.timezone)}: I'll stay quiet about this until then."
        ephemeral(respond, answer)

    @app.action(Action.NUDGE_SNOOZE)
    def snooze_for(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
        ack()

        def decode() -> tuple[NoticeRef, UntilOf]:
            ref, span = parse_option((action.get("selected_option") or {}).get("value"))
            return ref, lambda _ob, now: now + span

        snooze(body, respond, decode)

    @app.action(Action.NUDGE_SNOOZE_UNTIL)
    def snooze_until(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
        ack()

        def decode() -> tuple[NoticeRef, UntilOf]:
            return parse_date_block(action.get("block_id")), lambda ob, now: until_date(
                action.get("selected_date"), ob.timezone, now
            )

        snooze(body, respond, decode)

    @app.action(Action.ESCALATION_ACK)
    def pick_up(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond) -> None:
        ack()
        user = body["user"]
        if services.side_of(user.get("team_id")) is not Side.VENDOR:
            return ephemeral(respond, VENDOR_ONLY)
        try:
            ref = NoticeRef.decode(action.get("value"))
        except BadPayload:
            return ephemeral(respond, UNREADABLE)
        now = datetime.now(UTC)
        on_it = None
        with session_scope(services.engine) as session:
            if session.get(Onboarding, ref.onboarding_id) is None:
                answer = GONE
            elif (escalation := snoozes.open_escalation(session, ref)) is None:
                answer = "This escalation is already resolved: there is nothing to pick up."
            elif snoozes.acknowledge(session, escalation, by=user["id"], now=now):
                audit.record(
                    session, onboarding_id=ref.onboarding_id, entity="escalation", entity_id=escalation.id,
                    action="acknowledged", actor=user["id"], actor_side=Side.VENDOR.value,
                    field="acknowledged_by", new=user["id"], at=now,
                )
                record_click(session, onboarding_id=ref.onboarding_id, slack_user_id=user["id"],
                             side=Side.VENDOR.value, at=now)
                on_it = user["id"]
                answer = "It's yours: I've noted that you are on it, and the escalation stops climbing."
            else:
                on_it = escalation.acknowledged_by
                answer = "You're already on it." if on_it == user["id"] else f"<@{on_it}> is already on it."
        if on_it:
            _show_picked_up(client, body, on_it)
        ephemeral(respond, answer)
