"""HTTP mode: Bolt behind a multi-threaded production WSGI server (waitress).

`POST /slack/events` takes slash commands, interactivity and events alike; `GET /healthz` answers
200 only while the database answers. The body goes to `OnboardApp.handle_http` as raw bytes, read
no further than its declared length and never past the size limit, so the signature is checked on
exactly what Slack signed before anything parses it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine
from waitress.server import create_server

from bot.runtime.app import MAX_BODY_BYTES, OnboardApp
from bot.runtime.usage_api import USAGE_PATH
from store.db import ping

log = logging.getLogger("onboard_bot.server")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def _plain(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain;charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _headers(environ: dict) -> dict[str, str]:
    """The request's headers, lower-case and dashed, as Bolt names them."""
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers


def _slack_front(app: OnboardApp) -> Callable:
    def front(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", "Method Not Allowed")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", "Bad Request")
        if length < 0:
            return _plain(start_response, "400 Bad Request", "Bad Request")
        # Read one byte past the limit, so an oversized body is refused rather than cut short.
        raw = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES + 1)) if length else b""
        response = app.handle_http(raw, _headers(environ), environ.get("QUERY_STRING", ""))
        body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
        headers = [(name, value) for name, values in response.headers.items() for value in values]
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {_REASONS.get(response.status, '')}".strip(), headers)
        return [body]

    return front


_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


def make_wsgi(app: App | None, engine: Engine, usage: Callable | None = None) -> Callable:
    """The HTTP front. Without an app (Socket Mode) only the health check (and `usage`) is served.

    `usage` answers `POST /api/usage` (bot.runtime.usage_api); without it that path is 404.
    """
    if app is None:
        slack = None
    elif isinstance(app, OnboardApp):
        slack = _slack_front(app)
    else:  # a bare Bolt app (benchmarks): Bolt's own adapter
        slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = ping(engine)
            body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body] if method == "GET" else [b""]
        if path == USAGE_PATH and usage is not None:
            return usage(environ, start_response)
        if slack is None or path != EVENTS_PATH:
            return _plain(start_response, "404 Not Found", "Not Found")
        return slack(environ, start_response)

    return wsgi


def make_server(wsgi: Callable, *, host: str, port: int, threads: int = 8):
    """A waitress server, bound but not yet serving: `.run()` blocks, `.close()` stops it."""
    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="onboard-bot",
        clear_untrusted_proxy_headers=True,
        # Slack bodies are small; a large one is not from Slack.
        max_request_body_size=MAX_BODY_BYTES,
    )
