"""What Slack sends an app, built and signed the way Slack does it: slash commands, clicks, view
submissions and events, each a POST with Slack's v0 signature over the raw body."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

_ids = itertools.count(1)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature: an HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.text) if self.text else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Sent:
    """One request sent to the app and how it answered."""

    kind: str  # "command", "block_actions", "view_submission", "view_closed" or "event:<type>"
    user: str
    signed: bool
    status: int


@dataclass
class SlackRequests:
    url: str  # the app's POST /slack/events URL
    signing_secret: str
    team_id: str  # the team the app is installed in
    api_app_id: str = "A0ONBOARD"
    new_trigger_id: Callable[[], str] | None = None
    new_response_url: Callable[..., str] | None = None
    sent: list[Sent] = field(default_factory=list)

    def post(self, body: bytes, content_type: str, *, kind: str = "", user: str = "") -> Reply:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(self.signing_secret, ts, body),
        }
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            resp = conn.getresponse()
            reply = Reply(resp.status, dict(resp.getheaders()), resp.read().decode())
        finally:
            conn.close()
        self.sent.append(Sent(kind, user, True, reply.status))
        return reply

    def _trigger(self) -> str:
        return self.new_trigger_id() if self.new_trigger_id else ""

    def _response_url(self, channel: str | None = None, ts: str | None = None) -> str:
        return self.new_response_url(channel, ts) if self.new_response_url else ""

    def _form(self, fields: dict[str, Any], kind: str, user: str) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", kind=kind, user=user)

    def _interactive(self, payload: dict[str, Any], user: str) -> Reply:
        return self._form({"payload": json.dumps(payload)}, payload["type"], user)

    def _user(self, user_id: str, team_id: str, name: str) -> dict[str, Any]:
        return {"id": user_id, "username": name, "name": name, "team_id": team_id}

    def command(
        self,
        text: str,
        *,
        user_id: str,
        user_name: str,
        team_id: str,
        channel_id: str,
        channel_name: str,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> Reply:
        return self._form(
            {
                "token": "legacy-verification-token",
                "team_id": team_id,
                "team_domain": "vendor",
                "channel_id": channel_id,
                "channel_name": channel_name,
                "user_id": user_id,
                "user_name": user_name,
                "command": "/onboard",
                "text": text,
                "api_app_id": self.api_app_id,
                "is_enterprise_install": "false",
                "response_url": response_url or self._response_url(channel_id),
                "trigger_id": trigger_id or self._trigger(),
            },
            "command",
            user_id,
        )

    def block_action(
        self,
        action: dict[str, Any],
        *,
        user_id: str,
        user_name: str,
        team_id: str,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        is_ephemeral: bool = False,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> Reply:
        """A click on a message's (or a view's) element; `message` is the whole message, as Slack sends it."""
        action = {**action, "action_ts": f"{time.time():.6f}"}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "vendor"},
            "user": self._user(user_id, team_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self._trigger(),
            "actions": [action],
        }
        if channel_id:
            ts = (message or {}).get("ts")
            payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
            payload["container"] = {
                "type": "message",
                "channel_id": channel_id,
                "message_ts": ts,
                "is_ephemeral": is_ephemeral,
            }
            payload["message"] = message or {"ts": ts, "type": "message"}
            payload["response_url"] = response_url or self._response_url(channel_id, None if is_ephemeral else ts)
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        return self._interactive(payload, user_id)

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        user_id: str,
        user_name: str,
        team_id: str,
        trigger_id: str | None = None,
    ) -> Reply:
        """Submit `view` with its state `values` {block_id: {action_id: element state}}."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "vendor"},
            "user": self._user(user_id, team_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self._trigger(),
            "view": {**view, "state": {"values": values}},
            "response_urls": [],
        }
        return self._interactive(payload, user_id)

    def view_closed(self, view: dict[str, Any], *, user_id: str, user_name: str, team_id: str) -> Reply:
        payload = {
            "type": "view_closed",
            "team": {"id": self.team_id, "domain": "vendor"},
            "user": self._user(user_id, team_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "view": view,
            "is_cleared": False,
        }
        return self._interactive(payload, user_id)

    def event(self, event: dict[str, Any], *, team_id: str, bot_user_id: str) -> Reply:
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(_ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": bot_user_id, "is_bot": True}],
        }
        return self.post(
            json.dumps(envelope).encode(),
            "application/json",
            kind=f"event:{event.get('type')}",
            user=event.get("user", ""),
        )
