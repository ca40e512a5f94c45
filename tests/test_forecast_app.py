"""The projected go-live through the app: worked out on every change and each day, shown beside the
agreed date in /onboard status, /onboard list, the App Home and the Monday overview, with the
schedule it gives, and the actual go-live once signed off.

The onboarding (tests.handoff_flow): Acme Corp on standard_30, signed Fri 1 May 2026, go-live agreed
for Fri 19 Jun, in New York. The go-live milestone sits on Fri 19 Jun and waits 3 buffer days after
its last dependency. In the tests everything before go-live is done on its due date except "Go-live
announcement sent" (Fri 12 - Mon 15 Jun,
shifted with the go-live stage to the agreed date), so that one alone drives the projection.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import insert, update
from sqlmodel import select

from bot.automation.rules import decide
from bot.core.clock import ManualClock
from bot.core.domain import Side
from bot.core.ids import Action
from bot.milestones.rules import Actor
from bot.milestones.stage_moves import Signer, sign_off
from bot.runtime.sweep import run_sweep
from messages.handoff_posts import go_live_line
from store import forecasts
from store.db import make_engine, session_scope
from store.migrate import upgrade
from store.models import Milestone, Notification, Onboarding, table_of
from tests import test_activity_events
from tests.cards_helpers import as_text, card, click, milestone, ref, shown, start_onboarding
from tests.conftest import CUSTOMER_SPONSOR, SHARED_CHANNEL, VENDOR_CSM

empty_database_url = test_activity_events.empty_database_url  # the fixture
NEW_YORK = ZoneInfo("America/New_York")
LATE = "rollout_announced"
GO_LIVE = "go_live_signed"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK).astimezone(UTC)


def jun(day: int) -> date:
    return date(2026, 6, day)


def onboarding(harness, ob_id: int) -> Onboarding:
    with session_scope(harness.engine) as s:
        return s.get(Onboarding, ob_id)


def everything_on_time_but(harness, ob_id: int, *open_keys: str) -> None:
    """Every milestone due before go-live is done on its due date (10:00 New York), except `open_keys`."""
    with session_scope(harness.engine) as s:
        go_live = s.exec(select(Milestone).where(Milestone.onboarding_id == ob_id, Milestone.key == GO_LIVE)).one()
        for m in s.exec(select(Milestone).where(Milestone.onboarding_id == ob_id)):
            if m.key not in open_keys and m.key != GO_LIVE and m.due_on < go_live.start_on:
                m.status, m.completed_at = "done", at(m.due_on)
                s.add(m)


def sweep(harness, now: datetime) -> None:
    with freeze_time(now):
        run_sweep(
            harness.services, now, decide=partial(decide, playbooks=harness.services.playbooks), clock=ManualClock(now)
        )
    harness.settle()


def _answer(harness, text: str, **kw) -> str:
    """A command's answer: acknowledged at once, then sent through its response_url."""
    before = len(harness.fake.calls_to("response_url"))
    harness.slack.command(text, user_id=VENDOR_CSM, **kw)
    return json.dumps(harness.fake.wait_for("response_url", count=before + 1).args, ensure_ascii=False)


def listing(harness) -> str:
    return _answer(harness, "list")


def status(harness) -> str:
    return _answer(harness, "status acme", channel_id="C0GENERAL")


def home(harness) -> str:
    before = len(harness.fake.calls_to("views.publish"))
    harness.slack.event({"type": "app_home_opened", "user": VENDOR_CSM, "channel": "D0HOME", "tab": "home"})
    published = harness.fake.wait_for("views.publish", lambda c: c.args["user_id"] == VENDOR_CSM, count=before + 1)
    return json.dumps(published.args["view"], ensure_ascii=False)


def test_a_fresh_plan_projects_the_agreed_date_and_is_on_track(harness):
    ob = start_onboarding(harness)
    assert milestone(harness, ob.id, GO_LIVE).due_on == jun(19)
    stored = onboarding(harness, ob.id)
    assert (stored.projected_go_live_on, stored.schedule, stored.went_live_on) == (jun(19), "on_track", None)
    with freeze_time(at(date(2026, 5, 4))):
        assert "go-live agreed Fri 19 Jun, projected Fri 19 Jun · on track" in listing(harness)
        assert "*Go-live* agreed Fri 19 Jun, projected Fri 19 Jun · *on track*" in status(harness)
        assert "go-live agreed Fri 19 Jun, projected Fri 19 Jun · on track" in home(harness)


def test_late_work_moves_the_projection_each_day_and_on_each_change_then_go_live_is_recorded(harness):
    ob = start_onboarding(harness)
    everything_on_time_but(harness, ob.id, LATE)
    assert milestone(harness, ob.id, LATE).due_on == jun(15)

    # Tue 16 Jun: the announcement is still open, so it finishes today at the soonest; go-live waits
    # 3 buffer days after it: Mon 22 Jun, 3 days after the agreed date: at risk.
    sweep(harness, at(jun(16)))
    stored = onboarding(harness, ob.id)
    assert (stored.projected_go_live_on, stored.schedule, stored.forecast_on) == (jun(22), "at_risk", jun(16))
    with freeze_time(at(jun(16), 11)):
        assert "go-live agreed Fri 19 Jun, projected Mon 22 Jun · at risk" in listing(harness)
        said = status(harness)
        assert "*Go-live* agreed Fri 19 Jun, projected Mon 22 Jun · *at risk*" in said
        assert "Pushed by *Go-live announcement sent to the wider team by the champion*, due Mon 15 Jun" in said
        assert "go-live agreed Fri 19 Jun, projected Mon 22 Jun · at risk" in home(harness)

    # Wed 17 Jun, no sweep yet: the CSM marks it done; the click itself works the projection out again.
    with freeze_time(at(jun(17))):
        click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, LATE).encode(), VENDOR_CSM)
        harness.settle()
        assert milestone(harness, ob.id, LATE).status == "done"
        assert onboarding(harness, ob.id).projected_go_live_on == jun(23)
        assert "projected Tue 23 Jun · at risk" in listing(harness)
        # The pinned plan overview, redrawn by the same click, gives both dates (and no "days ago").
        pinned = as_text(shown(harness, card(harness, ob.id, "overview")))
        assert "Go-live agreed Fri 19 Jun, projected Tue 23 Jun" in pinned

    # Mon 22 Jun: the agreed date has passed without go-live: behind, whatever the projection says.
    with freeze_time(at(jun(22))):
        listed = listing(harness)
        assert "go-live agreed Fri 19 Jun (3 days ago), projected Tue 23 Jun · behind" in listed
        assert "on track" not in listed
    sweep(harness, at(jun(22)))
    assert (onboarding(harness, ob.id).projected_go_live_on, onboarding(harness, ob.id).schedule) == (jun(23), "behind")

    # Wed 24 Jun: signed off and countersigned; the actual go-live day is recorded and shown.
    with session_scope(harness.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == ob.id).values(stage="go_live"))
    now = at(jun(24))
    with session_scope(harness.engine) as s:  # the go-live work the sign-off waits for
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.stage == "go_live", Milestone.key != GO_LIVE)
            .values(status="done", completed_at=now - timedelta(days=1))
        )
    playbooks = harness.services.playbooks
    sponsor = Actor(CUSTOMER_SPONSOR, Side.CUSTOMER, SHARED_CHANNEL)
    csm = Actor(VENDOR_CSM, Side.VENDOR, SHARED_CHANNEL)
    assert sign_off(harness.engine, ob.id, sponsor, Signer.SPONSOR, now=now, playbooks=playbooks).changed
    assert sign_off(harness.engine, ob.id, csm, Signer.CSM, now=now, playbooks=playbooks).changed
    stored = onboarding(harness, ob.id)
    assert (stored.went_live_on, stored.schedule, stored.status) == (jun(24), "live", "live")
    with freeze_time(now + timedelta(hours=1)):
        assert "go-live live since Wed 24 Jun (5 days after the agreed Fri 19 Jun) · live" in listing(harness)
        assert "*Go-live* live since Wed 24 Jun (5 days after the agreed Fri 19 Jun) · *live*" in status(harness)
        assert "live since Wed 24 Jun (5 days after the agreed Fri 19 Jun) · live" in home(harness)


@pytest.mark.parametrize(
    ("projected", "went_live", "said"),
    [
        (None, None, "Go-live agreed Fri 19 Jun"),
        (jun(19), None, "Go-live agreed Fri 19 Jun, on course"),
        (jun(23), None, "Go-live agreed Fri 19 Jun, projected Tue 23 Jun"),
        (jun(23), jun(24), "Live since Wed 24 Jun (agreed Fri 19 Jun)"),
    ],
)
def test_the_pinned_overview_gives_the_agreed_go_live_with_the_projected_or_actual_one(projected, went_live, said):
    ob = SimpleNamespace(target_go_live_on=jun(19), projected_go_live_on=projected, went_live_on=went_live)
    assert go_live_line(ob) == said


def test_the_monday_overview_gives_the_agreed_and_the_projected_go_live(harness):
    ob = start_onboarding(harness)
    everything_on_time_but(harness, ob.id, LATE, "review_booked")
    # Mon 15 Jun: the announcement is open (go-live Mon 15 + 1 + 3 = Fri 19: still the agreed day),
    # and the review booking is due this week, so there is an overview to post.
    sweep(harness, at(jun(15)))
    with session_scope(harness.engine) as s:
        row = s.exec(
            select(Notification).where(Notification.onboarding_id == ob.id, Notification.rule == "weekly_overview")
        ).one()
    assert (
        row.payload["facts"]["target_go_live_on"] == "2026-06-19"
        and row.payload["facts"]["projected_go_live_on"] == "2026-06-19"
    )
    posted = [c for c in harness.fake.calls_to("chat.postMessage") if "The week of" in json.dumps(c.args)]
    assert posted and "Go-live: agreed for Fri 19 Jun, and the work left points to Fri 19 Jun." in json.dumps(
        posted[-1].args, ensure_ascii=False
    )
    assert "risk" not in json.dumps(posted[-1].args), "the shared channel hears dates, not a verdict"


def test_the_sweep_works_it_out_once_a_customer_day_and_leaves_live_onboardings_alone(harness):
    ob = start_onboarding(harness)
    everything_on_time_but(harness, ob.id, LATE)
    sweep(harness, at(jun(16), 9))
    assert onboarding(harness, ob.id).projected_go_live_on == jun(22)
    with session_scope(harness.engine) as s:  # what a second sweep the same day must not touch
        s.execute(update(Onboarding).where(Onboarding.id == ob.id).values(projected_go_live_on=jun(30)))
    sweep(harness, at(jun(16), 16))
    assert onboarding(harness, ob.id).projected_go_live_on == jun(30)
    # 23:30 in New York is already Wed 17 in UTC, but still Tue 16 for the customer.
    sweep(harness, at(jun(16), 23) + timedelta(minutes=30))
    assert onboarding(harness, ob.id).projected_go_live_on == jun(30)
    sweep(harness, at(jun(17), 0) + timedelta(minutes=30))
    assert (onboarding(harness, ob.id).projected_go_live_on, onboarding(harness, ob.id).forecast_on) == (
        jun(23),
        jun(17),
    )

    with session_scope(harness.engine) as s:
        s.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id)
            .values(status="live", went_live_on=jun(17), projected_go_live_on=jun(17), schedule="live")
        )
    sweep(harness, at(jun(19)))
    stored = onboarding(harness, ob.id)
    assert (stored.projected_go_live_on, stored.schedule, stored.forecast_on) == (jun(17), "live", jun(17))


def test_the_migration_records_the_go_live_day_of_onboardings_already_live(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0004")
        live = _old_onboarding(engine, "C0LIVE", status="live", countersigned=datetime(2026, 6, 24, 18, 5, tzinfo=UTC))
        running = _old_onboarding(engine, "C0RUNNING", status="active", countersigned=None)
        upgrade(engine)
        with session_scope(engine) as s:
            assert (s.get(Onboarding, live).went_live_on, s.get(Onboarding, live).schedule) == (jun(24), "live")
            assert (s.get(Onboarding, running).went_live_on, s.get(Onboarding, running).schedule) == (None, None)
    finally:
        engine.dispose()


def _old_onboarding(engine, channel: str, *, status: str, countersigned: datetime | None) -> int:
    now = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)
    values = {
        "customer_name": f"Customer {channel}", "status": status, "stage": "go_live", "tier": 2,
        "acv_cents": 4_000_000, "playbook_key": "standard_30", "timezone": "America/New_York",
        "contract_signed_on": date(2026, 5, 1), "target_go_live_on": jun(19), "shared_channel_id": channel,
        "sold": "", "commitments": "", "success_criteria": "", "first_value_definition": "",
        "full_value_definition": "", "it_dependencies": [], "concerns": "", "political_dynamics": "",
        "csm_countersigned_at": countersigned, "created_by": VENDOR_CSM, "created_at": now, "updated_at": now,
        "version": 1,
    }  # fmt: skip
    table = table_of(Onboarding)
    with engine.begin() as conn:
        return conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()


def test_plans_are_read_in_chunks_of_onboardings(harness, monkeypatch):
    ob = start_onboarding(harness)
    monkeypatch.setattr(forecasts, "IDS_PER_STATEMENT", 1)
    with session_scope(harness.engine) as s:
        count = len(s.exec(select(Milestone).where(Milestone.onboarding_id == ob.id)).all())
        read = forecasts.plans(s.connection(), [ob.id, ob.id + 1000])
    assert list(read) == [ob.id] and len(read[ob.id]) == count
    keys = {row[0]: row for row in read[ob.id]}
    assert keys[GO_LIVE][3] and all(isinstance(k, str) for k in keys[GO_LIVE][3]), "dependency keys, parsed"
