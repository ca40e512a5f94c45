"""Who speaks in the shared channels: each person's message is recorded as activity for its side,
so the silent-account rule and the health score read what really happened."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.onboarding.activity import spoke, watched
from bot.runtime.services import Services

log = logging.getLogger("onboard_bot.activity")

# Subtypes where a person is speaking; the rest are edits, deletions, joins, topic changes, bots...
SPOKEN = frozenset({None, "file_share", "thread_broadcast", "me_message"})
SLACKBOT = "USLACKBOT"


def ts_instant(ts: str) -> datetime:
    """A message ts as an aware UTC instant, to the microsecond (a float would round it)."""
    seconds, _, fraction = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int((fraction + "000000")[:6]))


def _is_person_speaking(event: dict[str, Any], bot_user_id: str) -> bool:
    user = event.get("user")
    return (
        event.get("subtype") in SPOKEN
        and not event.get("bot_id")
        and bool(user and event.get("ts") and event.get("channel"))
        and user not in (bot_user_id, SLACKBOT)
    )


def register(app: App, services: Services) -> None:
    # A user's home team never changes; a failed look-up raises and so is not cached.
    @lru_cache(maxsize=4096)
    def home_team(user_id: str) -> str | None:
        return services.client.users_info(user=user_id)["user"].get("team_id")

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        if not _is_person_speaking(event, services.bot_user_id):
            return
        onboarding_ids = watched(services.engine, event["channel"])
        if not onboarding_ids:
            return
        # Slack Connect message events name the speaker's team; other events need a look-up.
        team = event.get("user_team")
        if not team:
            try:
                team = home_team(event["user"])
            except SlackApiError as exc:
                log.warning("could not tell whose side %s is on: %s", event["user"], exc.response.get("error"))
                return
        spoke(
            services.engine,
            onboarding_ids,
            user_id=event["user"],
            side=services.side_of(team),
            at=ts_instant(event["ts"]),
        )
