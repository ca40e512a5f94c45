"""Overriding the readiness gate: vendor side only, with a reason, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.publish import HANDOFF, stored_card
from bot.core.domain import Side
from bot.slack.forms import FormValues
from bot.core.ids import Action, Field, View
from bot.onboarding.start import feasibility_of, readiness_of
from bot.runtime.services import Services
from handlers.replies import ephemeral
from messages import blocks as b
from messages import handoff_posts
from store import audit
from store.db import session_scope
from store.onboardings import load

REASON_MIN = 10


def override_view(onboarding_id: int, customer_name: str) -> dict[str, Any]:
    return b.modal(
        View.GATE_OVERRIDE,
        "Override the gate",
        [
            b.section(
                f"Kick off *{customer_name}* although the readiness gate is not met. "
                "Your name and reason are recorded in the audit log."
            ),
            b.input_block(
                Field.OVERRIDE_REASON,
                "Why kick off anyway?",
                b.text_input(multiline=True, max_length=1000, min_length=REASON_MIN),
            ),
        ],
        submit="Override",
        private_metadata=str(onboarding_id),
    )


def register(app: App, services: Services) -> None:
    playbooks = services.playbooks
    @app.action(Action.GATE_OVERRIDE)
    def open_override(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond) -> None:
        ack()
        if services.side_of(body["user"].get("team_id")) is not Side.VENDOR:
            ephemeral(respond, "Only the vendor's team can do this.")
            return
        with session_scope(services.engine) as session:
            record = load(session, int(action["value"]))
        if record is None:
            ephemeral(respond, "This onboarding no longer exists.")
            return
        if record.onboarding.gate_override_at is not None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"<@{record.onboarding.gate_override_by}> already overrode the gate.",
            )
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=override_view(record.onboarding.id, record.onboarding.customer_name)
        )

    @app.view(View.GATE_OVERRIDE)
    def submit_override(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = body["user"]
        if services.side_of(user.get("team_id")) is not Side.VENDOR:
            return ack(response_action="errors", errors={Field.OVERRIDE_REASON: "Only the vendor's team can do this."})
        reason = FormValues(view).text(Field.OVERRIDE_REASON)
        if len(reason) < REASON_MIN:
            return ack(
                response_action="errors",
                errors={Field.OVERRIDE_REASON: f"Give a reason of at least {REASON_MIN} characters."},
            )
        now = datetime.now(UTC)
        with session_scope(services.engine) as session:
            record = load(session, int(view["private_metadata"]))
            if record is None:
                return ack(response_action="errors", errors={Field.OVERRIDE_REASON: "This onboarding no longer exists."})
            ob = record.onboarding
            if ob.gate_override_at is None:
                ob.gate_override_at, ob.gate_override_by, ob.gate_override_reason = now, user["id"], reason
                ob.updated_at = now
                ob.version += 1
                audit.record(
                    session, onboarding_id=ob.id, entity="onboarding", entity_id=ob.id, action="gate_overridden",
                    actor=user["id"], actor_side=Side.VENDOR.value, reason=reason, at=now,
                )
            readiness = readiness_of(session, record)
            card = stored_card(session, ob.id, HANDOFF)
        ack()
        if card is not None:
            blocks = handoff_posts.internal_summary(
                record, readiness, feasibility_of(record, playbooks), overridden_by=ob.gate_override_by
            )
            client.chat_update(channel=card.channel_id, ts=card.ts, blocks=blocks, text=f"Handoff: {ob.customer_name}")
            client.chat_postMessage(
                channel=card.channel_id,
                thread_ts=card.ts,
                text=f"<@{ob.gate_override_by}> overrode the readiness gate: {ob.gate_override_reason}",
            )
