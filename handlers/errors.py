"""The one place unexpected listener errors end up: logged, and the person told plainly."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse

log = logging.getLogger("onboard_bot.errors")

SORRY = "Something went wrong on our side and I could not finish that. Please try again in a moment."


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond) -> BoltResponse | None:
        # The payload holds people's text: log what failed, not what was in it.
        log.error("listener failed: %s: %s", type(error).__name__, error, exc_info=error)
        if body.get("response_url"):
            try:
                respond(response_type="ephemeral", text=SORRY, replace_original=False)
            except Exception:
                log.warning("could not tell the user about the failure")
        return None
