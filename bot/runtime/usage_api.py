"""`POST /api/usage`: the product (or the team's data pipeline) reports usage, beside the Slack endpoint.

Off (404) unless ONBOARD_USAGE_TOKEN is set. The request carries `Authorization: Bearer <token>`,
compared in constant time (401 otherwise). A body over `MAX_USAGE_BYTES` gets 413; a body that is not
a valid report gets 400 with every problem listed, and nothing of it is written. A valid report is
written in one transaction (upserts per onboarding, day and metric, so sending it again changes
nothing), then the cards of milestones its key events completed are refreshed through the publish path.
The body's shape is docs/usage.schema.json.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC

from bot.runtime.services import Services
from bot.slack import publish
from bot.value.ingest import ingest
from bot.value.usage import read_json

log = logging.getLogger("onboard_bot.usage")

USAGE_PATH = "/api/usage"
# Room for a report of the most records allowed (bot.value.usage.MAX_RECORDS) with their counts, under the
# server's own 1 MiB limit.
MAX_USAGE_BYTES = 1_000_000

_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
}


def _answer(start_response: Callable, status: int, body: dict, extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    raw = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(raw))), *extra]
    start_response(_STATUS[status], headers)
    return [raw]


def authorised(header: str | None, token: str) -> bool:
    """Whether `Authorization` carries the token; the comparison takes the same time wherever they differ."""
    scheme, _, given = (header or "").partition(" ")
    return hmac.compare_digest(given.strip().encode(), token.encode()) and scheme.lower() == "bearer"


def usage_front(services: Services) -> Callable:
    def front(environ: dict, start_response: Callable) -> Iterable[bytes]:
        token = services.settings.usage_token
        if not token:
            return _answer(start_response, 404, {"ok": False, "error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, {"ok": False, "error": "use POST"}, [("Allow", "POST")])
        if not authorised(environ.get("HTTP_AUTHORIZATION"), token):
            log.info("usage report refused: bad or missing token")
            return _answer(
                start_response,
                401,
                {"ok": False, "error": "send the usage token as Authorization: Bearer <token>"},
                [("WWW-Authenticate", 'Bearer realm="usage"')],
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return _answer(start_response, 400, {"ok": False, "problems": ["Content-Length is not a number"]})
        if length > MAX_USAGE_BYTES:
            return _too_large(start_response)
        raw = environ["wsgi.input"].read(min(length, MAX_USAGE_BYTES + 1)) if length else b""
        if len(raw) > MAX_USAGE_BYTES:
            return _too_large(start_response)
        now = services.clock.now().astimezone(UTC)
        readings, problems = read_json(raw, now.date())
        if problems:
            return _answer(start_response, 400, {"ok": False, "problems": problems})
        result = ingest(services.engine, readings, now=now, playbooks=services.playbooks, source="usage API")
        if result.problems:
            return _answer(start_response, 400, {"ok": False, "problems": result.problems})
        for changed in result.changes:
            publish.publish(services, changed, now=now)
        log.info("usage report: %d values for %d onboardings", result.written, len(result.onboardings))
        completed = sum(len(c.lines) for c in result.changes)
        body = {
            "ok": True,
            "values": len(readings),
            "onboardings": len(result.onboardings),
            "milestones_done": completed,
        }
        return _answer(start_response, 200, body)

    return front


def _too_large(start_response: Callable) -> list[bytes]:
    return _answer(
        start_response,
        413,
        {"ok": False, "error": f"the body is over {MAX_USAGE_BYTES} bytes; send fewer records at a time"},
    )
