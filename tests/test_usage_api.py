"""POST /api/usage and `/onboard account-id`: the token, the size cap, every problem listed, nothing half-written."""

from __future__ import annotations

import http.client
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import select

from bot.runtime.server import make_wsgi
from bot.runtime.usage_api import MAX_USAGE_BYTES, USAGE_PATH, authorised, usage_front
from bot.slack import publish
from store.db import session_scope
from store.models import Activity, AdoptionSnapshot, AuditEntry, Milestone, Onboarding, UsageRecord
from tests.cards_helpers import card, command_answer, milestone, shown, start_onboarding
from tests.conftest import SHARED_CHANNEL, USAGE_TOKEN, VENDOR_CSM, Harness

NOW = "2026-05-20 14:00:00"


def post(h: Harness, body: Any, token: str | None = USAGE_TOKEN, raw: bytes | None = None) -> tuple[int, dict]:
    url = urlparse(h.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", USAGE_PATH, body=data, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    conn.close()
    h.settle()  # what the report changed shows on the cards after the answer, in the onboarding's lane
    return response.status, payload


def with_account(h: Harness, account: str = "acme-42") -> Onboarding:
    ob = start_onboarding(h)
    answer = command_answer(h, f'account-id "Acme Corp" {account}', user_id=VENDOR_CSM)
    assert "now count for Acme Corp" in answer["text"], answer
    return ob


def stored(h: Harness) -> list[tuple]:
    with session_scope(h.engine) as s:
        rows = s.exec(select(UsageRecord).order_by(UsageRecord.day, UsageRecord.metric)).all()
        return [(r.onboarding_id, r.day.isoformat(), r.metric, r.value) for r in rows]


REPORT = {
    "records": [
        {"account_id": "acme-42", "date": "2026-05-18", "provisioned_seats": 50, "weekly_active_users": 30},
        {"account_id": "acme-42", "date": "2026-05-19", "daily_active_users": 12, "weekly_active_users": 41},
    ]
}


def test_a_report_is_stored_once_however_often_it_is_sent(harness: Harness):
    ob = with_account(harness)
    with freeze_time(NOW):
        assert post(harness, REPORT) == (200, {"ok": True, "values": 4, "onboardings": 1, "milestones_done": 0})
        first = stored(harness)
        assert post(harness, REPORT)[0] == 200
    assert (
        stored(harness)
        == first
        == [
            (ob.id, "2026-05-18", "provisioned_seats", 50),
            (ob.id, "2026-05-18", "weekly_active_users", 30),
            (ob.id, "2026-05-19", "daily_active_users", 12),
            (ob.id, "2026-05-19", "weekly_active_users", 41),
        ]
    )
    # a corrected figure for a day replaces the one stored
    with freeze_time(NOW):
        fix = {"records": [{"account_id": "acme-42", "date": "2026-05-19", "weekly_active_users": 40}]}
        assert post(harness, fix)[0] == 200
    assert (ob.id, "2026-05-19", "weekly_active_users", 40) in stored(harness) and len(stored(harness)) == 4
    with session_scope(harness.engine) as s:
        days = {a.day.isoformat(): a for a in s.exec(select(AdoptionSnapshot)).all()}
    # 40 of 50 seats active = 80 %, over the 70 % target: full marks for usage
    assert days["2026-05-19"].parts["usage"] == {
        "score": 100, "weight": 40, "active": 40, "seats": 50, "target_percent": 70
    }  # fmt: skip
    # 30 of 50 = 60 %: 60/70 of the usage part
    assert days["2026-05-18"].parts["usage"]["score"] == 86


def test_a_wrong_or_missing_token_is_401_and_writes_nothing(harness: Harness):
    with_account(harness)
    with freeze_time(NOW):
        assert post(harness, REPORT, token="usage-token-0123456789abcdeX")[0] == 401
        assert post(harness, REPORT, token=None)[0] == 401
        assert post(harness, REPORT, token="")[0] == 401
    assert stored(harness) == []
    assert authorised(f"Bearer {USAGE_TOKEN}", USAGE_TOKEN) and authorised(f"bearer {USAGE_TOKEN}", USAGE_TOKEN)
    assert not authorised(f"Basic {USAGE_TOKEN}", USAGE_TOKEN) and not authorised(USAGE_TOKEN, USAGE_TOKEN)


def test_a_malformed_report_lists_every_problem_and_writes_none_of_it(harness: Harness):
    with_account(harness)
    bad = {
        "records": [
            {"account_id": "acme-42", "date": "2026-05-18", "provisioned_seats": 50},  # fine on its own
            {"account_id": "acme-42", "date": "18/05/2026", "weekly_active_users": -3},
            {"account_id": "", "date": "2026-05-18", "seats": 4},
            {"account_id": "acme-42", "date": "2026-05-30", "events": {"First Report": 1}},
            "not a record",
        ]
    }
    with freeze_time(NOW):
        status, body = post(harness, bad)
    assert status == 400 and body["ok"] is False
    assert body["problems"] == [
        "records[1].date: must be a date such as 2026-05-04",
        "records[1].weekly_active_users: must be a whole number from 0 to 10000000",
        "records[2]: unknown field 'seats'",
        "records[2].account_id: must be a non-empty string of at most 100 characters",
        "records[3].date: 2026-05-30 is in the future",
        "records[3].events: 'First Report' is not an event name (lowercase letters, digits, underscores)",
        "records[4]: must be an object",
    ]
    with freeze_time(NOW):
        unknown = {"records": [REPORT["records"][0], {**REPORT["records"][1], "account_id": "globex-1"}]}
        status, body = post(harness, unknown)
        assert status == 400
        assert body["problems"] == [
            "records[1]: account 'globex-1' belongs to no onboarding being set up, live or handed over; "
            "set it with `/onboard account-id <customer> globex-1`"
        ]
        assert post(harness, None, raw=b"{not json")[1] == {"ok": False, "problems": ["the body is not JSON (UTF-8)"]}
        assert post(harness, {"rows": []})[0] == 400
    assert stored(harness) == []


def test_a_body_over_the_cap_is_413_and_writes_nothing(harness: Harness):
    with_account(harness)
    record = {"account_id": "acme-42", "date": "2026-05-18", "provisioned_seats": 50}
    big = {"records": [record] * (MAX_USAGE_BYTES // len(json.dumps(record)) + 10)}
    assert len(json.dumps(big)) > MAX_USAGE_BYTES
    with freeze_time(NOW):
        status, body = post(harness, big)
    assert status == 413 and "fewer records" in body["error"]
    assert stored(harness) == []


def test_without_a_token_configured_the_endpoint_is_not_there(harness: Harness):
    services = harness.services
    off = replace(services, settings=services.settings.model_copy(update={"usage_token": None}))
    wsgi = make_wsgi(None, harness.engine, usage_front(off))
    seen: list[str] = []
    body = json.dumps(REPORT).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": USAGE_PATH, "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {USAGE_TOKEN}", "wsgi.input": io.BytesIO(body),
    }  # fmt: skip
    wsgi(environ, lambda status, headers: seen.append(status))
    assert seen == ["404 Not Found"]
    assert stored(harness) == []


def test_the_key_event_completes_its_milestone_as_done_by_the_product(harness: Harness):
    ob = with_account(harness)
    target = milestone(harness, ob.id, "first_workflow_live")
    assert target.status != "done"
    # its stage's card, as it is once the project reaches that stage
    with freeze_time(NOW):
        publish.post_card(
            harness.services,
            publish.fresh_record(harness.engine, ob.id),
            "stage",
            target.stage,
            harness.services.clock.now(),
        )
    stage_card = card(harness, ob.id, "stage", target.stage)
    before = json.dumps(shown(harness, stage_card)["blocks"])
    report = {"records": [{"account_id": "acme-42", "date": "2026-05-19", "events": {"first_workflow_run": 2}}]}
    with freeze_time(NOW):
        assert post(harness, report) == (200, {"ok": True, "values": 1, "onboardings": 1, "milestones_done": 1})
        assert post(harness, report)[1]["milestones_done"] == 0  # done once
    done = milestone(harness, ob.id, "first_workflow_live")
    assert done.status == "done" and done.confirmed_by == "product" and done.version == target.version + 1
    with session_scope(harness.engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "done_by_event")).all()
    assert [(e.actor, e.entity_id, e.old_value, e.new_value) for e in entries] == [
        ("product", target.id, target.status, "done")
    ]
    assert entries[0].reason == "the product reported first_workflow_run x2 on 2026-05-19 (usage API)"
    # the stage card shows it done, and its thread says why
    after = json.dumps(shown(harness, stage_card)["blocks"])
    assert after != before and after.count(":white_check_mark:") > before.count(":white_check_mark:")
    thread = [m["text"] for m in harness.fake.messages(SHARED_CHANNEL) if m.get("thread_ts") == stage_card.ts]
    assert any("The product reported `first_workflow_run`" in t for t in thread), thread


def test_an_account_id_is_checked_and_belongs_to_one_onboarding(harness: Harness):
    with_account(harness)
    answer = command_answer(harness, 'account-id "Acme Corp" "<!here> x"', user_id=VENDOR_CSM)
    assert "An account id is up to 100 letters" in answer["text"]
    answer = command_answer(harness, "account-id acme-42", user_id=VENDOR_CSM)
    assert "Give the customer and the product's account id" in answer["text"]
    answer = command_answer(harness, 'account-id "Nobody Inc" x-1', user_id=VENDOR_CSM)
    assert "No onboarding matches" in answer["text"]
    with session_scope(harness.engine) as s:
        assert s.exec(select(Onboarding.external_account_id)).all() == ["acme-42"]
        assert s.exec(select(Milestone)).first() is not None


def import_csv(h: Harness, tmp_path, monkeypatch, capsys, text: str, *flags: str) -> tuple[int, str, str]:
    from bot.runtime import cli

    path = tmp_path / "usage.csv"
    path.write_text(text)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ONBOARD_PLAYBOOKS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", h.engine.url.render_as_string(hide_password=False))
    # in this process the log handlers must keep writing where pytest's capture can reach
    monkeypatch.setattr(cli.logs, "configure", lambda *a, **k: None)
    with freeze_time(NOW):
        code = cli.main(["usage", "import", str(path), *flags])
    out = capsys.readouterr()
    return code, out.out, out.err.replace(str(path), "usage.csv")


CSV = """account_id,date,provisioned_seats,weekly_active_users,event:first_workflow_run
acme-42,2026-05-18,50,30,
acme-42,2026-05-19,50,forty,
acme-42,2026-05-40,50,41,1

globex-9,2026-05-19,10,2,
acme-42,2026-05-19,50,41
"""


def test_a_csv_with_bad_lines_is_reported_by_line_and_imports_nothing(harness: Harness, tmp_path, monkeypatch, capsys):
    ob = with_account(harness)
    code, out, err = import_csv(harness, tmp_path, monkeypatch, capsys, CSV)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "usage.csv: line 3, weekly_active_users: must be a whole number from 0 to 10000000",
        "usage.csv: line 4, date: must be a date such as 2026-05-04",
        "usage.csv: line 6: account 'globex-9' belongs to no onboarding being set up, live or handed over; "
        "set it with `/onboard account-id <customer> globex-9`",
        "usage.csv: line 7: has 4 cells, the header has 5",
        "4 problem(s); nothing was imported; fix them, or pass --skip-bad",
    ]
    assert stored(harness) == []
    code, out, err = import_csv(harness, tmp_path, monkeypatch, capsys, CSV, "--skip-bad")
    assert code == 0 and out == "imported 2 values for 1 onboarding(s)\n"
    assert err.splitlines()[-1] == "4 problem(s); those lines were skipped"
    assert stored(harness) == [
        (ob.id, "2026-05-18", "provisioned_seats", 50),
        (ob.id, "2026-05-18", "weekly_active_users", 30),
    ]


def test_a_good_csv_imports_and_its_key_event_completes_the_milestone(harness: Harness, tmp_path, monkeypatch, capsys):
    ob = with_account(harness)
    good = "account_id,date,weekly_active_users,event:first_workflow_run\nacme-42,2026-05-19,12,1\n"
    code, out, _ = import_csv(harness, tmp_path, monkeypatch, capsys, good)
    assert code == 0 and out == "imported 2 values for 1 onboarding(s); 1 milestone(s) done by their key event\n"
    assert milestone(harness, ob.id, "first_workflow_live").status == "done"


def test_the_go_live_card_shows_the_criterion_once_usage_arrives(harness: Harness):
    ob = with_account(harness)
    with session_scope(harness.engine) as s:  # the project has reached the go-live stage
        s.execute(update(Onboarding).where(Onboarding.id == ob.id).values(stage="go_live"))
    with freeze_time(NOW):
        publish.post_card(
            harness.services, publish.fresh_record(harness.engine, ob.id), "signoff", "", harness.services.clock.now()
        )
    signoff = card(harness, ob.id, "signoff")
    assert "seats active" not in json.dumps(shown(harness, signoff)["blocks"])
    with freeze_time(NOW):
        assert post(harness, REPORT)[0] == 200
    text = json.dumps(shown(harness, signoff)["blocks"])
    # 41 of 50 on 19 May, within the last 7 days of 20 May: 82 % >= 80 %
    assert "41 of 50 seats active in the last 7 days (82%): the go-live bar of 80% is met." in text
    with freeze_time(NOW):
        low = {"records": [{"account_id": "acme-42", "date": "2026-05-20", "weekly_active_users": 20}]}
        assert post(harness, low)[0] == 200
    text = json.dumps(shown(harness, signoff)["blocks"])
    assert "20 of 50 seats active in the last 7 days (40%); go-live asks for 80%." in text


def test_usage_refreshes_no_card_of_an_onboarding_not_at_the_go_live_gate(harness: Harness):
    ob = with_account(harness)
    with freeze_time(NOW):
        publish.post_card(
            harness.services, publish.fresh_record(harness.engine, ob.id), "signoff", "", harness.services.clock.now()
        )
    updates = len(harness.fake.calls_to("chat.update"))
    with freeze_time(NOW):
        assert post(harness, REPORT)[0] == 200
    assert len(harness.fake.calls_to("chat.update")) == updates


def test_the_days_health_counts_slack_activity_as_engagement_in_its_windows(harness: Harness):
    ob = with_account(harness)
    # 19 May ends at 04:00 UTC on 20 May in New York; the 7-day window opens 13 May 04:00 UTC,
    # the sponsor's 14-day window 6 May 04:00 UTC
    moments = [
        ("U0CHAMPION", datetime(2026, 5, 19, 15, tzinfo=UTC)),
        ("U0CHAMPION", datetime(2026, 5, 14, 12, tzinfo=UTC)),
        ("U0CHAMPION", datetime(2026, 5, 13, 5, tzinfo=UTC)),
        ("U0CHAMPION", datetime(2026, 5, 13, 3, tzinfo=UTC)),  # an hour too early
        ("U0SPONSOR", datetime(2026, 5, 8, 12, tzinfo=UTC)),  # in the sponsor's window only
        ("U0CHAMPION", datetime(2026, 5, 20, 5, tzinfo=UTC)),  # the next day
    ]
    with session_scope(harness.engine) as s:
        for user, at in moments:
            s.add(Activity(onboarding_id=ob.id, slack_user_id=user, side="customer", kind="message", at=at))
    with freeze_time(NOW):
        assert post(harness, {"records": [REPORT["records"][1]]})[0] == 200
    with session_scope(harness.engine) as s:
        day = s.exec(select(AdoptionSnapshot).where(AdoptionSnapshot.onboarding_id == ob.id)).one()
    assert day.day.isoformat() == "2026-05-19"
    assert day.parts["engagement"]["customer_events"] == 3 and day.parts["engagement"]["score"] == 30
    assert day.parts["sponsor"]["events"] == 1 and day.parts["sponsor"]["score"] == 100
    # no seats in this report: usage 0; the milestone part is the plan's own (checked elsewhere)
    progress = day.parts["progress"]["score"] / 100
    assert day.parts["usage"]["score"] == 0
    assert day.score == round(0 * 40 + progress * 30 + 0.3 * 15 + 1.0 * 15)
