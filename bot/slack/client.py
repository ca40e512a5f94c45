"""The Web API clients the bot uses, each with the retries that are safe for what it does.

- The app's client (bot.runtime.app.make_client) retries reads and edits on 429 and dropped
  connections: doing one of those twice does no harm.
- Every call first gives back the calling thread's turn at click work (bot.slack.turns): from
  there on the thread only waits on Slack.
- `without_retries` is for posts, which Slack cannot deduplicate (a retried `chat.postMessage` can
  land twice), and for look-ups made before an acknowledgement, which must answer fast or not at
  all: a sleeping retry would make Slack's 3 seconds run out.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.slack.turns import give_back

LOOKUP_TIMEOUT = 2.0  # seconds; a look-up before an ack that takes longer is answered with "try again"


class TurnClient(WebClient):
    """A WebClient whose calls give back the calling thread's turn before they wait on Slack."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        give_back()
        return super().api_call(api_method, **kwargs)


def without_retries(client: WebClient, *, timeout: float | None = None) -> WebClient:
    """The same connection settings, no retry handlers, and optionally a shorter timeout."""
    return type(client)(
        token=client.token,
        base_url=client.base_url,
        timeout=int(timeout) if timeout is not None and timeout >= 1 else client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=client.logger,
        team_id=client.default_params.get("team_id"),
        retry_handlers=[],
    )
