"""The app factory: settings in, a ready Bolt app out.

Every HTTP request comes in through `OnboardApp.handle_http`, which checks Slack's signature on the
raw bytes before anything else reads them, then that the body is a Slack payload of a shape the
listeners can take; only then does Bolt see it. A request that fails either gets its status (401,
400, 413) and one log line, and nothing else happens: no listener, no error handler, no call to Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy.engine import Engine

import handlers
from bot.planning.playbook import load_playbooks
from bot.runtime.config import ConfigError, Settings
from bot.runtime.logs import log_request
from bot.runtime.services import Services
from bot.slack.client import TurnClient
from bot.slack.lanes import Lanes
from bot.slack.turns import Turns
from handlers.errors import VERIFIED
from store.db import make_engine

requests_log = logging.getLogger("onboard_bot.requests")

# Slack bodies are small; a large one is not from Slack.
MAX_BODY_BYTES = 1_048_576
# Listener threads: they ack, decode and hand the slow part of a click to `Services.work`, so they are
# busy only briefly; many of them keep a burst of clicks from queueing for its acks.
LISTENER_THREADS = 64
# Slack's advice: refuse a request whose timestamp is more than five minutes from now (replays).
MAX_AGE_S = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# Payload types Slack may send that no listener here takes: acknowledged (so Slack neither retries
# nor shows the person an error) and otherwise left alone.
ACKNOWLEDGED_ONLY = frozenset(
    {
        "app_rate_limited",
        "interactive_message",
        "message_action",
        "shortcut",
        "block_suggestion",
        "dialog_submission",
        "dialog_suggestion",
        "dialog_cancellation",
        "workflow_step_edit",
    }
)
_VIEW_TYPES = frozenset({"view_submission", "view_closed"})


def signature_problem(
    secret: str, raw: bytes, timestamp: str | None, signature: str | None, now: float | None = None
) -> str | None:
    """Why this request is not provably from Slack, or None when it is (Slack's v0 signing scheme).

    The signature is checked on the raw bytes; the timestamp's age only when given `now`.
    """
    if not secret:
        return "no signing secret configured"
    if timestamp is None or signature is None:
        return "unsigned"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "bad timestamp"
    if now is not None and abs(now - int(timestamp)) > MAX_AGE_S:
        return "stale timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "bad signature"
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected.encode(), signature.encode()) else "bad signature"


def parse_body(text: str, content_type: str | None) -> Any:
    """The body as Bolt will read it (JSON, a form, or a form carrying `payload=<JSON>`); raises ValueError."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return json.loads(fields["payload"])
    return fields


def shape_problem(body: Any) -> tuple[int, str] | None:
    """(status, reason) for a body the listeners cannot take, or None when it may be dispatched."""
    if not isinstance(body, dict):
        return 400, "body is not an object"
    # What the request log and Bolt's own context building read from any payload.
    for key in ("user", "team", "event", "view"):
        if body.get(key) and not isinstance(body[key], dict):
            return 400, f"{key} is not an object"
    if "command" in body:
        return None if isinstance(body["command"], str) and body["command"] else (400, "empty command")
    if body.get("ssl_check"):
        return None
    kind = body.get("type")
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else (400, "url_verification without a challenge")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return 400, "event_callback without an event"
        return None
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return 400, "block_actions without actions"
        return None
    if kind in _VIEW_TYPES:
        view = body.get("view")
        if (
            not isinstance(view, dict)
            or not isinstance(view.get("type"), str)
            or not isinstance(view.get("callback_id"), str)
        ):
            return 400, f"{kind} without a view"
        return None
    if kind in ACKNOWLEDGED_ONLY:
        return 200, f"{kind} is not handled"
    return 400, "unknown payload type"


def _first(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


class OnboardApp(App):
    """Bolt's App behind a strict front door, logging one line for every request (rejected ones included)."""

    def __init__(self, *, signing_secret: str = "", **kwargs: Any) -> None:
        super().__init__(signing_secret=signing_secret, **kwargs)
        self.signing_secret = signing_secret

    def handle_http(self, raw: bytes, headers: Mapping[str, str], query: str = "") -> BoltResponse:
        """Verify, parse and check one HTTP request from Slack, then dispatch it. `headers` are lower-case.

        The timestamp's age is left to Bolt's own request verification, the first thing its dispatch
        does (after answering Slack's ssl_check): by then the timestamp is known to be a plain
        number, so that check can only answer 401, never raise.
        """
        started = time.perf_counter()
        if len(raw) > MAX_BODY_BYTES:
            return self._refuse(413, "body too large", started)
        problem = signature_problem(
            self.signing_secret,
            raw,
            _first(headers, "x-slack-request-timestamp"),
            _first(headers, "x-slack-signature"),
        )
        if problem:
            return self._refuse(401, problem, started)
        try:
            text = raw.decode("utf-8")
            content_type = (_first(headers, "content-type") or "").split(";")[0].strip().lower() or None
            body = parse_body(text, content_type)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            return self._refuse(400, "body is not a Slack payload", started)
        problem_shape = shape_problem(body)
        if problem_shape is not None:
            return self._refuse(*problem_shape, started)
        try:
            req = BoltRequest(body=text, query=query, headers=dict(headers), context={VERIFIED: True})
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            # Bolt reads ids (team, enterprise, authorizations...) from the body as it builds the request.
            return self._refuse(400, "body is not a Slack payload", started)
        return self.dispatch(req)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        if req.mode == "socket_mode":  # came over our own authenticated connection to Slack
            req.context[VERIFIED] = True
        problem = shape_problem(req.body)
        if problem is not None:
            return self._refuse(*problem, started)
        response = super().dispatch(req)
        log_request(req, response, time.perf_counter() - started)
        return response

    def _refuse(self, status: int, reason: str, started: float) -> BoltResponse:
        # Nothing from the body: it is unverified or malformed, and may carry anything.
        requests_log.info("refused %s status=%s ms=%d", reason, status, (time.perf_counter() - started) * 1000)
        if status == 200:
            return BoltResponse(status=200, body="")
        return BoltResponse(status=status, body={"error": "invalid request"})


def make_client(settings: Settings) -> WebClient:
    # Reads and updates are retried on 429 (honouring Retry-After) and on dropped connections.
    # New posts go through the outbox, which has its own dedupe, so a retry cannot post twice.
    return TurnClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def build_services(
    settings: Settings,
    *,
    engine: Engine | None = None,
    client: WebClient | None = None,
    work: Executor | None = None,
    follow_ups: Executor | None = None,
    turns: Turns | None = None,
) -> Services:
    """Load the playbooks, connect to the database and ask Slack who we are (the vendor's team id).

    `follow_ups` runs what a change shows after the clicked card (`work` when not given), each
    onboarding's part in a turn of `turns` when given (bot.slack.turns)."""
    playbooks = load_playbooks(settings.playbooks_dir)
    client = client or make_client(settings)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack: {exc.response.get('error', 'unknown error')}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"SLACK_API_URL {settings.slack_api_url} cannot be reached: {exc}") from None
    return Services(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        client=client,
        vendor_team_id=auth["team_id"],
        bot_user_id=auth["user_id"],
        playbooks=playbooks,
        team_url=auth.get("url") or "",
        work=work,
        follow_ups=Lanes(lanes, turns) if (lanes := follow_ups or work) is not None else None,
    )


def create_app(services: Services, *, listener_executor: Executor | None = None) -> OnboardApp:
    """The Bolt app with every listener registered.

    Bolt runs each listener on `listener_executor` and answers Slack once it acks. Its default pool
    (5 threads) makes an ack wait for a free thread while others do slow work, so the default here is
    a wide pool of listener threads that ack and hand the slow part to `services.work`.
    """
    app = OnboardApp(
        listener_executor=listener_executor
        or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="ack"),
        client=services.client,
        signing_secret=services.settings.slack_signing_secret or "",
        # build_services already checked the token with auth.test.
        token_verification_enabled=False,
        name="onboard-bot",
    )
    handlers.register(app, services)
    return app
