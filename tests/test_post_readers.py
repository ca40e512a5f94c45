"""Automated posts offer each reader only what they can do; one digest per destination per day; the
sign-off reminder the CSM may choose to post in the shared channel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.ids import Action
from bot.core.notices import Audience, Rule
from bot.core.payloads import NoticeRef
from bot.runtime.sweep import run_sweep
from messages.automated_posts import render
from store import outbox
from store.db import session_scope
from store.models import Milestone, Notification, Person, PostedCard
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    CUSTOMER_TEAM,
    SHARED_CHANNEL,
    VENDOR_CSM,
    VENDOR_MANAGER,
)
from tests.test_outbox import MONDAY_9, ManualClock, make_onboarding, notice

CARD = {"card_channel": SHARED_CHANNEL, "card_ts": "1777900000.000100"}
MILESTONE = {"milestone_id": 7, "version": 3, "customer_owner": f"<@{CUSTOMER_CHAMPION}>", "vendor_owner": "Casey"}


@pytest.fixture
def ob(harness) -> int:
    return make_onboarding(harness.engine)


def _row(n, row_id: int = 1) -> Notification:
    return Notification(**outbox.row_values(n), id=row_id)


def _actions(message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def _text(message) -> str:
    return json.dumps(message.blocks)


def _shared(ob: int, subject: str, status: str, row_id: int = 1, rule: Rule = Rule.OVERDUE) -> Notification:
    n = notice(
        ob, subject, rule=rule, audience=Audience.SHARED, status=status, days_overdue=2, due_on="2026-05-01",
        addressed=f"<@{CUSTOMER_CHAMPION}>", **MILESTONE,
    )  # fmt: skip
    return _row(n, row_id)


def test_an_item_waiting_for_the_customer_offers_its_owner_confirm_and_not_yet(ob):
    digest = render([_shared(ob, "setup_ok", "awaiting_confirmation", 1), _shared(ob, "sso", "in_progress", 2)])
    by_line = [
        [e["action_id"] for e in b["elements"]] for b in digest.blocks if b["type"] == "actions"
    ]  # one actions block per line, in order
    awaiting, open_one = by_line
    assert Action.MILESTONE_CONFIRM in awaiting and Action.MILESTONE_REJECT in awaiting
    assert Action.MILESTONE_DONE not in awaiting and Action.MILESTONE_BLOCK not in awaiting
    assert Action.MILESTONE_DONE in open_one
    assert "waiting for your confirmation" in _text(digest)


def test_the_vendor_is_offered_no_confirm_and_no_mark_done_on_an_item_waiting_for_the_customer(ob):
    n = notice(ob, "setup_ok", status="awaiting_confirmation", days_overdue=2, **MILESTONE)
    message = render([_row(n)])
    actions = _actions(message)
    assert not {Action.MILESTONE_DONE, Action.MILESTONE_CONFIRM, Action.MILESTONE_REJECT} & set(actions)
    assert Action.NUDGE_SNOOZE in actions  # what the vendor can do: wait quietly
    assert f"waiting for <@{CUSTOMER_CHAMPION}> to confirm" in _text(message)


def test_a_shared_nudge_with_no_customer_owner_offers_no_buttons(ob):
    n = notice(ob, "sso", audience=Audience.SHARED, status="in_progress", milestone_id=7, version=1)
    assert _actions(render([_row(n)])) == []


def test_escalations_offer_what_unblocks_never_mark_done(ob):
    internal = notice(
        ob, "sso", rule=Rule.BLOCKED, urgent=True, status="blocked", level=1, days_blocked=9,
        passed_over=[f"<@{VENDOR_CSM}>"], unanswered_since="2026-05-04T10:00:00-04:00", **MILESTONE, **CARD,
    )  # fmt: skip
    message = render([_row(internal)])
    actions = _actions(message)
    assert Action.MILESTONE_DONE not in actions
    assert Action.ESCALATION_ACK in actions and Action.MILESTONE_UNBLOCK in actions
    text = _text(message)
    assert f"<@{VENDOR_CSM}> hasn't picked it up since Mon 4 May, so it comes to you." in text
    assert "https://slack.com/archives/C0SHARED/p1777900000000100" in text
    sponsor = notice(
        ob, "sso", rule=Rule.BLOCKED, audience=Audience.SHARED, urgent=True, status="blocked", days_blocked=9,
        addressed=f"<@{CUSTOMER_SPONSOR}>", executive_sponsor=f"<@{CUSTOMER_SPONSOR}>", **MILESTONE,
    )  # fmt: skip
    assert _actions(render([_row(sponsor)])) == []  # the sponsor may not own it: nothing to press


def test_the_first_rung_of_the_ladder_says_what_happens_next_not_that_nobody_picked_it_up(ob):
    first = notice(
        ob, "sso", rule=Rule.BLOCKED, urgent=True, status="blocked", level=0, csm_manager=f"<@{VENDOR_MANAGER}>",
        **MILESTONE,
    )  # fmt: skip
    text = _text(render([_row(first)]))
    assert "comes to you" not in text and "I'm on it" in text
    assert f"If nobody picks it up, it goes to <@{VENDOR_MANAGER}> next." in text


def test_the_sponsor_hears_of_the_signoff_in_private_with_a_link_and_nothing_to_press(ob):
    n = notice(
        ob, "go_live_signed", audience=Audience.CUSTOMER_DM, recipient=CUSTOMER_SPONSOR, signoff=True,
        sponsor=f"<@{CUSTOMER_SPONSOR}>", sponsor_reminded=True, days_overdue=3, due_on="2026-06-05", **MILESTONE,
        **CARD,
    )  # fmt: skip
    message = render([_row(n)])
    text = _text(message)
    assert _actions(message) == []
    assert "https://slack.com/archives/C0SHARED/p1777900000000100|the sign-off card" in text
    assert "days ago" not in text and "Mark done" not in text


def test_the_csm_hears_the_sponsor_was_reminded_with_a_control_to_remind_in_the_channel(ob):
    n = notice(
        ob, "go_live_signed", signoff=True, sponsor=f"<@{CUSTOMER_SPONSOR}>", sponsor_reminded=True, days_overdue=3,
        due_on="2026-06-05", **MILESTONE, **CARD,
    )  # fmt: skip
    message = render([_row(n)])
    actions = _actions(message)
    assert Action.SIGNOFF_REMIND in actions and Action.MILESTONE_DONE not in actions
    assert f"I reminded <@{CUSTOMER_SPONSOR}> in a direct message" in _text(message)


def test_a_health_drop_gives_the_play_and_what_each_part_measures(ob):
    parts = {
        "usage": {"score": 0, "weight": 40, "customer_events": 0, "days": 7, "target": 10},
        "progress": {"score": 100, "weight": 40, "due": 4, "done_of_due": 4, "done": 4, "on_time": 4},
        "sponsor": {"score": 0, "weight": 20, "events": 0, "days": 14, "target": 1},
    }
    before = {"usage": {"score": 100}, "progress": {"score": 100}, "sponsor": {"score": 100}}
    n = notice(
        ob, "", rule=Rule.HEALTH_DROP, score=40, previous_score=100, previous_day="2026-04-27", parts=parts,
        previous_parts=before, play="usage",
    )  # fmt: skip
    text = _text(render([_row(n)]))
    assert "customer-side messages and clicks in the last 7 days, against a target of 10" in text
    assert "the executive sponsor's own activity in the last 14 days" in text
    assert "*Play:* ask the champion what changed for the team this week" in text


# -- one digest per destination per day ---------------------------------------------------------------
def test_what_comes_after_todays_digest_waits_for_tomorrows_and_escalations_still_go(harness, ob):
    morning = notice(ob, "sso")
    afternoon = notice(ob, "", rule=Rule.HEALTH_DROP, not_before=MONDAY_9 + timedelta(hours=5))
    escalation = notice(
        ob, "crm", rule=Rule.BLOCKED, urgent=True, period="escalation-1-level-0",
        not_before=MONDAY_9 + timedelta(hours=5),
    )  # fmt: skip
    said = [morning]

    def decide(session, now):
        return list(said)

    first = run_sweep(harness.services, MONDAY_9, decide=decide, clock=ManualClock(MONDAY_9))
    assert (first.claimed, len(first.delivery.posts)) == (1, 1)
    said += [afternoon, escalation]
    later = MONDAY_9 + timedelta(hours=5)
    second = run_sweep(harness.services, later, decide=decide, clock=ManualClock(later))
    assert (second.claimed, second.tomorrow) == (1, 1)  # the escalation goes; the health drop waits
    assert "1 wait for tomorrow's digest" in second.summary()
    assert [p.keys for p in second.delivery.posts] == [(escalation.dedupe_key,)]
    # The next morning the rules say it again (its week is the same) and it joins that day's digest.
    tomorrow = MONDAY_9 + timedelta(days=1)
    said[:] = [notice(ob, "sso", period="2026-05-05", not_before=tomorrow), afternoon]
    third = run_sweep(harness.services, tomorrow, decide=decide, clock=ManualClock(tomorrow))
    assert third.claimed == 2 and len(third.delivery.posts) == 1 and len(third.delivery.posts[0].keys) == 2
    dms = [c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == VENDOR_CSM]
    assert len(dms) == 3  # Monday's digest, Monday's escalation, Tuesday's digest


# -- the CSM's public sign-off reminder ----------------------------------------------------------------
def _signoff_onboarding(harness) -> int:
    ob = make_onboarding(harness.engine)
    with session_scope(harness.engine) as s:
        sponsor = Person(
            onboarding_id=ob, side="customer", role="executive_sponsor", name="Sam", slack_user_id=CUSTOMER_SPONSOR
        )
        s.add(sponsor)
        s.flush()
        s.add(PostedCard(onboarding_id=ob, kind="signoff", channel_id=SHARED_CHANNEL, ts=CARD["card_ts"]))
        s.add(
            Milestone(
                onboarding_id=ob, stage="go_live", key="go_live_signed", title="Go-live signed off", track="business",
                customer_owner_id=sponsor.id, start_on=MONDAY_9.date(), due_on=MONDAY_9.date(),
            )
        )  # fmt: skip
    return ob


def _remind(harness, ob: int, user_id: str, *, team_id: str | None = None, channel_id: str = "D0CSM"):
    return harness.slack.block_action(
        Action.SIGNOFF_REMIND,
        user_id=user_id,
        team_id=team_id,
        value=NoticeRef(ob, "overdue", "go_live_signed").encode(),
        channel_id=channel_id,
        message_ts="1777900000.000200",
    )


def _answer(harness, count: int = 1) -> str:
    return harness.fake.wait_for("response_url", count=count).args["text"]


def test_the_csm_posts_a_signoff_reminder_in_the_shared_channel_once_a_day(harness):
    ob = _signoff_onboarding(harness)
    assert _remind(harness, ob, VENDOR_CSM).status == 200
    assert _answer(harness) == f"I'm posting the reminder in <#{SHARED_CHANNEL}> now."
    post = harness.fake.wait_for("chat.postMessage")
    assert post.args["channel"] == SHARED_CHANNEL
    text = json.dumps(post.args["blocks"])
    assert "the sign-off card" in text and "days ago" not in text and "actions" not in text
    _remind(harness, ob, VENDOR_CSM)
    assert "already" in _answer(harness, count=2)
    assert len([c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == SHARED_CHANNEL]) == 1


def test_only_the_vendors_team_posts_a_public_reminder(harness):
    ob = _signoff_onboarding(harness)
    _remind(harness, ob, CUSTOMER_SPONSOR, team_id=CUSTOMER_TEAM, channel_id=SHARED_CHANNEL)
    assert _answer(harness) == "That is for the vendor's team. Ask your CSM in this channel."
    assert harness.fake.calls_to("chat.postMessage") == []


def test_a_customers_direct_message_goes_only_to_one_of_that_customers_people(harness, ob):
    to_customer = notice(
        ob, "go_live_signed", audience=Audience.CUSTOMER_DM, recipient=CUSTOMER_CHAMPION, signoff=True, **MILESTONE
    )
    to_vendor = notice(ob, "go_live_signed", audience=Audience.CUSTOMER_DM, recipient=VENDOR_CSM, signoff=True)
    to_channel = notice(ob, "other", audience=Audience.CUSTOMER_DM, recipient=SHARED_CHANNEL, signoff=True)
    said = [to_customer, to_vendor, to_channel]
    report = run_sweep(harness.services, MONDAY_9, decide=lambda s, now: said, clock=ManualClock(MONDAY_9))
    assert [p.keys for p in report.delivery.posts if p.keys != ()][:1] == [(to_customer.dedupe_key,)]
    assert set(report.delivery.failed) == {to_vendor.dedupe_key, to_channel.dedupe_key}
    [post] = [c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == CUSTOMER_CHAMPION]
    assert "actions" not in json.dumps(post.args["blocks"])
