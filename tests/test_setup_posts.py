"""Setup posts that Slack refused are told, listed in /onboard status, and posted from there, once."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.core.ids import Action
from bot.slack import publish
from store.db import session_scope
from store.models import AuditEntry, PostedCard
from tests.cards_helpers import button_values, start_onboarding
from tests.conftest import SHARED_CHANNEL, VENDOR_CSM


@pytest.fixture
def archived_shared_channel(harness):
    channel = harness.fake.channels[SHARED_CHANNEL]
    channel["is_archived"] = True
    try:
        yield channel
    finally:
        channel["is_archived"] = False


def _kinds(h) -> list[str]:
    with session_scope(h.engine) as s:
        return sorted(c.kind for c in s.exec(select(PostedCard)))


def _shared_posts(h) -> list:
    return [c for c in h.fake.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == SHARED_CHANNEL]


def test_a_refused_setup_post_is_told_and_posted_later_from_status(harness, archived_shared_channel):
    start_onboarding(harness)
    harness.settle()
    assert _kinds(harness) == ["handoff"], "only the internal post got through"
    result = harness.fake.calls_to("views.update")[-1].args["view"]
    told = str(result)
    assert "welcome" in told and "first stage card" in told and "is_archived" in told
    with session_scope(harness.engine) as s:
        failed = list(s.exec(select(AuditEntry).where(AuditEntry.action == "post_failed")))
    assert len(failed) == 3

    archived_shared_channel["is_archived"] = False
    before = len(harness.fake.calls_to("response_url"))
    harness.slack.command("status", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    status = harness.fake.wait_for("response_url", count=before + 1).args
    assert "never reached Slack" in json.dumps(status)
    (value,) = button_values(status, Action.SETUP_REPOST)

    for _ in range(2):  # a second click finds nothing missing and posts nothing again
        harness.slack.block_action(Action.SETUP_REPOST, user_id=VENDOR_CSM, value=value, channel_id=SHARED_CHANNEL,
                                   message_ts="1.1")  # fmt: skip
        harness.settle()
    assert _kinds(harness) == ["handoff", "overview", "stage", "welcome"]
    texts = [c.args.get("text", "") for c in _shared_posts(harness)]
    assert sum(t.startswith("Welcome") for t in texts) == 1 and len(texts) == 3
    assert harness.fake.calls_to("pins.add"), "the plan is pinned once it lands"
    answers = [c.args["text"] for c in harness.fake.calls_to("response_url")]
    assert answers[-2:] == ["Posted: all of the setup is in Slack now."] * 2


def test_the_sweep_posts_refused_setup_posts_again_once_slack_takes_them(harness, archived_shared_channel):
    start_onboarding(harness)
    harness.settle()
    assert publish.retry_setups(harness.services, now=harness.services.clock.now()) == 0, "still archived"
    archived_shared_channel["is_archived"] = False
    assert publish.retry_setups(harness.services, now=harness.services.clock.now()) == 3
    assert publish.retry_setups(harness.services, now=harness.services.clock.now()) == 0, "nothing twice"
    assert _kinds(harness) == ["handoff", "overview", "stage", "welcome"]
    assert len(_shared_posts(harness)) == 3


def test_the_sweep_gives_up_after_a_few_refusals(harness, archived_shared_channel):
    start_onboarding(harness)
    for _ in range(6):
        publish.retry_setups(harness.services, now=harness.services.clock.now())
    with session_scope(harness.engine) as s:
        failed = list(s.exec(select(AuditEntry).where(AuditEntry.action == "post_failed")))
    # Each try audits its three refusals; trying stops once the count reaches the limit.
    assert len(failed) == publish.SETUP_REFUSALS
