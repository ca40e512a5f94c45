"""Moving a stage on, the go-live sign-off, and "My tasks" for whoever clicks it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.slack import publish as cards
from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Stage
from bot.core.ids import Action
from bot.milestones.changes import GONE, Kind, advance_stage, sign_off
from bot.milestones.rules import Actor
from bot.runtime.services import Services
from handlers.replies import ephemeral
from messages import cards as card_blocks
from store.db import session_scope
from store.onboardings import load


def _now() -> datetime:
    return datetime.now(UTC)


def _onboarding_id(raw: str | None) -> int | None:
    head = (raw or "").split(":", 1)[0]
    return int(head) if head.isdigit() else None


def stage_summary(record, finished: Stage, started: Stage) -> str:
    items = [m for m in record.milestones if m.stage == started.value]
    due = max((m.due_on for m in items), default=None)
    done = sum(1 for m in record.milestones if m.stage == finished.value and m.status == MilestoneStatus.DONE)
    text = f":tada: *{finished.label}* is complete ({done} milestones done). On to *{started.label}*"
    return text + (f": {len(items)} milestones, due by {due:%a %d %b}." if due else ".")


def register(app: App, services: Services) -> None:
    def actor_of(body: dict[str, Any]) -> Actor:
        return Actor(body["user"]["id"], services.side_of(body["user"].get("team_id")))

    @app.action(Action.MY_TASKS)
    def my_tasks(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
        ack()
        onboarding_id = _onboarding_id(action.get("value"))
        with session_scope(services.engine) as session:
            record = load(session, onboarding_id) if onboarding_id else None
        if record is None:
            return ephemeral(respond, GONE)
        today = today_in(record.onboarding.timezone, _now())
        ephemeral(respond, "Your open milestones", card_blocks.my_tasks(record, body["user"]["id"], today))

    @app.action(Action.STAGE_ADVANCE)
    def advance(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
        ack()
        onboarding_id = _onboarding_id(action.get("value"))
        from_stage = (action.get("value") or "").partition(":")[2]
        if onboarding_id is None or from_stage not in Stage._value2member_map_:
            return ephemeral(respond, "That button no longer works.")
        now = _now()
        with session_scope(services.engine) as session:
            outcome = advance_stage(session, onboarding_id, from_stage, actor_of(body), now=now)
        if outcome.kind in (Kind.MISSING, Kind.REFUSED, Kind.STALE):
            if outcome.kind is Kind.STALE and outcome.record:
                cards.refresh(services, outcome.record, stages={from_stage}, now=now)
            return ephemeral(respond, outcome.message)
        record, started = outcome.record, outcome.stage_started
        cards.refresh(services, record, stages={from_stage}, now=now)
        cards.thread_line(services, cards.card_for_stage(services, record.onboarding.id, from_stage), outcome.history)
        services.client.chat_postMessage(
            channel=record.onboarding.shared_channel_id,
            text=stage_summary(record, Stage(from_stage), started),
        )
        cards.post_card(services, record, cards.STAGE, started.value, now)
        if started is Stage.GO_LIVE:
            cards.post_card(services, record, cards.SIGNOFF, "", now)

    def signing(role: str):
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond) -> None:
            ack()
            onboarding_id = _onboarding_id(action.get("value"))
            if onboarding_id is None:
                return ephemeral(respond, "That button no longer works.")
            now = _now()
            with session_scope(services.engine) as session:
                outcome = sign_off(session, onboarding_id, actor_of(body), role, now=now, playbooks=services.playbooks)
            if outcome.kind is not Kind.APPLIED:
                if outcome.kind is Kind.STALE and outcome.record:
                    cards.refresh(services, outcome.record, stages={Stage.GO_LIVE.value}, now=now)
                return ephemeral(respond, outcome.message)
            record = outcome.record
            cards.refresh(services, record, stages={Stage.GO_LIVE.value}, now=now)
            with session_scope(services.engine) as session:
                card = cards.stored_card(session, record.onboarding.id, cards.SIGNOFF)
            cards.thread_line(services, card, outcome.history)

        return listener

    app.action(Action.SIGNOFF_SPONSOR)(signing("sponsor"))
    app.action(Action.SIGNOFF_CSM)(signing("csm"))
