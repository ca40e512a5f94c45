"""The one place unexpected listener errors end up: logged, and the person told plainly.

The person is told only through the `response_url` of a request known to come from Slack: one whose
signature the app's front door checked (or that came over the app's own Socket Mode connection),
which marks it `VERIFIED` in the context. Anything else could name any URL at all.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse

log = logging.getLogger("onboard_bot.errors")

SORRY = "Something went wrong on our side and I could not finish that. Please try again in a moment."
# Set in the request context once the request is known to come from Slack.
VERIFIED = "onboard_request_verified"


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], context: dict[str, Any], respond) -> BoltResponse | None:
        # The payload holds people's text: log what failed, not what was in it.
        log.error("listener failed: %s: %s", type(error).__name__, error, exc_info=error)
        if context.get(VERIFIED) is True and isinstance(body, dict) and body.get("response_url"):
            try:
                respond(response_type="ephemeral", text=SORRY, replace_original=False)
            except Exception:
                log.warning("could not tell the user about the failure")
        return None
