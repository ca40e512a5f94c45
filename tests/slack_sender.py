"""Sends the app what Slack sends: signed slash commands, clicks, view submissions and events."""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.demo.requests import Reply, sign

__all__ = ["Reply", "SlackSender", "sign"]

_ids = itertools.count(1)


@dataclass
class SlackSender:
    url: str  # the app's POST /slack/events URL
    signing_secret: str
    team_id: str
    api_app_id: str = "A0ONBOARD"
    on_reply: list = field(default_factory=list)  # callables(reply) run on every reply
    # Where trigger ids and response_urls come from; the fake Slack's, so they expire and answer
    # like Slack's. The fallbacks point nowhere reachable, never at Slack itself.
    new_trigger_id: Callable[[], str] | None = None
    new_response_url: Callable[..., str] | None = None

    def _trigger(self, n: int) -> str:
        return self.new_trigger_id() if self.new_trigger_id else f"{n}.{n * 7}.t{n:08x}"

    def _response_url(self, n: int, channel: str | None = None, ts: str | None = None) -> str:
        if self.new_response_url:
            return self.new_response_url(channel, ts)
        return f"http://127.0.0.1:9/response/{n}"

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.signing_secret, ts, body),
            **(headers or {}),
        }
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request("POST", parts.path, body=body, headers=sent)
            resp = conn.getresponse()
            reply = Reply(resp.status, dict(resp.getheaders()), resp.read().decode())
        finally:
            conn.close()
        for hook in self.on_reply:
            hook(reply)
        return reply

    def _form(self, fields: dict[str, Any], **kw) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kw)

    def _interactive(self, payload: dict[str, Any], **kw) -> Reply:
        return self._form({"payload": json.dumps(payload)}, **kw)

    def command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        team_id: str | None = None,
        trigger_id: str | None = None,
        **kw,
    ) -> Reply:
        n = next(_ids)
        return self._form(
            {
                "token": "legacy-verification-token",
                "team_id": team_id or self.team_id,
                "team_domain": "vendor",
                "channel_id": channel_id,
                "channel_name": "general",
                "user_id": user_id,
                "user_name": user_id.lower(),
                "command": "/onboard",
                "text": text,
                "api_app_id": self.api_app_id,
                "is_enterprise_install": "false",
                "response_url": self._response_url(n, channel_id),
                "trigger_id": trigger_id or self._trigger(n),
            },
            **kw,
        )

    def _user(self, user_id: str, team_id: str | None) -> dict[str, Any]:
        team = team_id or self.team_id
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team}

    def block_action(
        self,
        action_id: str,
        *,
        user_id: str,
        value: str | None = None,
        team_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view: dict[str, Any] | None = None,
        block_id: str = "b",
        selected: dict[str, Any] | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        message: dict[str, Any] | None = None,
        **kw,
    ) -> Reply:
        """A click; `message` is the whole message clicked on, which Slack sends along (blocks and all)."""
        n = next(_ids)
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "action_ts": f"{time.time():.6f}"}
        if value is not None:
            action.update(type="button", value=value)
        if selected is not None:
            action.update(selected)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "vendor"},
            "user": self._user(user_id, team_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self._trigger(n),
            "response_url": response_url or self._response_url(n, channel_id, message_ts),
            "actions": [action],
        }
        if channel_id:
            payload["channel"] = {"id": channel_id, "name": "shared"}
            payload["container"] = {"type": "message", "channel_id": channel_id, "message_ts": message_ts}
            payload["message"] = message or {"ts": message_ts, "type": "message"}
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        return self._interactive(payload, **kw)

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        user_id: str,
        team_id: str | None = None,
        **kw,
    ) -> Reply:
        """Submit `view` (as the fake Slack stored it) with state `values` {block_id: {action_id: value}}."""
        n = next(_ids)
        submitted = {**view, "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "vendor"},
            "user": self._user(user_id, team_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": self._trigger(n),
            "view": submitted,
            "response_urls": [],
        }
        return self._interactive(payload, **kw)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw) -> Reply:
        n = next(_ids)
        envelope = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": "U0BOT", "is_bot": True}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json", **kw)
