"""`/onboard help` end to end, and Slack's request signing enforced on every request."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from store.models import AuditEntry
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_TEAM, SHARED_CHANNEL, VENDOR_CSM
from tests.slack_sender import sign


def _all_text(reply_json: dict) -> str:
    parts = [reply_json.get("text", "")]
    for block in reply_json.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        for element in block.get("elements", []):
            parts.append(element.get("text", "") if isinstance(element.get("text"), str) else "")
    return "\n".join(parts)


def test_help_answers_ephemerally_with_the_subcommands(harness):
    reply = harness.slack.command("help", user_id=VENDOR_CSM)

    assert reply.status == 200
    body = reply.json
    assert body["response_type"] == "ephemeral"
    text = _all_text(body)
    assert "/onboard help" in text
    assert not harness.fake.calls_to("chat.postMessage"), "help must not post to the channel"


def test_empty_command_shows_help(harness):
    reply = harness.slack.command("", user_id=VENDOR_CSM)
    assert reply.status == 200
    assert "/onboard help" in _all_text(reply.json)


def test_unknown_subcommand_gets_help_and_what_was_wrong(harness):
    reply = harness.slack.command("frobnicate now", user_id=VENDOR_CSM)

    assert reply.status == 200
    body = reply.json
    assert body["response_type"] == "ephemeral"
    text = _all_text(body)
    assert "`/onboard frobnicate` is not a command I know" in text
    assert "/onboard help" in text


def test_customer_side_user_can_read_help(harness):
    reply = harness.slack.command("help", user_id=CUSTOMER_CHAMPION, team_id=CUSTOMER_TEAM, channel_id=SHARED_CHANNEL)
    assert reply.status == 200
    assert "/onboard help" in _all_text(reply.json)


def _count_audit(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_bad_signature_is_refused_and_changes_nothing(harness):
    before = len(harness.fake.calls)
    reply = harness.slack.command("help", user_id=VENDOR_CSM, signature="v0=" + "0" * 64)

    assert reply.status == 401
    assert "/onboard help" not in reply.text
    assert len(harness.fake.calls) == before
    assert _count_audit(harness.engine) == 0


def test_signature_from_another_secret_is_refused(harness):
    body = b"command=%2Fonboard&text=help&user_id=U0CSM&team_id=T0VENDOR"
    ts = str(int(time.time()))
    reply = harness.slack.post(
        body, "application/x-www-form-urlencoded", timestamp=int(ts), signature=sign("not-the-secret", ts, body)
    )
    assert reply.status == 401


def test_timestamp_older_than_five_minutes_is_refused(harness):
    stale = int(time.time()) - 6 * 60
    reply = harness.slack.command("help", user_id=VENDOR_CSM, timestamp=stale)  # correctly signed, but old
    assert reply.status == 401


def test_timestamp_within_five_minutes_is_accepted(harness):
    recent = int(time.time()) - 4 * 60
    reply = harness.slack.command("help", user_id=VENDOR_CSM, timestamp=recent)
    assert reply.status == 200


def test_healthz_answers_when_the_database_does(harness):
    import urllib.request

    with urllib.request.urlopen(harness.base_url + "/healthz", timeout=5) as resp:
        assert resp.status == 200
        assert b'"database": "up"' in resp.read()


def test_healthz_is_503_when_the_database_does_not_answer():
    from bot.runtime.server import make_wsgi
    from store.db import make_engine

    wsgi = make_wsgi(None, make_engine("postgresql://nobody@127.0.0.1:9/none"))
    seen = {}
    body = b"".join(
        wsgi({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}, lambda status, headers: seen.update(status=status))
    )
    assert seen["status"].startswith("503")
    assert b'"database": "down"' in body
