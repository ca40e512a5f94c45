"""Events about the channels themselves: someone joining, a channel shared or unshared.

All are subscribed to, so all are acknowledged (an unanswered event is retried, and Slack turns off
an app's events when too many fail). A channel being shared or unshared is logged and, when it is an
onboarding's shared channel, recorded in that onboarding's audit log. A person joining changes
nothing here: their side is read from their team when they first speak.

`register` also adds the listener that acknowledges any other event, so it goes last.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.onboarding.channel import sharing_changed
from bot.onboarding.ongoing import champion_left
from bot.runtime.services import Services
from handlers.activity import ts_instant

log = logging.getLogger("onboard_bot.channels")

_TS = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")


def register(app: App, services: Services) -> None:
    def when(event: dict[str, Any]):
        ts = event.get("event_ts")
        return ts_instant(ts) if isinstance(ts, str) and _TS.fullmatch(ts) else services.clock.now()

    def note(event: dict[str, Any], *, shared: bool, team_key: str) -> None:
        channel, team = event.get("channel"), event.get(team_key)
        if not isinstance(channel, str) or not channel:
            return
        team = team if isinstance(team, str) else None
        onboardings = sharing_changed(services.engine, channel, shared=shared, team_id=team, at=when(event))
        log.info(
            "channel %s %s team %s%s",
            channel,
            "shared with" if shared else "no longer shared with",
            team or "-",
            f" (onboarding {', '.join(map(str, onboardings))})" if onboardings else "",
        )

    @app.event("channel_shared")
    def on_channel_shared(event: dict[str, Any]) -> None:
        note(event, shared=True, team_key="connected_team_id")

    @app.event("channel_unshared")
    def on_channel_unshared(event: dict[str, Any]) -> None:
        note(event, shared=False, team_key="previously_connected_team_id")

    @app.event("member_joined_channel")
    def on_member_joined(event: dict[str, Any]) -> None:
        return None

    @app.event("member_left_channel")
    def on_member_left(event: dict[str, Any]) -> None:
        channel, user = event.get("channel"), event.get("user")
        ours = isinstance(channel, str) and channel and isinstance(user, str) and user
        if ours and champion_left(services.engine, str(channel), str(user), at=when(event)):
            log.info("the champion %s left %s", user, channel)

    @app.event(re.compile(".+"))
    def on_any_other_event(event: dict[str, Any]) -> None:
        return None
