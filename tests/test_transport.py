"""The front door: nothing unverified or malformed reaches a listener, and none causes a call to Slack.

Each refused request is answered with a status (401 unverified, 400 malformed, 413 too large, 200
for a payload type Slack may send that nothing here takes), one log line and no traceback.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from urllib.parse import urlencode, urlsplit

import pytest

from bot.runtime.app import MAX_BODY_BYTES
from tests.conftest import SIGNING_SECRET, VENDOR_CSM
from tests.slack_sender import sign

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TRAP = "http://127.0.0.1:9/trap"  # a response_url an attacker would like the bot to post to


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def _command_body(**extra) -> bytes:
    fields = {
        "command": "/onboard",
        "text": "help",
        "user_id": VENDOR_CSM,
        "team_id": "T0VENDOR",
        "channel_id": "C0GENERAL",
        "response_url": TRAP,
        "trigger_id": "1.2.t1",
        **extra,
    }
    return urlencode(fields).encode()


def _signed_headers(body: bytes, content_type: str = FORM, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
    }


@pytest.fixture
def requests_log(caplog):
    caplog.set_level(logging.INFO)

    def lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "onboard_bot.requests"]

    return caplog, lines


def _assert_quiet(harness, caplog, lines, count: int = 1) -> None:
    """No call to Slack, one request line per request, nothing logged as an error or with a traceback."""
    harness.settle()
    assert harness.fake.calls == []
    assert len(lines()) == count, [r.getMessage() for r in lines()]
    for record in caplog.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()


# -- unverified: 401, no call ------------------------------------------------------------------------
def test_garbled_timestamp_with_a_response_url_is_refused_without_posting_to_it(harness, requests_log):
    caplog, lines = requests_log
    body = _command_body()
    status, _ = _raw_post(
        harness.slack.url,
        body,
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert status == 401
    _assert_quiet(harness, caplog, lines)
    assert "status=401" in lines()[0].getMessage()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "{now}"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "{now}.5", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=zz"},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v1=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=" + "\xe9" * 64},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=" + "0" * 64},
    ],
    ids=[
        "no-headers",
        "no-timestamp",
        "no-signature",
        "empty",
        "negative-timestamp",
        "float-timestamp",
        "huge-timestamp",
        "fractional-timestamp",
        "short-signature",
        "other-scheme",
        "non-ascii-signature",
        "wrong-signature",
    ],
)
def test_missing_or_garbled_signature_headers_are_refused(harness, requests_log, headers):
    caplog, lines = requests_log
    now = str(int(time.time()))
    sent = {"Content-Type": FORM, **{k: v.replace("{now}", now) for k, v in headers.items()}}
    status, _ = _raw_post(
        harness.slack.url, _command_body(), {k: v.encode("latin-1").decode("latin-1") for k, v in sent.items()}
    )
    assert status == 401
    _assert_quiet(harness, caplog, lines)


def test_a_correctly_signed_but_old_request_is_refused(harness, requests_log):
    caplog, lines = requests_log
    body = _command_body()
    status, _ = _raw_post(harness.slack.url, body, _signed_headers(body, ts=str(int(time.time()) - 10 * 60)))
    assert status == 401
    _assert_quiet(harness, caplog, lines)


def test_a_signature_over_other_bytes_is_refused(harness, requests_log):
    caplog, lines = requests_log
    body = _command_body()
    headers = _signed_headers(body)
    status, _ = _raw_post(harness.slack.url, body + b"&text=new", headers)
    assert status == 401
    _assert_quiet(harness, caplog, lines)


def test_a_body_over_the_limit_is_refused(harness):
    body = _command_body(text="x" * (MAX_BODY_BYTES + 10))
    try:
        status, _ = _raw_post(harness.slack.url, body, _signed_headers(body))
    except (BrokenPipeError, ConnectionResetError):
        status = 413  # the server may close before reading it all
    assert status == 413
    harness.settle()
    assert harness.fake.calls == []


def test_a_signed_request_still_gets_through(harness):
    reply = harness.slack.command("help", user_id=VENDOR_CSM)
    assert reply.status == 200 and "/onboard help" in reply.text


# -- verified but malformed: 400 (or 200), no call, no traceback ---------------------------------------
def _form_payload(payload: str) -> bytes:
    return urlencode({"payload": payload}).encode()


MALFORMED = {
    "payload-not-json": (_form_payload("{not json"), FORM, 400),
    "payload-array": (_form_payload("[1, 2, 3]"), FORM, 400),
    "payload-string": (_form_payload('"block_actions"'), FORM, 400),
    "json-array": (b'[{"type": "event_callback"}]', JSON, 400),
    "json-not-json": (b"{nope", JSON, 400),
    "not-utf8": (b"payload=%7B%7D\xff\xfe", FORM, 400),
    "unknown-type": (json.dumps({"type": "mystery", "response_url": TRAP}).encode(), JSON, 400),
    "no-type": (json.dumps({"response_url": TRAP, "user": {"id": VENDOR_CSM}}).encode(), JSON, 400),
    "event-callback-without-event": (json.dumps({"type": "event_callback", "team_id": "T0VENDOR"}).encode(), JSON, 400),
    "event-not-an-object": (json.dumps({"type": "event_callback", "event": "message"}).encode(), JSON, 400),
    "event-without-type": (json.dumps({"type": "event_callback", "event": {"user": VENDOR_CSM}}).encode(), JSON, 400),
    "view-submission-without-view-type": (
        _form_payload(
            json.dumps({"type": "view_submission", "user": {"id": VENDOR_CSM}, "view": {"callback_id": "x"}})
        ),
        FORM,
        400,
    ),
    "view-submission-without-view": (
        _form_payload(json.dumps({"type": "view_submission", "user": {"id": VENDOR_CSM}})),
        FORM,
        400,
    ),
    "block-actions-without-actions": (
        _form_payload(json.dumps({"type": "block_actions", "user": {"id": VENDOR_CSM}, "response_url": TRAP})),
        FORM,
        400,
    ),
    "user-not-an-object": (
        _form_payload(json.dumps({"type": "block_actions", "user": "U0CSM", "actions": [{"action_id": "a"}]})),
        FORM,
        400,
    ),
    "interactive-message": (
        _form_payload(
            json.dumps(
                {
                    "type": "interactive_message",
                    "callback_id": "legacy",
                    "actions": [{"name": "x", "type": "button"}],
                    "user": {"id": VENDOR_CSM},
                    "response_url": TRAP,
                }
            )
        ),
        FORM,
        200,
    ),
    "shortcut": (_form_payload(json.dumps({"type": "shortcut", "callback_id": "nothing"})), FORM, 200),
    "app-rate-limited": (json.dumps({"type": "app_rate_limited", "minute_rate_limited": 1}).encode(), JSON, 200),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_bodies_are_answered_plainly(harness, requests_log, case):
    caplog, lines = requests_log
    body, content_type, expected = MALFORMED[case]
    status, _ = _raw_post(harness.slack.url, body, _signed_headers(body, content_type))
    assert status == expected
    _assert_quiet(harness, caplog, lines)
    assert f"status={expected}" in lines()[0].getMessage()


def test_a_listener_failure_on_an_unverified_path_never_answers_a_response_url(harness):
    """The error handler itself refuses: it answers only requests the front door verified."""
    from types import SimpleNamespace

    from handlers import errors

    handlers_seen: list = []
    fake_app = SimpleNamespace(error=lambda fn: handlers_seen.append(fn) or fn)
    errors.register(fake_app)  # type: ignore[arg-type]
    on_error = handlers_seen[0]
    answered: list = []

    def respond(**kw):
        answered.append(kw)

    on_error(RuntimeError("boom"), {"response_url": TRAP}, {}, respond)
    assert answered == []
    on_error(RuntimeError("boom"), {"response_url": TRAP}, {errors.VERIFIED: True}, respond)
    assert len(answered) == 1
