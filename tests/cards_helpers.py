"""Reading the cards as Slack shows them, and clicking their buttons as people do."""

from __future__ import annotations

import json
from typing import Any

from freezegun import freeze_time
from sqlmodel import select

from bot.core.payloads import MilestoneRef
from store.db import session_scope
from store.models import Milestone, Onboarding, PostedCard
from tests.conftest import CUSTOMER_TEAM, Harness
from tests.handoff_flow import HandoffFlow
from tests.slack_sender import Reply

CUSTOMERS = {"U0CHAMPION", "U0SPONSOR"}


def start_onboarding(h: Harness, **complete_kwargs) -> Onboarding:
    with freeze_time("2026-05-01 15:00:00", tick=True):
        HandoffFlow(h).complete(**complete_kwargs)
    with session_scope(h.engine) as s:
        return s.exec(select(Onboarding).order_by(Onboarding.id.desc())).first()


def card(h: Harness, onboarding_id: int, kind: str, subject: str = "") -> PostedCard:
    with session_scope(h.engine) as s:
        return s.exec(
            select(PostedCard).where(
                PostedCard.onboarding_id == onboarding_id, PostedCard.kind == kind, PostedCard.subject == subject
            )
        ).one()


def shown(h: Harness, c: PostedCard) -> dict[str, Any]:
    """The card's message as it stands in the channel now."""
    return next(m for m in h.fake.messages(c.channel_id) if m["ts"] == c.ts)


def milestone(h: Harness, onboarding_id: int, key: str) -> Milestone:
    with session_scope(h.engine) as s:
        return s.exec(select(Milestone).where(Milestone.onboarding_id == onboarding_id, Milestone.key == key)).one()


def ref(h: Harness, onboarding_id: int, key: str) -> MilestoneRef:
    m = milestone(h, onboarding_id, key)
    return MilestoneRef(onboarding_id, m.id, m.version)


def team_of(user_id: str) -> str | None:
    return CUSTOMER_TEAM if user_id in CUSTOMERS else None


def click(h: Harness, action_id: str, value: str, user_id: str, c: PostedCard | None = None, **kw) -> Reply:
    return h.slack.block_action(
        action_id,
        user_id=user_id,
        team_id=team_of(user_id),
        value=value,
        channel_id=c.channel_id if c else None,
        message_ts=c.ts if c else None,
        **kw,
    )


def last_ephemeral(h: Harness, since: int = 0) -> dict[str, Any]:
    """The latest answer sent back through a response_url, after the first `since` calls."""
    call = h.fake.wait_for("response_url", count=since + 1)
    return call.args


def as_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def button_values(message: dict[str, Any], action_id: str) -> list[str]:
    values = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == action_id:
                values.append(element.get("value"))
    return values


def command_answer(h: Harness, text: str, **kw) -> dict[str, Any]:
    """Send `/onboard <text>` and return its answer: the ack's own body when it has one (a refusal
    that needs no look-up), else what came through the command's response_url after the ack."""
    before = len(h.fake.calls_to("response_url"))
    reply = h.slack.command(text, **kw)
    assert reply.status == 200, reply.text
    if reply.text:
        return reply.json
    return h.fake.wait_for("response_url", count=before + 1).args
