"""Delivering the outbox against the fake Slack: once and only once, bundled, paced, on time.

Time is a ManualClock: Retry-After waits and the one-per-second pacing advance it instead of
sleeping, so what the deliverer waited is read off the clock.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from datetime import time, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.automation.snooze import SPANS
from bot.core.ids import Action
from bot.core.notices import Audience, Rule
from bot.core.payloads import MilestoneRef, NoticeRef, SnoozeChoice
from bot.slack import delivery
from bot.slack.delivery import deliver_due
from messages.after_go_live_posts import FOR_THE_CUSTOMER
from messages.after_go_live_posts import RULES as AFTER_GO_LIVE_RULES
from messages.automated_posts import render
from store import outbox
from store.db import make_engine, session_scope
from store.models import AuditEntry, Notification, Onboarding
from tests.conftest import CUSTOMER_CHAMPION, INTERNAL_CHANNEL, SHARED_CHANNEL, VENDOR_CSM, VENDOR_MANAGER
from tests.test_outbox import MONDAY_9, ManualClock, make_onboarding, notice, row_of, rows


@pytest.fixture
def ob(harness) -> int:
    return make_onboarding(harness.engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def claim(harness, *notices) -> None:
    with session_scope(harness.engine) as s:
        outbox.claim(s, notices)


def deliver(harness, clock: ManualClock, services=None) -> delivery.DeliveryReport:
    return deliver_due(services or harness.services, clock.now(), clock=clock)


def posts_to(harness, channel: str) -> list:
    return [c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def statuses(engine) -> dict[str, str]:
    return {r.subject: r.status for r in rows(engine)}


def audit_actions(engine) -> list[str]:
    with session_scope(engine) as s:
        return [a.action for a in s.exec(select(AuditEntry).order_by(AuditEntry.id))]


class CrashAfterPost(WebClient):
    """The process dies right after Slack took the post, before the outbox heard back."""

    def chat_postMessage(self, **kwargs):
        super().chat_postMessage(**kwargs)
        raise SystemExit("killed mid-send")


class CrashBeforePost(WebClient):
    def chat_postMessage(self, **kwargs):
        raise SystemExit("killed before the post left")


# -- bundling -------------------------------------------------------------------------------------
def test_one_persons_day_is_one_digest(harness, ob, clock):
    due_soon = notice(
        ob,
        "kickoff",
        rule=Rule.DUE_SOON,
        milestone_id=7,
        version=3,
        due_on="2026-05-06",
        business_days_left=2,
        customer_owner="<@U0CHAMPION>",
        vendor_owner="<@U0CSM>",
    )
    overdue = notice(ob, "sso", rule=Rule.OVERDUE, milestone_id=8, version=1, due_on="2026-05-01", days_overdue=3)
    silent = notice(ob, "", rule=Rule.SILENT_ACCOUNT, days_silent=8, open_milestones=4, project_owner="Pat")
    claim(harness, due_soon, overdue, silent)

    report = deliver(harness, clock)

    [post] = harness.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == VENDOR_CSM
    assert sorted(post.args["metadata"]["event_payload"]["dedupe_keys"]) == sorted(
        n.dedupe_key for n in (due_soon, overdue, silent)
    )
    assert post.args["metadata"]["event_type"] == "onboard_notice"
    assert len(report.posts) == 1 and sorted(report.sent) == sorted(
        post.args["metadata"]["event_payload"]["dedupe_keys"]
    )
    sent = rows(harness.engine)
    assert {r.status for r in sent} == {outbox.SENT}
    assert {r.ts for r in sent} == {post.response["ts"]}
    assert {r.channel_id for r in sent} == {post.response["channel"]}, "the DM channel is remembered"
    assert audit_actions(harness.engine).count("notice_sent") == 3

    text = dumps(post.args["blocks"])
    assert "Milestone kickoff" in text and "Milestone sso" in text and "8 days" in text
    assert "due Wed 6 May (in 2 business days) · <@U0CHAMPION>, <@U0CSM>" in text
    actions = [b for b in post.args["blocks"] if b["type"] == "actions"]
    assert len(actions) == 3
    done = [e for b in actions for e in b["elements"] if e["action_id"] == Action.MILESTONE_DONE]
    assert {MilestoneRef.decode(e["value"]) for e in done} == {MilestoneRef(ob, 7, 3), MilestoneRef(ob, 8, 1)}
    snoozes = [e for b in actions for e in b["elements"] if e["action_id"] == Action.NUDGE_SNOOZE]
    choice = SnoozeChoice.decode(snoozes[0]["options"][1]["value"])
    assert choice.onboarding_id == ob and SPANS[choice.span] == timedelta(days=3)
    date_blocks = [b for b in actions if any(e["action_id"] == Action.NUDGE_SNOOZE_UNTIL for e in b["elements"])]
    assert {NoticeRef.decode(b["block_id"]) for b in date_blocks} == {
        NoticeRef(ob, "due_soon", "kickoff"),
        NoticeRef(ob, "overdue", "sso"),
        NoticeRef(ob, "silent_account", ""),
    }


def test_a_csm_with_two_customers_gets_one_digest_naming_each(harness, ob, clock):
    other = make_onboarding(harness.engine, customer="Globex")
    claim(harness, notice(ob, "sso"), notice(other, "crm", customer_name="Globex"))

    deliver(harness, clock)

    [post] = harness.fake.calls_to("chat.postMessage")
    text = dumps(post.args["blocks"])
    assert "*Acme* · :hourglass_flowing_sand: *Milestone sso*" in text
    assert "*Globex* · :hourglass_flowing_sand: *Milestone crm*" in text


def test_urgent_goes_out_on_its_own(harness, ob, clock):
    claim(
        harness,
        notice(
            ob,
            "sso",
            rule=Rule.BLOCKED,
            audience=Audience.INTERNAL,
            urgent=True,
            days_blocked=9,
            addressed="<@U0MANAGER>",
            waiting_on="customer",
        ),
        notice(ob, "crm", rule=Rule.DUE_SOON, audience=Audience.INTERNAL),
        notice(ob, "data", rule=Rule.DUE_SOON, audience=Audience.INTERNAL),
    )

    report = deliver(harness, clock)

    first, second = posts_to(harness, INTERNAL_CHANNEL)
    assert len(first.args["metadata"]["event_payload"]["dedupe_keys"]) == 1, "urgent first, alone"
    ack = [
        e
        for b in first.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.ESCALATION_ACK
    ]
    assert NoticeRef.decode(ack[0]["value"]) == NoticeRef(ob, "blocked", "sso")
    assert "<@U0MANAGER>: please propose an unblock call within 48 hours" in dumps(first.args["blocks"])
    assert len(second.args["metadata"]["event_payload"]["dedupe_keys"]) == 2
    assert len(report.posts) == 2


def test_a_long_digest_stays_within_slacks_limits(harness, ob, clock):
    claim(
        harness,
        *(notice(ob, f"m{i}", rule=Rule.DUE_SOON, milestone_id=i, version=1, title="x" * 180) for i in range(35)),
    )

    deliver(harness, clock)

    [post] = harness.fake.calls_to("chat.postMessage")
    assert post.ok
    assert len(post.args["blocks"]) <= 50
    assert "and 15 more" in dumps(post.args["blocks"])
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


# -- timing -------------------------------------------------------------------------------------
def test_nothing_goes_out_before_its_moment(harness, ob):
    claim(harness, notice(ob, not_before=MONDAY_9))
    early = ManualClock(MONDAY_9 - timedelta(minutes=1))

    assert deliver(harness, early).posts == []
    assert not harness.fake.calls_to("chat.postMessage")

    early.advance(minutes=1)
    assert len(deliver(harness, early).posts) == 1


def test_a_late_nudge_outside_business_hours_waits_for_the_morning(harness, ob):
    claim(harness, notice(ob))
    evening = ManualClock(MONDAY_9 + timedelta(hours=10))  # 19:00 in New York

    report = deliver(harness, evening)

    assert report.postponed and not harness.fake.calls_to("chat.postMessage")
    assert rows(harness.engine)[0].next_attempt_at == MONDAY_9 + timedelta(days=1)


SHORT_WEEK = "short_week"  # a playbook whose [rules] say business_hours 08:00-12:00, Monday to Thursday


def short_week(harness, ob: int):
    """harness.services with a short-week playbook added, and the onboarding `ob` moved onto it."""
    standard = harness.services.playbooks["standard_30"]
    rules = standard.rules.with_overrides(
        {"business_hours_start": time(8), "business_hours_end": time(12), "business_days": (0, 1, 2, 3)}
    )
    playbook = dataclasses.replace(standard, key=SHORT_WEEK, rules=rules)
    with session_scope(harness.engine) as s:
        s.get(Onboarding, ob).playbook_key = SHORT_WEEK
    return dataclasses.replace(harness.services, playbooks={**harness.services.playbooks, SHORT_WEEK: playbook})


@pytest.mark.parametrize(("local", "held_until"), [
    ("Fri 10:00", MONDAY_9 + timedelta(days=7, hours=-1)),  # Friday is no business day: next Monday 08:00
    ("Mon 13:00", MONDAY_9 + timedelta(days=1, hours=-1)),  # after 12:00: Tuesday 08:00
    ("Mon 07:00", MONDAY_9 - timedelta(hours=1)),  # before 08:00: the same morning
    ("Mon 09:00", None),
])  # fmt: skip
def test_late_posts_wait_for_the_business_hours_of_the_onboardings_playbook(harness, ob, local, held_until):
    day, hour = local.split()
    at = MONDAY_9 + timedelta(days=4 if day == "Fri" else 0, hours=int(hour[:2]) - 9)
    services = short_week(harness, ob)
    claim(harness, notice(ob, not_before=at - timedelta(hours=2)))

    report = deliver(harness, ManualClock(at), services)

    if held_until is None:
        assert len(report.posts) == 1 and not report.postponed
        assert [r.status for r in rows(harness.engine)] == [outbox.SENT]
    else:
        assert report.postponed and not harness.fake.calls_to("chat.postMessage")
        assert rows(harness.engine)[0].next_attempt_at == held_until


def test_an_onboarding_on_an_unknown_playbook_gets_the_default_business_hours(harness, ob):
    with session_scope(harness.engine) as s:
        s.get(Onboarding, ob).playbook_key = "retired_playbook"
    claim(harness, notice(ob))
    evening = ManualClock(MONDAY_9 + timedelta(hours=10))  # 19:00 in New York

    assert deliver(harness, evening).postponed
    assert rows(harness.engine)[0].next_attempt_at == MONDAY_9 + timedelta(days=1)

    morning = ManualClock(MONDAY_9 + timedelta(days=1))
    assert len(deliver(harness, morning).posts) == 1


def test_posts_to_one_channel_are_a_second_apart(harness, ob, clock):
    claim(
        harness, *(notice(ob, s, rule=Rule.BLOCKED, audience=Audience.INTERNAL, urgent=True) for s in ("a", "b", "c"))
    )

    report = deliver(harness, clock)

    times = [p.at for p in report.posts]
    assert len(times) == 3
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in itertools.pairwise(times))
    assert clock.slept and all(0 < s <= 1 for s in clock.slept)


# -- Slack errors ---------------------------------------------------------------------------------
def test_rate_limit_waits_as_long_as_slack_asks(harness, ob, clock):
    claim(harness, notice(ob, audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", status=429, retry_after=7)

    report = deliver(harness, clock)

    assert 7 in clock.slept
    assert len(harness.fake.calls_to("chat.postMessage")) == 2
    assert len(harness.fake.messages(SHARED_CHANNEL)) == 1
    assert report.sent and rows(harness.engine)[0].status == outbox.SENT


def test_a_long_retry_after_puts_the_row_back(harness, ob, clock):
    claim(harness, notice(ob, audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", status=429, retry_after=600)

    deliver(harness, clock)

    row = rows(harness.engine)[0]
    assert clock.slept == [] and row.status == outbox.RETRY
    assert row.next_attempt_at == MONDAY_9 + timedelta(seconds=600)


def test_server_error_is_retried_later_and_delivered_once(harness, ob, clock):
    claim(harness, notice(ob, audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", status=503)

    first = deliver(harness, clock)

    assert first.retrying and len(harness.fake.calls_to("chat.postMessage")) == 1, "slack_sdk must not retry a post"
    row = rows(harness.engine)[0]
    assert (row.status, row.attempts, row.last_error) == (outbox.RETRY, 1, "service_unavailable")
    assert deliver(harness, clock).posts == [], "not before its backoff"

    clock.advance(minutes=1)
    second = deliver(harness, clock)

    assert harness.fake.calls_to("conversations.history"), "a retried row is looked for first"
    assert len(second.posts) == 1 and len(harness.fake.messages(SHARED_CHANNEL)) == 1
    assert rows(harness.engine)[0].status == outbox.SENT


def test_a_post_that_landed_but_whose_answer_was_lost_is_not_posted_again(harness, ob, clock):
    claim(harness, notice(ob, audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", status=500, applied=True)

    deliver(harness, clock)
    assert len(harness.fake.messages(SHARED_CHANNEL)) == 1, "Slack took it"
    clock.advance(minutes=5)
    report = deliver(harness, clock)

    assert len(harness.fake.calls_to("chat.postMessage")) == 1
    assert len(harness.fake.messages(SHARED_CHANNEL)) == 1
    row = rows(harness.engine)[0]
    assert (row.status, row.ts) == (outbox.SENT, harness.fake.messages(SHARED_CHANNEL)[0]["ts"])
    assert report.recovered == [row.dedupe_key] and "notice_found_posted" in audit_actions(harness.engine)


def test_a_crash_after_the_post_is_recovered_from_history(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.SHARED))
    crashing = dataclasses.replace(
        harness.services, client=CrashAfterPost(token=harness.services.client.token, base_url=harness.fake.url)
    )

    with pytest.raises(SystemExit):
        deliver(harness, clock, crashing)
    assert set(statuses(harness.engine).values()) == {outbox.SENDING}
    assert deliver(harness, clock).posts == [], "the claim is still live"

    clock.advance(minutes=10)
    report = deliver(harness, clock)

    assert report.posts == [] and sorted(report.recovered) == sorted(r.dedupe_key for r in rows(harness.engine))
    assert len(harness.fake.messages(SHARED_CHANNEL)) == 1
    assert set(statuses(harness.engine).values()) == {outbox.SENT}


def test_a_crash_before_the_post_posts_it_once(harness, ob, clock):
    claim(harness, notice(ob))
    crashing = dataclasses.replace(
        harness.services, client=CrashBeforePost(token=harness.services.client.token, base_url=harness.fake.url)
    )
    with pytest.raises(SystemExit):
        deliver(harness, clock, crashing)

    clock.advance(minutes=10)
    report = deliver(harness, clock)

    assert len(report.posts) == 1 and report.recovered == []
    assert rows(harness.engine)[0].status == outbox.SENT
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


def test_permanent_error_fails_the_rows_and_tells_the_internal_channel_once(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", error="is_archived")

    report = deliver(harness, clock)

    assert report.failed == [notice(ob, "a", audience=Audience.SHARED).dedupe_key]
    [alert] = posts_to(harness, INTERNAL_CHANNEL)
    text = dumps(alert.args["blocks"])
    assert "archived" in text and f"<@{VENDOR_CSM}>" in text and f"<#{SHARED_CHANNEL}>" in text
    assert statuses(harness.engine) == {"a": outbox.FAILED, SHARED_CHANNEL: outbox.SENT}

    claim(harness, notice(ob, "b", audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", error="is_archived")
    clock.advance(hours=1)
    deliver(harness, clock)
    clock.advance(days=1)
    deliver(harness, clock)

    assert len(posts_to(harness, INTERNAL_CHANNEL)) == 1, "one alert per broken channel and day"
    assert len(posts_to(harness, SHARED_CHANNEL)) == 2, "failed rows are never retried"
    with session_scope(harness.engine) as s:
        assert sorted(r.subject for r in outbox.failed_for_csm(s, VENDOR_CSM)) == ["a", "b"]


def test_when_the_internal_channel_fails_too_the_row_stays_failed_and_visible(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.INTERNAL))
    harness.fake.fail_next("chat.postMessage", error="not_in_channel")

    deliver(harness, clock)

    assert len(harness.fake.calls_to("chat.postMessage")) == 1
    with session_scope(harness.engine) as s:
        [failed] = outbox.failed_for_csm(s, VENDOR_CSM)
    assert (failed.subject, failed.last_error) == ("a", "not_in_channel")


def test_repeated_server_errors_end_in_failure(harness, ob, clock):
    claim(harness, notice(ob, audience=Audience.SHARED))
    harness.fake.fail_next("chat.postMessage", status=502, times=delivery.MAX_ATTEMPTS)
    for _ in range(delivery.MAX_ATTEMPTS):
        deliver(harness, clock)
        clock.advance(hours=1)

    row = row_of(harness.engine, notice(ob, audience=Audience.SHARED).dedupe_key)
    assert (row.status, row.attempts) == (outbox.FAILED, delivery.MAX_ATTEMPTS)
    assert len(posts_to(harness, INTERNAL_CHANNEL)) == 1
    deliver(harness, clock.advance(hours=1) and clock)
    assert len(posts_to(harness, SHARED_CHANNEL)) == delivery.MAX_ATTEMPTS


# -- audience --------------------------------------------------------------------------------------
def test_audience_is_checked_again_before_sending(harness, ob, clock):
    misaddressed = notice(ob, "a", audience=Audience.SHARED, channel_id=INTERNAL_CHANNEL)
    to_customer = notice(ob, "b", recipient=CUSTOMER_CHAMPION)
    claim(harness, misaddressed, to_customer, notice(ob, "c", recipient=VENDOR_MANAGER))

    report = deliver(harness, clock)

    assert sorted(report.failed) == sorted([misaddressed.dedupe_key, to_customer.dedupe_key])
    assert not posts_to(harness, CUSTOMER_CHAMPION)
    assert len(posts_to(harness, VENDOR_MANAGER)) == 1
    assert all("dedupe_keys" in c.args["metadata"]["event_payload"] for c in posts_to(harness, INTERNAL_CHANNEL))
    assert misaddressed.dedupe_key not in dumps([c.args for c in posts_to(harness, INTERNAL_CHANNEL)])


def test_internal_words_never_reach_the_shared_channel(harness, ob, clock):
    claim(
        harness,
        notice(
            ob,
            "sso",
            rule=Rule.BLOCKED,
            audience=Audience.SHARED,
            urgent=True,
            days_blocked=9,
            blocked_reason="waiting for IdP metadata",
            executive_sponsor="<@U0SPONSOR>",
            addressed="<@U0SPONSOR>",
            unblock_call_by="2026-05-06T09:00:00-04:00",
            csm_manager="<@U0MANAGER>",
            escalation_contact="<@U0MANAGER>",
            level=2,
        ),
        notice(ob, "crm", rule=Rule.OVERDUE, audience=Audience.SHARED, days_overdue=2, addressed="<@U0CHAMPION>"),
        notice(
            ob,
            "",
            rule=Rule.WEEKLY_OVERVIEW,
            audience=Audience.SHARED,
            period="2026-W19",
            done_last_week=[{"title": "Kickoff"}],
            due_this_week=[{"title": "SSO", "due_on": "2026-05-08", "owner": "<@U0CHAMPION>"}],
        ),
        notice(ob, "", rule=Rule.HEALTH_DROP, audience=Audience.SHARED, score=40, previous_score=70),
    )

    report = deliver(harness, clock)

    shared = dumps([c.args for c in posts_to(harness, SHARED_CHANNEL)]).lower()
    assert len(posts_to(harness, SHARED_CHANNEL)) == 2
    assert "<@u0sponsor>, could we get the right people on a short call by wed 6 may" in shared
    assert "<@u0champion>, *milestone crm* was due" in shared and "the week" in shared
    for word in ("risk", "escalat", "fault", "manager", "health", "u0manager"):
        assert word not in shared, word
    assert report.failed == [notice(ob, "", rule=Rule.HEALTH_DROP, audience=Audience.SHARED).dedupe_key]


# -- two deliverers ---------------------------------------------------------------------------------
class MeetingClock(ManualClock):
    """Holds the first reader of the time (and its other workers) until the other deliverer has read its due rows too."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier, self.met, self.lock = barrier, False, threading.Lock()

    def now(self):
        with self.lock:
            if not self.met:
                self.met = True
                self.barrier.wait(timeout=10)
        return super().now()


def test_two_deliverers_at_once_post_each_row_once(harness, ob, database_url):
    claim(
        harness,
        *(notice(ob, s, audience=Audience.INTERNAL, urgent=True) for s in "abcd"),
        notice(ob, "e", audience=Audience.SHARED),
    )
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def one_deliverer() -> None:
        engine = make_engine(database_url)
        try:
            reports.append(
                deliver_due(dataclasses.replace(harness.services, engine=engine), MONDAY_9, clock=MeetingClock(barrier))
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=one_deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors, errors
    assert len(harness.fake.messages(INTERNAL_CHANNEL)) == 4 and len(harness.fake.messages(SHARED_CHANNEL)) == 1
    assert sorted(k for r in reports for k in r.sent) == sorted(r.dedupe_key for r in rows(harness.engine))
    assert set(statuses(harness.engine).values()) == {outbox.SENT}


# -- concurrency ----------------------------------------------------------------------------------
def counting_client(harness):
    """A client class that counts the posts in flight, per channel and in all; and the peaks it saw."""
    lock = threading.Lock()
    now: dict[str, int] = {}
    peak: dict[str, int] = {}

    class Counting(WebClient):
        def chat_postMessage(self, **kwargs):
            channel = kwargs["channel"]
            with lock:
                for key in (channel, "*"):
                    now[key] = now.get(key, 0) + 1
                    peak[key] = max(peak.get(key, 0), now[key])
            try:
                return super().chat_postMessage(**kwargs)
            finally:
                with lock:
                    for key in (channel, "*"):
                        now[key] -= 1

    services = dataclasses.replace(
        harness.services, client=Counting(token=harness.services.client.token, base_url=harness.fake.url)
    )
    return services, peak


def test_different_destinations_are_posted_to_at_once(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.INTERNAL))
    arrived = {SHARED_CHANNEL: threading.Event(), INTERNAL_CHANNEL: threading.Event()}
    met: dict[str, bool] = {}

    def meet(call) -> None:
        # Each post is answered only once the other one has reached Slack too: one at a time never meets.
        if call.method == "chat.postMessage" and call.args.get("channel") in arrived:
            channel = call.args["channel"]
            arrived[channel].set()
            other = next(c for c in arrived if c != channel)
            met[channel] = arrived[other].wait(timeout=5)

    harness.fake.add_listener(meet)
    try:
        report = deliver_due(harness.services, clock.now(), clock=clock, in_flight=2)
    finally:
        harness.fake.remove_listener(meet)

    assert met == {SHARED_CHANNEL: True, INTERNAL_CHANNEL: True}
    assert len(report.posts) == 2 and set(statuses(harness.engine).values()) == {outbox.SENT}


def test_one_channel_gets_one_post_at_a_time_a_second_apart_while_others_go_on(harness, ob, clock):
    urgent = [notice(ob, s, rule=Rule.BLOCKED, audience=Audience.INTERNAL, urgent=True) for s in "abc"]
    others = [notice(ob, "d", audience=Audience.SHARED), notice(ob, "e", recipient=VENDOR_MANAGER), notice(ob, "f")]
    claim(harness, *urgent, *others)
    services, peak = counting_client(harness)

    report = deliver_due(services, clock.now(), clock=clock, in_flight=8)

    assert len(report.posts) == 6 and set(statuses(harness.engine).values()) == {outbox.SENT}
    assert peak[INTERNAL_CHANNEL] == 1, "never two posts to one channel in flight"
    internal = [p.at for p in report.posts if p.channel == INTERNAL_CHANNEL]
    assert len(internal) == 3
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in itertools.pairwise(internal))
    assert sum(clock.slept) <= 2 + 1e-6, "only the internal channel's own posts waited for it"


def test_one_call_in_flight_posts_one_at_a_time(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.INTERNAL), notice(ob))
    services, peak = counting_client(harness)

    report = deliver_due(services, clock.now(), clock=clock, in_flight=1)

    assert len(report.posts) == 3 and peak["*"] == 1


def test_a_long_retry_after_holds_back_every_call_sharing_the_limit(harness, ob, clock):
    shared, internal = notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.INTERNAL)
    claim(harness, shared, internal)
    harness.fake.fail_next("chat.postMessage", status=503, times=2)
    deliver(harness, clock)
    assert set(statuses(harness.engine).values()) == {outbox.RETRY}
    clock.advance(minutes=1)
    harness.fake.reset()
    harness.fake.fail_next("conversations.history", status=429, retry_after=120)

    report = deliver_due(harness.services, clock.now(), clock=clock, in_flight=1)

    assert len(harness.fake.calls_to("conversations.history")) == 1, "the second look-up never went to Slack"
    assert report.rate_limited == 1 and not report.posts and clock.slept == []
    assert {r.status for r in rows(harness.engine)} == {outbox.RETRY}
    assert {r.next_attempt_at for r in rows(harness.engine)} == {clock.now() + timedelta(seconds=120)}


def test_a_rate_limited_channel_waits_while_other_channels_go_on(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.INTERNAL))
    harness.fake.fail_next("chat.postMessage", status=429, retry_after=3)

    report = deliver_due(harness.services, clock.now(), clock=clock, in_flight=2)

    assert report.rate_limited == 1 and 3 in clock.slept
    assert len(harness.fake.messages(SHARED_CHANNEL)) == len(harness.fake.messages(INTERNAL_CHANNEL)) == 1
    assert set(statuses(harness.engine).values()) == {outbox.SENT}


def test_a_run_drains_every_round_and_never_splits_a_persons_day(harness, ob, clock):
    csm = [notice(ob, s) for s in ("a", "b", "c")]
    manager = [notice(ob, s, recipient=VENDOR_MANAGER) for s in ("d", "e")]
    claim(harness, *csm, *manager, notice(ob, "f", audience=Audience.SHARED))

    report = deliver_due(harness.services, clock.now(), clock=clock, limit=1)  # one destination a round

    assert len(report.posts) == 3 and set(statuses(harness.engine).values()) == {outbox.SENT}
    [to_csm] = posts_to(harness, VENDOR_CSM)
    assert sorted(to_csm.args["metadata"]["event_payload"]["dedupe_keys"]) == sorted(n.dedupe_key for n in csm)
    [to_manager] = posts_to(harness, VENDOR_MANAGER)
    assert len(to_manager.args["metadata"]["event_payload"]["dedupe_keys"]) == 2


def test_a_stopped_run_starts_no_new_post(harness, ob, clock):
    claim(harness, notice(ob, "a", audience=Audience.SHARED), notice(ob, "b", audience=Audience.INTERNAL), notice(ob))
    posted: list[object] = []
    listener = harness.fake.add_listener(lambda call: call.method == "chat.postMessage" and posted.append(call))
    try:
        report = deliver_due(harness.services, clock.now(), clock=clock, in_flight=1, stop=lambda: bool(posted))
    finally:
        harness.fake.remove_listener(listener)

    assert len(report.posts) == 1
    assert sorted(statuses(harness.engine).values()) == [outbox.PENDING, outbox.PENDING, outbox.SENT]


# -- rendering ---------------------------------------------------------------------------------
def test_every_rule_renders_for_its_audiences(ob):
    cases = [(rule, audience) for rule in Rule for audience in Audience]
    for rule, audience in cases:
        subject = "intervention" if rule is Rule.VALUE_PLAY else "sso"  # a play is named by its subject
        row = Notification(**outbox.row_values(notice(ob, subject, rule=rule, audience=audience)), id=1)
        if audience in (Audience.SHARED, Audience.CUSTOMER_DM) and rule in (
            Rule.BEHIND_SCHEDULE,
            Rule.SILENT_ACCOUNT,
            Rule.KICKOFF_RECAP_MISSING,
            Rule.HEALTH_DROP,
            Rule.CHECK_IN,
            Rule.BUSINESS_REVIEW,
            Rule.RENEWAL,
            Rule.RENEWAL_RISK,
            *(AFTER_GO_LIVE_RULES - FOR_THE_CUSTOMER),
            Rule.PORTFOLIO_DIGEST,
        ):
            with pytest.raises(ValueError):
                render([row])
            continue
        message = render([row])
        assert message.text and message.blocks, (rule, audience)


def test_missing_facts_still_render(ob):
    bare = notice(ob, rule=Rule.OVERDUE)
    row = Notification(**{**outbox.row_values(bare), "payload": {}})
    message = render([row])
    assert "sso" in message.text
    assert not any(
        e.get("action_id") == Action.MILESTONE_DONE
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )
