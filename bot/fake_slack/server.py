"""FakeSlack: an HTTP server that answers Slack Web API calls and records them.

It keeps a small directory (users, channels) and the state Slack would show (messages, views,
uploaded files), answers with realistic ids and `ts` values, and can be told to fail the next
calls with HTTP 429 + Retry-After, a 5xx, or an `{"ok": false}` error.

For benchmarks it can also answer every call after a delay (`latency`, seconds) and keep Slack's
limit of one message a second per channel (`channel_rate_limit`): a second `chat.postMessage` to
a channel within a second of the last one it took is answered 429 with Retry-After. Both are off
unless asked for.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from . import methods, views  # noqa: F401  (importing views registers the views.* methods)
from .methods import SlackError

# Arguments Slack takes as JSON-encoded strings when they travel as form fields or query params.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "files"})
INVALID_JSON = {"ok": False, "error": "invalid_json"}


@dataclass
class Call:
    method: str  # Web API method, or "response_url" for a post to a response_url
    args: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # header names lower-cased
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0
    target: str = ""  # for "response_url": the key of the response_url posted to

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    applied: bool


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlack:
    # Where message timestamps come from (seconds since the epoch); time.time when None. The demo
    # sandbox sets it to its own clock, so messages carry the sandbox's time.
    ts_clock: Callable[[], float] | None = None

    def __init__(
        self,
        *,
        vendor_team_id: str = "T0VENDOR",
        bot_token: str = "xoxb-test-token",
        bot_user_id: str = "U0BOT",
        host: str = "127.0.0.1",
        port: int = 0,
        app_token: str = "xapp-test-token",
        bot_id: str = "B0BOT",
        app_id: str = "A0APP",
        team_domain: str = "vendor",
        latency: float = 0.0,
        channel_rate_limit: bool = False,
    ) -> None:
        self.vendor_team_id, self.bot_token, self.bot_user_id = vendor_team_id, bot_token, bot_user_id
        self.app_token, self.bot_id, self.app_id, self.team_domain = app_token, bot_id, app_id, team_domain
        self.host, self.port = host, port
        self.latency, self.channel_rate_limit = latency, channel_rate_limit
        self.calls: list[Call] = []
        self.errors: list[BaseException] = []  # raised by listeners, or by the fake itself (answered as 500)
        self.users: dict[str, dict] = {}
        self.channels: dict[str, dict] = {}
        self._cond = threading.Condition(threading.RLock())
        self._listeners: list[Callable[[Call], Any]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._seq = itertools.count(1)
        self.reset(keep_directory=False)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-slack"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root_url}/api/"

    # -- directory ---------------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        team_id: str | None = None,
        email: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        tz: str = "America/New_York",
        is_stranger: bool = False,
    ) -> dict:
        real_name = real_name or name
        offset = ZoneInfo(tz).utcoffset(datetime.now(UTC))
        profile = {
            "real_name": real_name,
            "display_name": name,
            "real_name_normalized": real_name,
            "display_name_normalized": name,
            "team": team_id or self.vendor_team_id,
        }
        if email and not is_stranger:  # the other org hides a stranger's email
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": team_id or self.vendor_team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": tz,
            "tz_label": ZoneInfo(tz).tzname(datetime.now(UTC)),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }
        if is_stranger:
            user["is_stranger"] = True
        with self._cond:
            self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_ext_shared: bool = False,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        bot_is_member: bool = True,
        is_archived: bool = False,
    ) -> dict:
        """The returned record is the fake's state: change `is_archived` or `members` on it freely."""
        channel = {
            "id": channel_id,
            "name": name,
            "is_ext_shared": is_ext_shared,
            "is_private": is_private,
            "members": list(members),
            "bot_is_member": bot_is_member,
            "is_archived": is_archived,
            "is_im": False,
            "created": int(time.time()),
        }
        with self._cond:
            self.channels[channel_id] = channel
        return channel

    def add_message(
        self, channel: str, *, user: str, text: str = "", thread_ts: str | None = None, **fields: Any
    ) -> dict:
        """Put a message from someone else (a person, another app) into a channel."""
        with self._cond:
            message = methods.store_message(self, channel, user=user, text=text, thread_ts=thread_ts, **fields)
            return copy.deepcopy(message)

    # -- state a test can read -----------------------------------------------------------------
    def messages(self, channel: str) -> list[dict]:
        with self._cond:
            return copy.deepcopy(self._messages.get(channel, []))

    def view(self, key: str) -> dict | None:
        """The current state of a view, by view id or external_id."""
        with self._cond:
            view = self._views.get(key) or next((v for v in self._views.values() if v["external_id"] == key), None)
            return copy.deepcopy(view)

    def home_view(self, user_id: str) -> dict | None:
        with self._cond:
            return self.view(self._homes[user_id]) if user_id in self._homes else None

    def uploaded(self, file_id: str) -> bytes | None:
        with self._cond:
            return self._files.get(file_id, {}).get("content")

    def new_trigger_id(self) -> str:
        """A trigger id that works once and expires 3 seconds (by time.time()) after it was issued."""
        with self._cond:
            trigger = f"{int(time.time())}.{next(self._seq)}.{self.bot_id.lower()}"
            self._triggers[trigger] = time.time()
            return trigger

    def response_url(self, channel: str | None = None, message_ts: str | None = None) -> str:
        """A response_url for an interaction; with channel/message_ts it can replace or delete that message."""
        with self._cond:
            key = f"R{next(self._seq):08d}"
            self._response_urls[key] = {"channel": channel, "ts": message_ts, "uses": 0}
            return f"{self.root_url}/response/{key}"

    # -- recorded calls ----------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def add_listener(self, fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        with self._cond:
            self._listeners.append(fn)
        return fn

    def remove_listener(self, fn: Callable[[Call], Any]) -> None:
        with self._cond:
            self._listeners.remove(fn)

    def wait_for(
        self, method: str, predicate: Callable[[Call], bool] | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> Call:
        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (predicate is None or predicate(c))]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                seen = "\n".join(f"  {c.method} {c.status} ok={c.ok} {_short(c.args)}" for c in self.calls)
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} call(s) to {method}"
                    f" (got {len(matching())}); recorded calls:\n{seen or '  (none)'}"
                )
            return matching()[count - 1]

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        applied: bool = False,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        status=429 answers {"ok": false, "error": "ratelimited"} with a Retry-After header (default 1);
        status=5xx answers a server error; error=... alone answers HTTP 200 with that error.
        applied=True lets the call take effect before the failure is answered (Slack accepted the
        post but the answer was lost), which is what makes blind retries post twice.
        """
        if status is None and error is None:
            raise ValueError("give a status, an error, or both")
        status = status or 200
        error = error or {429: "ratelimited", 503: "service_unavailable"}.get(status, "internal_error")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._cond:
            self._failures[method].extend(_Failure(status, error, retry_after, applied) for _ in range(times))

    def reset(self, keep_directory: bool = True) -> None:
        """Forget calls, injected failures, messages, views and files; users and channels too unless kept."""
        with self._cond:
            self.calls.clear()
            self.errors.clear()
            self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
            self._messages: dict[str, list[dict]] = defaultdict(list)
            self._views: dict[str, dict] = {}
            self._homes: dict[str, str] = {}
            self._files: dict[str, dict] = {}
            self._triggers: dict[str, float] = {}
            self._used_triggers: set[str] = set()
            self._response_urls: dict[str, dict] = {}
            self._last_ts_us = 0
            self._last_post_at: dict[str, float] = {}  # channel -> when it last took a post (monotonic)
            if not keep_directory:
                self.users.clear()
                self.channels.clear()
                self.add_user(self.bot_user_id, name="onboard-bot", is_bot=True)

    # -- helpers for the method handlers -----------------------------------------------------
    def _next_ts(self) -> str:
        now = self.ts_clock() if self.ts_clock else time.time()
        us = max(int(now) * 1_000_000 + 100, self._last_ts_us + 100)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._seq):07d}"

    # -- HTTP --------------------------------------------------------------------------------
    def _handle(self, req: _Handler) -> None:
        parts = urlsplit(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in req.headers.items()}
        route, _, rest = parts.path.lstrip("/").partition("/")
        extra: dict[str, str] = {}
        if self.latency > 0:
            time.sleep(self.latency)
        if route == "api":
            args = _parse_args(parts.query, raw, req.headers.get_content_type())
            with self._cond:
                status, body, extra = self._answer(rest, args, headers) if args is not None else (200, INVALID_JSON, {})
            self._record(Call(rest, args or {}, headers, status, body, time.time()))
        elif route == "response":
            args = _json_object(raw or b"{}")
            with self._cond:
                status, body = (
                    self._guard(lambda: methods.post_to_response_url(self, rest, args), status=404)
                    if args is not None
                    else (400, INVALID_JSON)
                )
            self._record(Call("response_url", args or {}, headers, status, body, time.time(), target=rest))
        elif route == "upload":
            file_id = rest.rpartition("/")[2]
            with self._cond:
                status, body = self._guard(lambda: methods.receive_upload(self, file_id, raw), status=404)
        else:
            status, body = 404, {"ok": False, "error": "not_found"}
        payload = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(payload)

    def _answer(self, method: str, args: dict, headers: dict) -> tuple[int, dict, dict]:
        handler = methods.METHODS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        auth = headers.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        wanted = self.app_token if method in methods.APP_TOKEN_METHODS else self.bot_token
        if token != wanted:
            known = token in (self.bot_token, self.app_token)
            error = "not_authed" if not token else "not_allowed_token_type" if known else "invalid_auth"
            return 200, {"ok": False, "error": error}, {}
        failure = self._failures[method].popleft() if self._failures[method] else None
        if failure is None and self.channel_rate_limit and method == "chat.postMessage":
            failure = self._over_channel_limit(str(args.get("channel") or ""))
        if failure is None or failure.applied:
            status, body = self._guard(lambda: handler(self, args))
            if failure is None:
                return status, body, {}
        extra = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
        return failure.status, {"ok": False, "error": failure.error}, extra

    def _over_channel_limit(self, channel: str) -> _Failure | None:
        """A 429 when this channel took a post less than a second ago; else the post counts as taken now."""
        at = time.monotonic()
        last = self._last_post_at.get(channel)
        if last is not None and at - last < 1.0:
            return _Failure(429, "ratelimited", 1, applied=False)
        self._last_post_at[channel] = at
        return None

    def _guard(self, fn: Callable[[], dict], status: int = 200) -> tuple[int, dict]:
        try:
            return 200, {"ok": True, **fn()}
        except SlackError as exc:
            return status, {"ok": False, "error": exc.error, **exc.extra}
        except Exception as exc:
            self.errors.append(exc)
            return 500, {"ok": False, "error": "fatal_error"}

    def _record(self, call: Call) -> None:
        with self._cond:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(call)
            except Exception as exc:  # a failing check must not break the HTTP answer
                with self._cond:
                    self.errors.append(exc)
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()


def _json_object(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _parse_args(query: str, raw: bytes, content_type: str) -> dict[str, Any] | None:
    """Query string, form body and JSON body merged; None when the JSON body is not an object."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if content_type == "application/x-www-form-urlencoded":
        args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    elif content_type == "application/json" and raw.strip():
        body = _json_object(raw)
        if body is None:
            return None
        args.update(body)
    for name in JSON_ARGS & args.keys():
        if isinstance(args[name], str) and args[name].lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # left as sent; the checks report it
                args[name] = json.loads(args[name])
    return args


def _short(args: dict) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= 160 else text[:157] + "..."
