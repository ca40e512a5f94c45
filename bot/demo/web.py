"""The sandbox's page: plain HTML, JS and CSS files shipped with the package, served on 127.0.0.1.

`GET /` is the page, `GET /static/<file>` its files, `GET /api/state?after=N` the sandbox's state
(held until it changes past version N, at most ~20 s: the page's live updates), `POST /api/act`
one thing a person does, `GET /files/<id>` a file the bot uploaded. `transcript_html` writes the
same page as one self-contained file with the state inlined.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.demo.sandbox import Sandbox

log = logging.getLogger("onboard_bot.demo")

STATIC = ("index.html", "app.js", "blockkit.js", "app.css")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
MAX_ACT_BYTES = 256 * 1024
LONG_POLL_S = 20.0


def static_text(name: str) -> str:
    return resources.files("bot.demo").joinpath("static", name).read_text(encoding="utf-8")


def act(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """One thing the page asks for, done as the person chosen in it; the bot's HTTP status comes back."""
    do, user = body.get("do"), str(body.get("user") or "")
    reply = None
    if do == "type":
        text, channel = str(body.get("text") or "").strip(), str(body.get("channel") or "")
        if text.startswith("/onboard"):
            reply = sandbox.command(user, channel, text[len("/onboard") :].strip())
        elif text.startswith("/"):
            return {"ok": False, "error": "The sandbox knows one slash command: /onboard"}
        elif text:
            reply = sandbox.say(user, channel, text, thread_ts=body.get("thread_ts") or None)
    elif do == "click":
        reply = sandbox.click(
            user,
            dict(body.get("action") or {}),
            channel=body.get("channel"),
            ts=body.get("ts"),
            ephemeral=body.get("ephemeral"),
            view_id=body.get("view_id"),
        )
    elif do == "submit":
        reply = sandbox.submit(user, str(body.get("view_id")), dict(body.get("values") or {}))
    elif do == "close":
        reply = sandbox.close(user, str(body.get("view_id")))
    elif do == "home":
        reply = sandbox.open_home(user)
    elif do == "dismiss":
        sandbox.dismiss(user, str(body.get("ephemeral")))
    elif do == "clock":
        return {"ok": True, "sweeps": sandbox.advance(str(body.get("step")))}
    else:
        return {"ok": False, "error": f"unknown action {do!r}"}
    return {"ok": reply is None or reply.status == 200, "status": reply.status if reply else None}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("page: " + format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        sandbox = self.server.sandbox
        if parts.path == "/":
            self._send(200, static_text("index.html").encode(), _TYPES[".html"])
        elif parts.path.startswith("/static/") and parts.path[len("/static/") :] in STATIC:
            name = parts.path[len("/static/") :]
            self._send(200, static_text(name).encode(), _TYPES["." + name.rpartition(".")[2]])
        elif parts.path == "/api/state":
            after = parse_qs(parts.query).get("after", [""])[0]
            if after.lstrip("-").isdigit():
                sandbox.wait_change(int(after), LONG_POLL_S)
            self._json(200, sandbox.state())
        elif parts.path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        elif parts.path.startswith("/files/"):
            data = sandbox.fake.uploaded(parts.path[len("/files/") :])
            if data is None:
                self._send(404, b"not found", "text/plain")
            else:
                self._send(200, data, "application/octet-stream")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/api/act":
            self._send(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_ACT_BYTES:
            self._json(400, {"ok": False, "error": "empty or oversized request"})
            return
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("not an object")
            with self.server.acting:  # one person acts at a time, as in a shared sandbox
                answer = act(self.server.sandbox, body)
        except ValueError as exc:
            self._json(400, {"ok": False, "error": str(exc)})
            return
        self._json(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox
    acting: threading.Lock

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A tab closed mid-answer is routine for a page that polls; anything else is logged.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            log.exception("the sandbox page failed to answer %s", client_address)


def make_page_server(sandbox: Sandbox, port: int) -> _Server:
    """The page's server, bound to 127.0.0.1 only (not yet serving: call serve_forever)."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.sandbox = sandbox
    server.acting = threading.Lock()
    return server


def transcript_html(state: dict[str, Any], title: str) -> str:
    """The page as one self-contained file: its CSS and JS inlined, and the state it shows."""
    data = json.dumps(state).replace("</", "<\\/")
    page = static_text("index.html")
    page = page.replace(
        '<link rel="stylesheet" href="/static/app.css">', f"<style>\n{static_text('app.css')}\n</style>"
    )
    page = page.replace("<title>onboard-bot sandbox</title>", f"<title>{_html_escape(title)}</title>")
    scripts = (
        f"<script>window.SANDBOX_TRANSCRIPT = {data};</script>\n"
        f"<script>\n{static_text('blockkit.js')}\n</script>\n<script>\n{static_text('app.js')}\n</script>"
    )
    page = page.replace('<script src="/static/blockkit.js"></script>\n<script src="/static/app.js"></script>', scripts)
    return page


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
