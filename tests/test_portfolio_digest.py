"""The weekly portfolio digest: each CSM manager, Monday morning in their own timezone, once a week.

Monday 4 May 2026 opens ISO week 2026-W19; "last week" is Mon 27 Apr to Sun 3 May.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.automation.rules import decide
from bot.core.clock import ManualClock
from bot.core.notices import Audience, Rule
from bot.runtime.people_zones import PeopleZones
from bot.runtime.sweep import run_sweep
from store.db import session_scope
from store.models import AuditEntry, Escalation, Notification, Onboarding, StageRating
from tests.conftest import VENDOR_MANAGER
from tests.test_outbox import make_onboarding
from tests.test_rules import CUSTOMER_PEOPLE, MANAGER, MONDAY, VENDOR_PEOPLE, add_onboarding, at, of, run

TOKYO = ZoneInfo("Asia/Tokyo")
OTHER_MANAGER = "U0MGR2"


def _tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def _berlin(_user: str) -> str:
    return "Europe/Berlin"


def _week_of_changes(s) -> dict[str, int]:
    """Three onboardings under MANAGER and one under another manager, with last week's changes."""
    acme = add_onboarding(s, "Acme", status="live")
    globex = add_onboarding(s, "Globex")
    initech = add_onboarding(s, "Initech")
    people = tuple(
        p if p[0] != "csm_manager" else ("csm_manager", "Other Manager", OTHER_MANAGER) for p in VENDOR_PEOPLE
    )
    hooli = add_onboarding(s, "Hooli", people=people + CUSTOMER_PEOPLE)
    acme.went_live_on = date(2026, 4, 29)
    globex.schedule, initech.schedule = "at_risk", "behind"
    s.add_all([acme, globex, initech])
    for when, oid in ((at(date(2026, 4, 30)), globex.id), (at(MONDAY, 8), globex.id), (at(date(2026, 4, 20)), acme.id),
                      (at(date(2026, 4, 28)), hooli.id)):  # fmt: skip
        s.add(AuditEntry(onboarding_id=oid, entity="stage", action="advanced", field="stage", old_value="kickoff",
                         new_value="setup", actor="U0CSM", at=when))  # fmt: skip
    s.add(Escalation(onboarding_id=initech.id, rule="blocked", subject="sso", opened_on=date(2026, 4, 28),
                     raised_at=at(date(2026, 4, 28)), level_raised_at=at(date(2026, 4, 28))))  # fmt: skip
    s.add(Escalation(onboarding_id=globex.id, rule="blocked", subject="data", opened_on=date(2026, 4, 10),
                     raised_at=at(date(2026, 4, 10)), level_raised_at=at(date(2026, 4, 10)),
                     resolved_at=at(date(2026, 5, 1))))  # fmt: skip
    for user, stage, score, when in (("U0A", "kickoff", 2, date(2026, 4, 30)), ("U0B", "kickoff", 4, date(2026, 4, 30)),
                                     ("U0C", "kickoff", 1, date(2026, 4, 20))):  # fmt: skip
        s.add(StageRating(onboarding_id=acme.id, stage=stage, slack_user_id=user, score=score,
                          created_at=at(when), updated_at=at(when)))  # fmt: skip
    last_week = {str(acme.id): "on_track", str(globex.id): "on_track", str(initech.id): "behind"}
    s.add(Notification(dedupe_key=f"{acme.id}:portfolio_digest::{MANAGER}:2026-W18", onboarding_id=acme.id,
                       rule="portfolio_digest", recipient=MANAGER, audience="dm", status="sent",
                       payload={"period": "2026-W18", "facts": {"schedules": last_week}},
                       created_at=at(date(2026, 4, 27), 9), sent_at=at(date(2026, 4, 27), 9)))  # fmt: skip
    s.flush()
    return {"acme": acme.id, "globex": globex.id, "initech": initech.id, "hooli": hooli.id}


def _names(entries: list[dict]) -> list[str]:
    return [e["customer_name"] for e in entries]


def test_the_digest_says_what_changed_last_week_for_each_managers_team(clean_db):
    with session_scope(clean_db) as s:
        ids = _week_of_changes(s)
    notices = of(run(clean_db, at(MONDAY, 10), person_zone=_berlin), Rule.PORTFOLIO_DIGEST)
    by = {n.recipient: n for n in notices}
    assert set(by) == {MANAGER, OTHER_MANAGER}
    mine = by[MANAGER]
    assert (mine.audience, mine.channel_id, mine.period, mine.zone) == (Audience.DM, None, "2026-W19", "Europe/Berlin")
    assert mine.onboarding_id == min(ids["acme"], ids["globex"], ids["initech"])
    assert mine.not_before == at(MONDAY, 10)  # business hours are open in Berlin
    f = mine.facts
    assert (f["since"], f["week_of"], f["onboardings"], f["compared"]) == ("2026-04-27", "2026-05-04", 3, True)
    assert (f["on_track"], f["at_risk"], f["behind"], f["live"]) == (0, 1, 1, 1)
    assert f["went_live"] == [{"customer_name": "Acme", "channel": "C0SHARED", "on": "2026-04-29"}]
    assert [(e["customer_name"], e["from"], e["to"]) for e in f["moved_stage"]] == [("Globex", "kickoff", "setup")]
    assert [(e["customer_name"], e["was"]) for e in f["newly_at_risk"]] == [("Globex", "on_track")]
    assert f["newly_behind"] == []  # Initech was behind in last week's digest already
    assert _names(f["escalations_opened"]) == ["Initech"] and _names(f["escalations_closed"]) == ["Globex"]
    assert [(e["customer_name"], e["stage"], e["score"]) for e in f["low_ratings"]] == [("Acme", "kickoff", 2)]
    theirs = by[OTHER_MANAGER].facts
    assert theirs["onboardings"] == 1 and _names(theirs["moved_stage"]) == ["Hooli"] and not theirs["compared"]


def test_no_digest_before_monday_or_after_one_was_written_this_week(clean_db):
    with session_scope(clean_db) as s:
        _week_of_changes(s)
    sunday = at(MONDAY - timedelta(days=1), 10)
    assert of(run(clean_db, sunday, person_zone=_berlin), Rule.PORTFOLIO_DIGEST) == []
    [tuesday] = [n for n in of(run(clean_db, at(MONDAY + timedelta(days=1), 10), person_zone=_berlin),
                               Rule.PORTFOLIO_DIGEST) if n.recipient == MANAGER]  # fmt: skip
    assert tuesday.period == "2026-W19" and tuesday.facts["since"] == "2026-04-27"
    with session_scope(clean_db) as s:
        s.add(Notification(dedupe_key="written-under-another-onboarding", onboarding_id=tuesday.onboarding_id,
                           rule="portfolio_digest", recipient=MANAGER, audience="dm", status="pending",
                           payload={"period": "2026-W19", "facts": {}}, created_at=at(MONDAY, 9)))  # fmt: skip
    later = of(run(clean_db, at(MONDAY + timedelta(days=2), 10), person_zone=_berlin), Rule.PORTFOLIO_DIGEST)
    assert [n.recipient for n in later] == [OTHER_MANAGER]


def test_the_managers_own_timezone_then_the_default_then_their_customers(clean_db):
    with session_scope(clean_db) as s:
        add_onboarding(s, "Acme")  # Berlin
    monday_la = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    now = at(MONDAY, 10)
    [la] = of(run(clean_db, now, person_zone=lambda u: "America/Los_Angeles"), Rule.PORTFOLIO_DIGEST)
    assert la.not_before == monday_la and la.zone == "America/Los_Angeles"
    [fallback] = of(run(clean_db, now, person_zone=lambda u: None, default_timezone="America/Los_Angeles"),
                    Rule.PORTFOLIO_DIGEST)  # fmt: skip
    assert fallback.not_before == monday_la
    [unknown] = of(run(clean_db, now, person_zone=lambda u: "Mars/Base", default_timezone="Asia/Tokyo"),
                   Rule.PORTFOLIO_DIGEST)  # fmt: skip
    assert unknown.zone == "Asia/Tokyo" and unknown.period == "2026-W19"
    [customers] = of(run(clean_db, now), Rule.PORTFOLIO_DIGEST)
    assert customers.zone == "Europe/Berlin" and customers.not_before == now


def _sweep(h, now: datetime):
    rules = partial(decide, playbooks=h.services.playbooks, person_zone=PeopleZones(h.services.client, ManualClock(now)),
                    default_timezone="UTC")  # fmt: skip
    report = run_sweep(h.services, now, decide=rules, clock=ManualClock(now))
    h.settle()
    return report


def _digests_to_manager(h) -> list[dict]:
    return [c.args for c in h.fake.calls_to("chat.postMessage")
            if c.ok and "How your team's onboardings moved" in str(c.args.get("blocks"))]  # fmt: skip


def test_a_manager_in_tokyo_hears_at_nine_on_monday_once(harness):
    harness.fake.add_user(VENDOR_MANAGER, name="morgan", real_name="Morgan Lead", tz="Asia/Tokyo")
    ob_id = make_onboarding(harness.engine)  # a New York customer
    make_onboarding(harness.engine, customer="Globex", shared="C0GLOBEX")
    with session_scope(harness.engine) as s:
        s.get(Onboarding, ob_id).target_go_live_on = date(2026, 5, 1)  # passed without go-live: behind

    _sweep(harness, _tokyo(MONDAY, 8, 30))
    assert _digests_to_manager(harness) == []
    _sweep(harness, _tokyo(MONDAY, 9, 30))
    [posted] = _digests_to_manager(harness)
    said = str(posted["blocks"])
    assert "week of Mon 27 Apr 2026" in said and "2 onboardings now: 1 on track, 0 at risk, 1 behind, 0 live" in said
    assert "*Newly behind*" in said and "<#C0SHARED> *Acme*" in said and "first digest" in said
    _sweep(harness, _tokyo(MONDAY, 11))
    _sweep(harness, _tokyo(MONDAY + timedelta(days=1), 9, 30))
    assert len(_digests_to_manager(harness)) == 1
    lookups = [c for c in harness.fake.calls_to("users.info") if c.args.get("user") == VENDOR_MANAGER]
    assert len(lookups) == 4  # each sweep here has its own PeopleZones


def test_after_the_managers_digest_of_the_day_it_waits_for_the_next_day(harness):
    harness.fake.add_user(VENDOR_MANAGER, name="morgan", real_name="Morgan Lead", tz="Asia/Tokyo")
    ob_id = make_onboarding(harness.engine)
    with session_scope(harness.engine) as s:
        s.add(Notification(dedupe_key="earlier-today", onboarding_id=ob_id, rule="health_drop", recipient=VENDOR_MANAGER,
                           audience="dm", status="sent", urgent=False, payload={}, created_at=_tokyo(MONDAY, 9),
                           sent_at=_tokyo(MONDAY, 9, 5)))  # fmt: skip

    report = _sweep(harness, _tokyo(MONDAY, 9, 30))
    assert report.tomorrow == 1 and _digests_to_manager(harness) == []
    _sweep(harness, _tokyo(MONDAY + timedelta(days=1), 9, 30))
    [posted] = _digests_to_manager(harness)
    assert "week of Mon 27 Apr 2026" in str(posted["blocks"])
    with session_scope(harness.engine) as s:
        [row] = s.exec(select(Notification).where(Notification.rule == "portfolio_digest")).all()
    assert row.status == "sent" and row.payload["period"] == "2026-W19"


def test_people_zones_reads_slack_once_a_day_and_knows_when_slack_does_not(harness):
    harness.fake.add_user("U0FAR", name="far", tz="Pacific/Auckland")
    clock = ManualClock(_tokyo(MONDAY, 9))
    zones = PeopleZones(harness.services.client, clock)
    assert zones("U0FAR") == "Pacific/Auckland" and zones("U0FAR") == "Pacific/Auckland"
    assert zones("U0NOBODY") is None
    clock.advance(days=1, minutes=1)
    zones("U0FAR")
    assert [c.args["user"] for c in harness.fake.calls_to("users.info")] == ["U0FAR", "U0NOBODY", "U0FAR"]


def test_a_big_team_stays_one_section_within_slacks_limits():
    from messages.automated_posts import render

    long = [{"customer_name": "N" * 200 + f" {i}", "channel": f"C{i:05d}", "was": "on_track"} for i in range(200)]
    facts = {"since": "2026-04-27", "onboardings": 200, "behind": 200, "compared": True, "newly_behind": long,
             "low_ratings": [{"customer_name": "<!channel>", "channel": "not a channel", "stage": "setup", "score": 1}]}  # fmt: skip
    row = Notification(dedupe_key="k", onboarding_id=1, rule="portfolio_digest", recipient=MANAGER, audience="dm",
                       payload={"facts": facts})  # fmt: skip
    [section] = render([row]).blocks
    text = section["text"]["text"]
    assert len(text) <= 3000 and text.count("\n• ") == 9  # eight newly behind, one low rating
    assert "…and 192 more" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "<#C00000> *" in text and "<#not" not in text


def test_a_team_template_overrides_the_digests_words(tmp_path):
    from messages.automated_posts import render
    from messages.templates import Templates

    facts = {"since": "2026-04-27", "onboardings": 3, "on_track": 2, "at_risk": 1, "compared": True}
    row = Notification(dedupe_key="k", onboarding_id=1, rule="portfolio_digest", recipient=MANAGER, audience="dm",
                       payload={"facts": facts})  # fmt: skip
    (tmp_path / "portfolio_digest.md.j2").write_text("Your {{ onboardings }} onboardings, {{ at_risk }} at risk.")
    assert render([row], templates=Templates(tmp_path)).blocks[0]["text"]["text"] == "Your 3 onboardings, 1 at risk."
    assert "How your team's onboardings moved" in render([row]).blocks[0]["text"]["text"]
