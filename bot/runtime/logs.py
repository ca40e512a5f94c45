"""Logging to stderr: one line per Slack request or event, never a secret or a message body."""

from __future__ import annotations

import logging
import re
import sys
import uuid

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("onboard_bot.requests")

# Tokens and signing secrets look like these; anything matching is masked before it is written.
_SECRET = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|v0=[0-9a-f]{64})")


class RedactSecrets(logging.Filter):
    def __init__(self, extra_secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._extra = tuple(s for s in extra_secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _SECRET.sub("[redacted]", message)
        for secret in self._extra:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class QuietLibraries(logging.Filter):
    """Drop the Slack libraries' DEBUG lines: they carry request bodies, i.e. people's names and text.

    A filter on the handler, because Bolt sets its own loggers' levels from the root logger's.
    """

    QUIET = ("slack_bolt", "slack_sdk", "urllib3")
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we hand it wins; it does, by design.
    EXPECTED = "As you gave `client` as well"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(self.QUIET):
            return record.levelno >= logging.INFO and not str(record.msg).startswith(self.EXPECTED)
        return True


def configure(level: str, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(QuietLibraries())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def describe(body: dict) -> tuple[str, str]:
    """(kind, name) of a Slack payload: what happened, without any of its content."""
    if "command" in body:
        return "command", body["command"]
    kind = body.get("type", "unknown")
    if kind == "event_callback":
        return "event", body.get("event", {}).get("type", "?")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return "action", actions[0].get("action_id", "?")
    if kind in ("view_submission", "view_closed"):
        return kind, body.get("view", {}).get("callback_id", "?")
    return kind, body.get("callback_id", "")


def log_request(req: BoltRequest, response: BoltResponse, elapsed_s: float) -> None:
    body = req.body if isinstance(req.body, dict) else {}
    kind, name = describe(body)
    user = body.get("user_id") or (body.get("user") or {}).get("id") or body.get("event", {}).get("user", "-")
    team = body.get("team_id") or (body.get("team") or {}).get("id", "-")
    # Slack names events (event_id); commands and clicks carry no id of their own.
    request_id = body.get("event_id") or uuid.uuid4().hex[:12]
    retry = req.headers.get("x-slack-retry-num", [None])[0]
    log.info(
        "%s %s id=%s team=%s user=%s status=%s ms=%d%s",
        kind,
        name,
        request_id,
        team,
        user,
        response.status,
        elapsed_s * 1000,
        f" retry={retry}" if retry else "",
    )
