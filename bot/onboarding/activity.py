"""Who speaks in the shared channels: each person's message counts as activity for their side, so
the silent-account rule and the health score read what really happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot.core.domain import Side
from store.activity import record_message, watched_in_channel
from store.db import session_scope


def watched(engine: Engine, channel_id: str) -> list[int]:
    """The onboardings still running whose shared channel this is (normally one, or none)."""
    with session_scope(engine) as session:
        return watched_in_channel(session, channel_id)


def spoke(engine: Engine, onboarding_ids: list[int], *, user_id: str, side: Side | None, at: datetime) -> None:
    """Record one message (however often Slack delivers its event) in each onboarding of its channel."""
    if side is None:
        return  # nobody the bot can place
    with session_scope(engine) as session:
        for onboarding_id in onboarding_ids:
            record_message(session, onboarding_id=onboarding_id, slack_user_id=user_id, side=side.value, at=at)
