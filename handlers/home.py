"""The App Home: "my onboardings", my team's numbers, my adoption plays, "needs my attention" and the posts Slack
refused, for the vendor's team."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.domain import Side
from bot.core.ids import Action
from bot.core.payloads import TeamPage
from bot.onboarding.home import home_of
from bot.runtime.services import Services
from bot.value.team_home import team_of
from handlers.boundary import Interaction, on_action, sealed
from messages.home import home_view
from messages.home_plays import plays_section
from messages.home_team import team_blocks, team_modal


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        if services.side_of(body.get("team_id")) is not Side.VENDOR:
            return
        now = services.clock.now()
        home = home_of(services.engine, user, now)
        team = team_blocks(team_of(services.engine, user, now, services.playbooks))
        plays = plays_section(home.plays, services.templates)
        client.views_publish(user_id=user, view=home_view(home, user, services.permalink, [*team, *plays]))

    def team_page(i: Interaction[TeamPage]) -> dict[str, Any] | None:
        """The page asked for of the clicker's own team (read again now), None when they have none in that role."""
        summaries = team_of(services.engine, i.actor.user_id, services.clock.now(), services.playbooks)
        mine = next((summary for summary in summaries if summary.role is i.payload.role), None)
        if mine is None:
            i.say("You have no onboardings in that role any more.")
            return None
        return team_modal(mine, i.payload.page)

    @on_action(app, services, Action.TEAM_ALL, TeamPage, vendor_only=True)
    def show_all(i: Interaction[TeamPage]) -> None:
        view = team_page(i)
        if view is not None:
            i.open_view(services, view)

    @on_action(
        app, services, re.compile(rf"^{re.escape(Action.TEAM_PAGE)}\.(previous|next)$"), TeamPage, vendor_only=True
    )
    def turn_page(i: Interaction[TeamPage]) -> None:
        view = team_page(i)
        shown = i.body.get("view") or {}
        if view is not None and shown.get("id"):
            i.client.views_update(view_id=shown["id"], view=sealed(services, view))

    @app.action(Action.OPEN_CARD)
    def open_card(ack: Ack) -> None:
        # A link button: Slack opens the card itself and still sends the click, which only needs its ack.
        ack()
