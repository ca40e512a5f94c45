"""The value report: `/onboard report` previews it, "Post to channel" posts it with the adoption chart
uploaded through Slack's upload flow (or its figures as text when the upload is refused), and
"Edit text" changes its opening words first."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

from freezegun import freeze_time
from PIL import Image
from sqlalchemy import update
from sqlmodel import select

from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingRef
from store.db import session_scope
from store.models import AuditEntry, Onboarding
from tests.cards_helpers import command_answer
from tests.conftest import CUSTOMER_CHAMPION, SHARED_CHANNEL, VENDOR_CSM, Harness
from tests.test_usage_api import post, with_account

GO_LIVE = date(2026, 6, 19)  # a Friday; contract signed 1 May
NOW = "2026-07-24 14:00:00"  # week 5 since go-live
# weekly active users on the Friday of each week since go-live, 50 seats then 60 from week 3
ACTIVE = [30, 34, 38, 45, 48, 51]


def live_with_usage(h: Harness) -> int:
    ob = with_account(h)
    with session_scope(h.engine) as s:
        s.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id)
            .values(
                status="live",
                success_criteria="Every region files its weekly report from the tool",
                sponsor_signed_by="U0SPONSOR",
                sponsor_signed_at=datetime(2026, 6, 19, 15, tzinfo=UTC),
            )
        )
    records = [
        {
            "account_id": "acme-42",
            "date": (GO_LIVE + timedelta(weeks=i)).isoformat(),
            "provisioned_seats": 50 if i < 3 else 60,
            "weekly_active_users": n,
        }
        for i, n in enumerate(ACTIVE)
    ]
    with freeze_time(NOW):
        assert post(h, {"records": records})[0] == 200
    return ob.id


def preview(h: Harness) -> dict:
    with freeze_time(NOW):
        return command_answer(h, 'report "Acme Corp"', user_id=VENDOR_CSM)


def test_the_preview_shows_the_numbers_against_the_success_criteria(harness: Harness):
    oid = live_with_usage(harness)
    shown = preview(harness)
    assert shown["response_type"] == "ephemeral"
    text = json.dumps(shown["blocks"], ensure_ascii=False)
    assert "Acme Corp has been live for 5 weeks." in text
    assert "*Success, as agreed:* Every region files its weekly report from the tool" in text
    # 51 of 60 on 24 Jul = 85 %, over the 70 % goal
    assert "51 of 60 seats active in the last week (85%; goal above 70% :white_check_mark:)" in text
    # 19 Jun is 49 days after 1 May
    assert "*Full deployment* (go-live signed off) 49 days after signature." in text
    # the trend runs to the end of week 12 from signature (1 May + 84 days - 1 = 23 Jul), so the
    # 24 Jul count is after it: 30 -> 48 = +60 %
    assert "Weekly active users are up 60% since go-live week." in text
    actions = next(b for b in shown["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [
        (Action.REPORT_POST, OnboardingRef(oid).encode()),
        (Action.REPORT_EDIT, OnboardingRef(oid).encode()),
    ]
    assert not [m for m in harness.fake.messages(SHARED_CHANNEL) if "Value report" in (m.get("text") or "")]


def test_posting_shares_the_report_and_a_chart_of_the_usage(harness: Harness):
    oid = live_with_usage(harness)
    assert "*Health score:*" in json.dumps(preview(harness)["blocks"]), "the vendor's team sees it in the preview"
    with freeze_time(NOW):
        harness.slack.block_action(
            Action.REPORT_POST, user_id=VENDOR_CSM, value=OnboardingRef(oid).encode(), channel_id=SHARED_CHANNEL
        )
        harness.settle()
    ticket = harness.fake.wait_for("files.getUploadURLExternal")
    done = harness.fake.wait_for("files.completeUploadExternal")
    file_id = ticket.response["file_id"]
    assert done.args["channel_id"] == SHARED_CHANNEL and done.args["files"][0]["id"] == file_id
    png = harness.fake.uploaded(file_id)
    assert png is not None and int(ticket.args["length"]) == len(png)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (800, 450)
    drawn = json.loads(image.info["Description"])
    assert drawn == {
        "week": [0, 1, 2, 3, 4, 5],
        "week_start": [(GO_LIVE + timedelta(weeks=i)).isoformat() for i in range(6)],
        "weekly_active_users": ACTIVE,
        "provisioned_seats": [50, 50, 50, 60, 60, 60],
    }
    messages = harness.fake.messages(SHARED_CHANNEL)
    report = next(m for m in messages if m.get("text") == "Value report · Acme Corp")
    assert any(m.get("files") and m["files"][0]["id"] == file_id for m in messages)
    assert "51 of 60 seats" in json.dumps(report["blocks"])
    assert "Health score" not in json.dumps(report["blocks"]), "the health score is the vendor's own"
    told = harness.fake.wait_for("response_url", lambda c: "Posted the report" in (c.args.get("text") or ""))
    assert told.args["text"] == "Posted the report to the shared channel."
    with session_scope(harness.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "value_report_posted")).one()
    assert (entry.actor, entry.reason) == (VENDOR_CSM, f"chart: {file_id}")


def test_a_refused_upload_falls_back_to_the_figures_as_text(harness: Harness):
    oid = live_with_usage(harness)
    harness.fake.fail_next("files.getUploadURLExternal", error="not_allowed_token_type")
    with freeze_time(NOW):
        harness.slack.block_action(
            Action.REPORT_POST, user_id=VENDOR_CSM, value=OnboardingRef(oid).encode(), channel_id=SHARED_CHANNEL
        )
        harness.settle()
    messages = harness.fake.messages(SHARED_CHANNEL)
    report = next(m for m in messages if m.get("text") == "Value report · Acme Corp")
    fallback = next(m for m in messages if m.get("thread_ts") == report["ts"] and m["ts"] != report["ts"])
    assert "Week 0 (from Fri 19 Jun 2026): 30 of 50 seats" in fallback["text"]
    assert "Week 5 (from Fri 24 Jul 2026): 51 of 60 seats" in fallback["text"]
    assert not harness.fake.calls_to("files.completeUploadExternal")
    told = harness.fake.wait_for("response_url", lambda c: "Posted the report" in (c.args.get("text") or ""))
    assert "figures follow as text" in told.args["text"]


def test_edit_text_changes_the_opening_words_and_keeps_them_inert(harness: Harness):
    oid = live_with_usage(harness)
    opened_before = len(harness.fake.calls_to("views.open"))
    with freeze_time(NOW):
        harness.slack.block_action(
            Action.REPORT_EDIT, user_id=VENDOR_CSM, value=OnboardingRef(oid).encode(), channel_id=SHARED_CHANNEL
        )
        harness.settle()
    opened = harness.fake.wait_for("views.open", count=opened_before + 1)
    view = harness.fake.view(opened.response["view"]["id"])
    assert view["callback_id"] == View.REPORT_EDIT
    start = view["blocks"][0]["element"]["initial_value"]
    assert start.startswith("Acme Corp has been live for 5 weeks.")
    words = "Great quarter, team <!channel> & friends"
    with freeze_time(NOW):
        reply = harness.slack.view_submission(
            view,
            {Field.REPORT_TEXT: {Field.REPORT_TEXT: {"type": "plain_text_input", "value": words}}},
            user_id=VENDOR_CSM,
        )
        assert reply.status == 200 and reply.text == ""
        harness.settle()
    report = next(m for m in harness.fake.messages(SHARED_CHANNEL) if m.get("text") == "Value report · Acme Corp")
    assert report["blocks"][1]["text"]["text"] == "Great quarter, team &lt;!channel&gt; &amp; friends"


def test_the_report_is_for_the_vendor_side_only(harness: Harness):
    oid = live_with_usage(harness)
    with freeze_time(NOW):
        reply = harness.slack.command(
            "report", user_id=CUSTOMER_CHAMPION, team_id="T0CUSTOMER", channel_id=SHARED_CHANNEL
        )
        assert "is for the vendor's team" in reply.json["text"]
        harness.slack.block_action(
            Action.REPORT_POST,
            user_id=CUSTOMER_CHAMPION,
            team_id="T0CUSTOMER",
            value=OnboardingRef(oid).encode(),
            channel_id=SHARED_CHANNEL,
        )
        harness.settle()
    assert not [m for m in harness.fake.messages(SHARED_CHANNEL) if m.get("text") == "Value report · Acme Corp"]
