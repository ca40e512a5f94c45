"""The post-go-live cadence and the adoption plays, with a frozen clock, through the real sweep and the
fake Slack: each reminder on its day, to the right person, in the customer's business hours, once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import select

from bot.automation.rules import decide
from bot.automation.rules.after_go_live import schedule
from bot.core.ids import Action
from bot.core.notices import Rule
from bot.core.payloads import OnboardingRef
from bot.onboarding.start import create_onboarding
from bot.planning.settings import DEFAULTS, read_rules_table
from bot.planning.timeline import plan_onboarding
from bot.runtime.sweep import run_sweep
from bot.value.ingest import ingest
from bot.value.usage import SEATS, WEEKLY_ACTIVE, Reading
from messages.automated_posts import render
from messages.templates import Templates
from store.db import session_scope
from store.models import AccountHandoff, Milestone, Notification, Onboarding
from tests.conftest import CUSTOMER_SPONSOR, INTERNAL_CHANNEL, SHARED_CHANNEL, VENDOR_CSM, Harness
from tests.test_outbox import ManualClock
from tests.test_simulation import _draft, _local
from tests.test_vendor_views import open_home

WENT_LIVE = date(2026, 6, 15)  # a Monday
ONGOING = "U0ONGOING"


def test_the_schedule_counts_weeks_from_the_start_with_the_go_live_as_week_6():
    due = {d.subject: d.on for d in schedule(WENT_LIVE, DEFAULTS)}
    assert due["value_report"] == date(2026, 6, 22)  # week 7: a week after go-live
    assert due["success_story"] == date(2026, 7, 6)  # week 9
    assert due["check_in"] == date(2026, 7, 15)  # 30 days
    assert due["expansion_conversation"] == date(2026, 7, 20)  # week 11
    assert due["business_review"] == date(2026, 8, 3)  # week 13
    assert due["expansion_readiness"] == date(2026, 11, 2)  # week 26
    assert due["executive_summary-1"] == date(2026, 7, 15) and due["executive_summary-12"] == date(2027, 6, 15)
    tuned = DEFAULTS.with_overrides({"value_report_week": 8, "executive_summary_months": 3})
    due = {d.subject: d.on for d in schedule(WENT_LIVE, tuned)}
    assert due["value_report"] == date(2026, 6, 29) and "executive_summary-4" not in due


def test_a_cadence_week_before_the_go_live_week_is_refused():
    _, problems = read_rules_table({"success_story_week": 5})
    assert problems == [("success_story_week", "'success_story_week' must come after 'go_live_week' (6)")]
    assert read_rules_table({"value_report_week": 8, "go_live_week": 7})[1] == []


def live(h: Harness, *, went_live: date = WENT_LIVE) -> int:
    playbook = h.services.playbooks["standard_30"]
    draft = _draft("Acme", 2, SHARED_CHANNEL, INTERNAL_CHANNEL)
    start = went_live - timedelta(days=45)
    plan = plan_onboarding(playbook, start, went_live, it_in_scope=["sso"])
    with session_scope(h.engine) as s:
        made = create_onboarding(s, draft, playbook, plan, actor=VENDOR_CSM, now=_local(start, 9))
        oid = made.onboarding.id
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == oid).values(status="live", went_live_on=went_live))
        s.execute(  # the plan is done up to its adoption stage
            update(Milestone)
            .where(Milestone.onboarding_id == oid, Milestone.due_on <= went_live)
            .values(status="done", completed_at=_local(went_live, 10))
        )
    return oid


def report_usage(h: Harness, oid: int, weekly: list[int], *, seats: int = 50, went_live: date = WENT_LIVE) -> None:
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == oid).values(external_account_id="acme-42"))
    readings = [
        Reading(f"records[{i}]", "acme-42", went_live + timedelta(weeks=i), metric, value)
        for i, n in enumerate(weekly)
        for metric, value in ((SEATS, seats), (WEEKLY_ACTIVE, n))
    ]
    ingest(h.engine, readings, now=_local(went_live, 9), playbooks=h.services.playbooks, source="test")


def sweep(h: Harness, day: date, hour: int = 10) -> None:
    now = _local(day, hour)
    with freeze_time(now):
        run_sweep(
            h.services, now, decide=lambda s, at: decide(s, at, playbooks=h.services.playbooks), clock=ManualClock(now)
        )
        h.settle()


def said(h: Harness, oid: int, *rules: Rule) -> list[Notification]:
    with session_scope(h.engine) as s:
        rows = list(s.exec(select(Notification).where(Notification.onboarding_id == oid).order_by(Notification.id)))
    wanted = {r.value for r in rules}
    return [r for r in rows if r.rule in wanted]


def period(row: Notification) -> str:
    return row.dedupe_key.rsplit(":", 1)[-1]


def posts_to(h: Harness, channel: str) -> list[dict]:
    return [c.args for c in h.fake.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == channel]


AFTER = tuple(r for r in Rule if r.value in {
    "post_go_live_check_in", "value_report", "success_story", "expansion_conversation", "first_business_review",
    "expansion_readiness", "executive_summary", "value_play",
})  # fmt: skip


def test_the_first_value_report_is_due_a_week_after_go_live_and_opens_the_preview(harness: Harness):
    h = harness
    oid = live(h)
    report_usage(h, oid, [30, 36])
    sweep(h, WENT_LIVE + timedelta(days=6), 16)
    assert not said(h, oid, *AFTER)
    sweep(h, WENT_LIVE + timedelta(days=7), 7)  # Monday 07:00 in New York: not yet
    assert not said(h, oid, Rule.VALUE_REPORT)
    sweep(h, WENT_LIVE + timedelta(days=7), 9)
    rows = said(h, oid, Rule.VALUE_REPORT)
    assert [(r.recipient, r.status, period(r)) for r in rows] == [(VENDOR_CSM, "sent", "2026-06-22")]
    dm = next(p for p in posts_to(h, VENDOR_CSM) if "first value report is due" in json.dumps(p["blocks"]))
    button = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert (button["action_id"], button["value"]) == (Action.REPORT_PREVIEW, OnboardingRef(oid).encode())
    # Said once: the next days of its window bring nothing new.
    sweep(h, WENT_LIVE + timedelta(days=8))
    sweep(h, WENT_LIVE + timedelta(days=9))
    assert len(said(h, oid, Rule.VALUE_REPORT)) == 1
    # The button opens the same preview as /onboard report, for the CSM only.
    with freeze_time(_local(WENT_LIVE + timedelta(days=9), 11)):
        h.slack.block_action(Action.REPORT_PREVIEW, user_id=VENDOR_CSM, value=button["value"], channel_id="D0CSM")
        h.settle()
    shown = h.fake.wait_for("response_url", lambda c: "Value report" in (c.args.get("text") or ""))
    actions = [e["action_id"] for b in shown.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Action.REPORT_POST, Action.REPORT_EDIT]
    assert "36 of 50 seats active in the last week" in json.dumps(shown.args["blocks"])


def test_the_30_day_check_in_and_the_executive_summary(harness: Harness):
    h = harness
    oid = live(h)
    report_usage(h, oid, [30, 34, 38, 41, 45])
    day_30 = WENT_LIVE + timedelta(days=30)  # a Wednesday
    sweep(h, day_30)
    check_in = said(h, oid, Rule.POST_GO_LIVE_CHECK_IN)
    assert [(r.recipient, r.audience) for r in check_in] == [(VENDOR_CSM, "dm")]
    text = json.dumps([p["blocks"] for p in posts_to(h, VENDOR_CSM)], ensure_ascii=False)
    assert "30-day check-in" in text and "45 of 50 seats active in the last week (90%" in text
    summary = said(h, oid, Rule.EXECUTIVE_SUMMARY)
    assert sorted((r.audience, r.recipient) for r in summary) == [
        ("customer", CUSTOMER_SPONSOR),
        ("shared", SHARED_CHANNEL),
    ]
    shared = "\n".join(
        block["text"]["text"]
        for p in posts_to(h, SHARED_CHANNEL)
        for block in p["blocks"]
        if block["type"] == "section" and "executive summary" in block["text"]["text"]
    )
    assert "executive summary, month 1 after go-live" in shared
    assert "*Reached.*" in shared and "*Next.*" in shared and "*Value.*" in shared
    assert "You set out to achieve “Weekly plans built in the product”" in shared
    for internal in ("health", "risk", "cliff", "intervene", "expansion"):
        assert internal not in shared.lower(), internal
    sponsor = json.dumps([p["blocks"] for p in posts_to(h, CUSTOMER_SPONSOR)], ensure_ascii=False)
    assert "executive summary" in sponsor and '"actions"' not in sponsor
    sweep(h, day_30 + timedelta(days=1))
    assert len(said(h, oid, Rule.POST_GO_LIVE_CHECK_IN, Rule.EXECUTIVE_SUMMARY)) == 3


@pytest.mark.parametrize(
    ("weekly", "play", "words"),
    [
        ([40, 41, 40, 41], "value_demonstration", "Start the value-demonstration play"),
        ([30, 48, 40, 30], "intervention", "fell from 48 to 30 (38% below their peak)"),
    ],
)
def test_a_flat_or_declining_trend_starts_its_play_once_a_week(harness: Harness, weekly, play, words):
    h = harness
    oid = live(h)
    report_usage(h, oid, weekly)
    first = WENT_LIVE + timedelta(weeks=3)  # week 9, a Monday
    sweep(h, first)
    sweep(h, first + timedelta(days=2))
    rows = said(h, oid, Rule.VALUE_PLAY)
    assert [(r.subject, r.recipient, period(r)) for r in rows] == [(play, VENDOR_CSM, "2026-W28")]
    text = json.dumps([p["blocks"] for p in posts_to(h, VENDOR_CSM)], ensure_ascii=False)
    assert words in text and "1. " in text
    sweep(h, first + timedelta(weeks=1))
    assert [period(r) for r in said(h, oid, Rule.VALUE_PLAY)] == ["2026-W28", "2026-W29"]
    assert not posts_to(h, SHARED_CHANNEL) or play not in json.dumps(posts_to(h, SHARED_CHANNEL))


def test_growing_adoption_starts_no_play(harness: Harness):
    h = harness
    oid = live(h)
    report_usage(h, oid, [30, 36, 42, 48])
    sweep(h, WENT_LIVE + timedelta(weeks=3))
    assert not said(h, oid, Rule.VALUE_PLAY)


def _hand_off(h: Harness, oid: int, meeting: datetime) -> None:
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == oid).values(status="handed_off"))
        s.add(AccountHandoff(onboarding_id=oid, ongoing_csm_user_id=ONGOING, meeting_at=meeting,
                             renewal_on=date(2027, 6, 1), written="", written_by=VENDOR_CSM))  # fmt: skip


def test_after_the_handoff_the_ongoing_csm_hears_it_and_check_ins_are_not_doubled(harness: Harness):
    h = harness
    oid = live(h)
    # The handoff meeting was on 15 Jun: the account cadence checks in on 15 Jul, the post-go-live
    # check-in's day too, so only the account cadence's goes out.
    _hand_off(h, oid, datetime(2026, 6, 15, 15, tzinfo=UTC))
    sweep(h, WENT_LIVE + timedelta(days=30))
    assert not said(h, oid, Rule.POST_GO_LIVE_CHECK_IN)
    assert [r.recipient for r in said(h, oid, Rule.CHECK_IN)] == [ONGOING]
    # What the account cadence has no counterpart for still goes, to the ongoing CSM.
    sweep(h, WENT_LIVE + timedelta(weeks=5))
    assert [r.recipient for r in said(h, oid, Rule.EXPANSION_CONVERSATION)] == [ONGOING]


def test_a_handoff_whose_check_ins_fall_elsewhere_keeps_the_post_go_live_check_in(harness: Harness):
    h = harness
    oid = live(h)
    _hand_off(h, oid, datetime(2026, 6, 29, 15, tzinfo=UTC))  # check-ins from 29 Jul
    sweep(h, WENT_LIVE + timedelta(days=30))
    assert [r.recipient for r in said(h, oid, Rule.POST_GO_LIVE_CHECK_IN)] == [ONGOING]


def test_a_team_template_overrides_the_shipped_words_of_a_post(tmp_path, harness: Harness):
    h = harness
    oid = live(h)
    sweep(h, WENT_LIVE + timedelta(weeks=3))  # week 9: the success-story prompt
    [row] = said(h, oid, Rule.SUCCESS_STORY)
    shipped = render([row]).blocks[0]["text"]["text"]
    assert "user success story" in shipped and "\n\nAsk the champion" in shipped
    (tmp_path / "success_story_prompt.md.j2").write_text("Story time at {{ customer_name }}, {{ addressed }}?")
    assert render([row], templates=Templates(tmp_path)).blocks[0]["text"]["text"] == (
        f"Story time at Acme, &lt;@{VENDOR_CSM}&gt;?"  # every value escaped
    )


def test_a_running_play_shows_on_the_csms_app_home_until_it_stops(harness: Harness):
    h = harness
    oid = live(h)
    report_usage(h, oid, [30, 48, 40, 30])
    first = WENT_LIVE + timedelta(weeks=3)
    sweep(h, first)
    with freeze_time(_local(first, 12)):
        home = open_home(h)
    texts = [blk["text"]["text"] for blk in home["blocks"] if blk["type"] == "section"]
    assert "Adoption plays" in json.dumps(home)
    [play] = [t for t in texts if "adoption cliff" in t]
    assert "*Acme*" in play and "1. Call the champion this week" in play
    # Usage recovers: the play is no longer said, and after a week and a day it leaves the App Home.
    report_usage(h, oid, [30, 48, 40, 30, 50, 52])
    sweep(h, first + timedelta(weeks=1))
    assert len(said(h, oid, Rule.VALUE_PLAY)) == 1
    with freeze_time(_local(first + timedelta(days=9), 12)):
        home = open_home(h)
    assert "Adoption plays" not in json.dumps(home)
    assert len(home["blocks"]) <= 100


def test_what_the_csm_heard_before_the_handoff_is_not_said_again_to_the_ongoing_csm(harness: Harness):
    h = harness
    oid = live(h)
    sweep(h, WENT_LIVE + timedelta(days=7))
    assert [r.recipient for r in said(h, oid, Rule.VALUE_REPORT)] == [VENDOR_CSM]
    _hand_off(h, oid, datetime(2026, 6, 23, 15, tzinfo=UTC))
    sweep(h, WENT_LIVE + timedelta(days=8))
    sweep(h, WENT_LIVE + timedelta(days=9))
    assert [r.recipient for r in said(h, oid, Rule.VALUE_REPORT)] == [VENDOR_CSM]
    sweep(h, WENT_LIVE + timedelta(weeks=3))  # the next reminder goes to the ongoing CSM
    assert [r.recipient for r in said(h, oid, Rule.SUCCESS_STORY)] == [ONGOING]
