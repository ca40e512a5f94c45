"""Slack listeners, organised by domain. `register` wires them all into one Bolt app.

Each listener is thin: through the trust boundary (handlers.boundary), one domain call, then an
answer or bot.slack.publish. May import bot.core, the domain packages, bot.slack, bot.runtime's
services and messages; never store, sqlalchemy or sqlmodel.
"""

from __future__ import annotations

from slack_bolt import App

from bot.runtime.services import Services
from handlers import (
    activity,
    channel_events,
    commands,
    errors,
    gate,
    handoff,
    home,
    milestones,
    nudge_controls,
    onboarding_commands,
    ongoing,
    stages,
    value_commands,
    voice,
)


def register(app: App, services: Services) -> None:
    router = commands.CommandRouter()
    errors.register(app)
    commands.register(app, services, router)
    handoff.register(app, services, router)
    gate.register(app, services)
    nudge_controls.register(app, services)
    activity.register(app, services)
    milestones.register(app, services)
    stages.register(app, services)
    onboarding_commands.register(app, services, router)
    value_commands.register(app, services, router)
    ongoing.register(app, services, router)
    home.register(app, services)
    voice.register(app, services)
    channel_events.register(app, services)  # last: it also acknowledges any other event
