"""The App Home: "my onboardings", "needs my attention" and the posts Slack refused, for the vendor's team."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.domain import Side
from bot.core.ids import Action
from bot.onboarding.home import home_of
from bot.runtime.services import Services
from messages.home import home_view


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        if services.side_of(body.get("team_id")) is not Side.VENDOR:
            return
        home = home_of(services.engine, user, services.clock.now())
        client.views_publish(user_id=user, view=home_view(home, user, services.permalink, services.templates))

    @app.action(Action.OPEN_CARD)
    def open_card(ack: Ack) -> None:
        # A link button: Slack opens the card itself and still sends the click, which only needs its ack.
        ack()
