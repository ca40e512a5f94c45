"""HTTP mode: Bolt behind a multi-threaded production WSGI server (waitress).

`POST /slack/events` takes slash commands, interactivity and events alike; `GET /healthz` answers
200 only while the database answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine
from waitress.server import create_server

from store.db import ping

log = logging.getLogger("onboard_bot.server")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def make_wsgi(app: App | None, engine: Engine) -> Callable:
    """The HTTP front. Without an app (Socket Mode) only the health check is served."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None

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
        if slack is None:
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"Not Found"]
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
        max_request_body_size=1_048_576,
    )
