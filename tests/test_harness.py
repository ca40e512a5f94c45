"""The harness's own guarantees: what the app sends Slack is checked on every call and reply."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError

from tests.slack_sender import Reply


def test_unknown_method_is_caught_by_the_spec_check(harness):
    with pytest.raises(SlackApiError):
        harness.services.client.api_call("chat.postMesage", json={"channel": "C0SHARED", "text": "hi"})
    assert any("chat.postMesage" in p for p in harness.problems)
    harness.problems.clear()


def test_missing_required_argument_is_caught(harness):
    with pytest.raises(SlackApiError):
        harness.services.client.api_call("chat.update", json={"channel": "C0SHARED", "text": "hi"})  # no ts
    assert any("ts" in p for p in harness.problems), harness.problems
    harness.problems.clear()


def test_too_many_blocks_in_a_post_is_caught(harness):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}} for i in range(51)]
    with pytest.raises(SlackApiError):  # Slack refuses it too
        harness.services.client.chat_postMessage(channel="C0SHARED", text="plan", blocks=blocks)
    assert any("50" in p for p in harness.problems), harness.problems
    harness.problems.clear()


def test_section_text_over_3000_is_caught(harness):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    harness.services.client.chat_postMessage(channel="C0SHARED", text="plan", blocks=blocks)
    assert any("3000" in p for p in harness.problems), harness.problems
    harness.problems.clear()


def test_oversized_ack_body_is_caught(harness):
    bad = {"response_action": "update", "view": {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}}}
    for hook in harness.slack.on_reply:
        hook(Reply(200, {"Content-Type": "application/json"}, json.dumps(bad)))
    assert any("24" in p for p in harness.problems), harness.problems
    harness.problems.clear()


def test_valid_traffic_passes_the_checks(harness):
    harness.services.client.chat_postMessage(
        channel="C0SHARED", text="hello", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    )
    assert harness.problems == []
