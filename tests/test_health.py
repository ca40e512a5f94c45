"""The health score: its parts, how they blend, the daily snapshot, and the drop alert."""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select
from sqlmodel import Session

from bot.automation.health import Signals, load_signals, score
from bot.automation.rules import RuleSettings, candidates, decide
from bot.core.notices import Audience, Rule
from store import snapshots
from store.db import second_reader, session_scope
from store.models import HealthSnapshot, Onboarding, StageRating
from tests.test_rules import (
    CSM,
    MANAGER,
    MONDAY,
    SPONSOR,
    add_milestone,
    add_onboarding,
    at,
    customer_spoke,
    of,
    run,
)  # fmt: skip

SETTINGS = RuleSettings()


def test_parts_blend_by_weight_and_show_their_figures():
    signals = Signals(
        milestones=10, open=5, done=5, due=6, done_of_due=3, on_time=4, customer_events=5, sponsor_events=1
    )
    health = score(signals, SETTINGS, sponsor_in_slack=True)
    usage, progress, sponsor = (health.parts[k] for k in ("usage", "progress", "sponsor"))
    assert usage == {"score": 50, "weight": 40, "customer_events": 5, "days": 7, "target": 10}
    assert progress["completion_rate"] == 0.5 and progress["on_time_rate"] == 0.8 and progress["score"] == 65
    assert sponsor["score"] == 100 and sponsor["in_slack"] is True
    assert health.score == round((0.5 * 40 + 0.65 * 40 + 1.0 * 20) / 100 * 100)


def test_nothing_measured_yet_counts_as_on_track_but_silence_and_an_absent_sponsor_do_not():
    health = score(Signals(), SETTINGS, sponsor_in_slack=False)
    assert health.parts["progress"]["score"] == 100
    assert health.parts["usage"]["score"] == 0 and health.parts["sponsor"]["score"] == 0
    assert health.score == 40


def test_weights_come_from_the_settings():
    only_usage = RuleSettings(health_weight_usage=1, health_weight_progress=0, health_weight_sponsor=0)
    assert score(Signals(customer_events=20), only_usage, sponsor_in_slack=False).score == 100


def test_the_customers_ratings_are_a_part_once_there_are_any():
    signals = Signals(
        milestones=10, open=5, done=5, due=6, done_of_due=3, on_time=4, customer_events=5, sponsor_events=1
    )
    unrated = score(signals, SETTINGS, sponsor_in_slack=True)
    assert "voice" not in unrated.parts
    assert unrated.score == 66  # (0.5*40 + 0.65*40 + 1.0*20) / 100
    signals.rated_stage, signals.ratings, signals.rating_total = "setup", 2, 5  # a 2 and a 3
    rated = score(signals, SETTINGS, sponsor_in_slack=True)
    assert rated.parts["voice"] == {"score": 38, "weight": 20, "stage": "setup", "ratings": 2, "mean": 2.5}
    assert rated.score == 61  # (20 + 26 + 20 + 0.375*20) / 120 = 0.6125


def test_no_ratings_leave_the_score_alone_and_good_ones_lift_it():
    assert score(Signals(), SETTINGS, sponsor_in_slack=False).score == 40  # 40 of 100: usage and sponsor at 0
    delighted = Signals(rated_stage="kickoff", ratings=3, rating_total=15)
    assert score(delighted, SETTINGS, sponsor_in_slack=False).score == 50  # (40 + 20) / 120
    unhappy = Signals(rated_stage="kickoff", ratings=1, rating_total=1)
    assert score(unhappy, SETTINGS, sponsor_in_slack=False).score == 33  # 40 / 120
    muted = RuleSettings(health_weight_voice=0)
    assert score(unhappy, muted, sponsor_in_slack=False).score == 40


def test_the_latest_stage_rated_in_plan_order_is_the_voice(clean_db):
    with session_scope(clean_db) as s:
        ob = build_account(s)
        other = build_account(s)
        for stage, user, value in (
            ("setup", "U0A", 1),
            ("setup", "U0B", 2),
            ("kickoff", "U0A", 5),
            ("kickoff", "U0C", 5),
        ):
            s.add(StageRating(onboarding_id=ob.id, stage=stage, slack_user_id=user, score=value,
                              created_at=at(MONDAY), updated_at=at(MONDAY)))  # fmt: skip
        oid, other_id = ob.id, other.id
    with session_scope(clean_db) as s:
        signals = load_signals(s.connection(), at(MONDAY), ["Europe/Berlin"], {}, SETTINGS)
    assert (signals[oid].rated_stage, signals[oid].ratings, signals[oid].rating_total) == ("setup", 2, 3)
    assert signals[other_id].ratings == 0 and signals[other_id].rated_stage is None
    run(clean_db, at(MONDAY, 10))
    with session_scope(clean_db) as s:
        stored = {r.onboarding_id: r for r in s.exec(select(HealthSnapshot)).scalars()}
    assert stored[oid].parts["voice"] == {"score": 12, "weight": 20, "stage": "setup", "ratings": 2, "mean": 1.5}
    assert "voice" not in stored[other_id].parts
    # usage 5/10, progress (2/3 + 1/2) / 2, sponsor 1: (20 + 23.33 + 20) / 100
    assert stored[other_id].score == 63
    # the same figures and a mean of 1.5 (0.125 of the voice's 20): (63.33 + 2.5) / 120
    assert stored[oid].score == 55


def build_account(s: Session, tz: str = "Europe/Berlin"):
    ob = add_onboarding(s, tz=tz)
    add_milestone(
        s, ob, "on_time", MONDAY - timedelta(days=5), status="done", completed_at=at(MONDAY - timedelta(days=6))
    )
    add_milestone(
        s, ob, "late_done", MONDAY - timedelta(days=10), status="done", completed_at=at(MONDAY - timedelta(days=8))
    )
    add_milestone(s, ob, "overdue", MONDAY - timedelta(days=2))
    add_milestone(s, ob, "future", MONDAY + timedelta(days=10))
    customer_spoke(s, ob, at(MONDAY - timedelta(days=1)), n=4)
    customer_spoke(s, ob, at(MONDAY - timedelta(days=20)), n=3)  # outside the usage window
    customer_spoke(s, ob, at(MONDAY - timedelta(days=3)), user=SPONSOR)
    return ob


def test_signals_are_read_in_three_statements_for_any_number_of_onboardings(clean_db):
    with session_scope(clean_db) as s:
        ids = [build_account(s).id for _ in range(3)]
    seen = []

    def count(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(clean_db, "before_cursor_execute", count)
    try:
        with session_scope(clean_db) as s:
            signals = load_signals(s.connection(), at(MONDAY), ["Europe/Berlin"], {"standard_30": SETTINGS}, SETTINGS)
    finally:
        event.remove(clean_db, "before_cursor_execute", count)
    assert len(seen) == 4
    for oid in ids:
        got = signals[oid]
        assert (got.milestones, got.open, got.done, got.due, got.done_of_due, got.on_time) == (4, 2, 2, 3, 2, 1)
        assert got.earliest_open_due == MONDAY - timedelta(days=2)
        assert (got.customer_events, got.sponsor_events) == (5, 1)
        assert got.last_customer_at == at(MONDAY - timedelta(days=1))


def _signal_threads(engine):
    """Collects the name of the thread that runs each signal query (the milestone aggregate)."""
    threads: list[str] = []

    def note(conn, cursor, statement, *rest):
        if statement.lstrip().startswith("SELECT milestones.onboarding_id, count(*)"):
            threads.append(threading.current_thread().name)

    event.listen(engine, "before_cursor_execute", note)
    return threads, lambda: event.remove(engine, "before_cursor_execute", note)


def test_signals_read_on_a_second_connection_are_those_read_in_line(clean_db):
    with session_scope(clean_db) as s:
        build_account(s)
        build_account(s, tz="America/Los_Angeles")
    settings_for = lambda _key: SETTINGS  # noqa: E731
    threads, stop = _signal_threads(clean_db)
    try:
        with session_scope(clean_db) as s:
            in_line = candidates.load(s.connection(), at(MONDAY), settings_for)
            aside = candidates.load(s.connection(), at(MONDAY), settings_for, second=clean_db)
    finally:
        stop()
    assert threads[0] == threading.current_thread().name and threads[1].startswith("sweep-signals")
    assert {oid: asdict(a.signals) for oid, a in aside.accounts.items()} == {
        oid: asdict(a.signals) for oid, a in in_line.accounts.items()
    }
    assert all(a.signals.milestones == 4 for a in aside.accounts.values())


def test_a_second_reader_only_on_postgresql_and_only_before_the_sweep_writes(clean_db):
    with Session(clean_db) as s:
        if clean_db.dialect.name != "postgresql":
            assert second_reader(s.connection()) is None  # SQLite reads in this process: nothing gained
            return
        assert second_reader(s.connection()) is clean_db
        build_account(s)
        s.flush()  # written, not committed: another connection would not see it
        assert second_reader(s.connection()) is None
        s.rollback()


def test_the_rules_see_what_their_own_transaction_wrote_before_them(clean_db):
    with session_scope(clean_db) as s:
        oid = build_account(s).id
    threads, stop = _signal_threads(clean_db)
    try:
        with Session(clean_db) as s:
            first = {n.dedupe_key for n in decide(s, at(MONDAY, 10))}
            s.rollback()
            add_milestone(s, s.get(Onboarding, oid), "late", MONDAY - timedelta(days=1))  # not committed
            decide(s, at(MONDAY, 10))
            stored = s.exec(select(HealthSnapshot).where(HealthSnapshot.onboarding_id == oid)).scalars().one()
            due = stored.parts["progress"]["due"]
            s.rollback()
    finally:
        stop()
    assert first
    assert due == 4  # the uncommitted milestone was counted
    if clean_db.dialect.name == "postgresql":
        assert threads[0].startswith("sweep-signals") and threads[1] == threading.current_thread().name


def test_on_time_is_judged_on_the_customers_calendar(clean_db):
    # 20:00 on the due date in Los Angeles is already the next day in UTC
    due = MONDAY - timedelta(days=3)
    done_at = datetime(due.year, due.month, due.day, 20, 0, tzinfo=UTC) + timedelta(hours=7)
    with session_scope(clean_db) as s:
        ob = add_onboarding(s, tz="America/Los_Angeles")
        add_milestone(s, ob, "evening", due, status="done", completed_at=done_at)
        oid = ob.id
    with session_scope(clean_db) as s:
        signals = load_signals(s.connection(), at(MONDAY), ["America/Los_Angeles"], {}, SETTINGS)
    assert signals[oid].on_time == 1


def test_todays_score_is_stored_once_per_local_day(clean_db):
    with session_scope(clean_db) as s:
        oid = build_account(s).id
    run(clean_db, at(MONDAY, 9))
    with session_scope(clean_db) as s:
        customer_spoke(s, s.get(Onboarding, oid), at(MONDAY, 9, 30), n=10)
    run(clean_db, at(MONDAY, 10))
    run(clean_db, at(MONDAY + timedelta(days=1), 10))
    with session_scope(clean_db) as s:
        rows = s.exec(select(HealthSnapshot).order_by(HealthSnapshot.day)).scalars().all()
    assert [(r.onboarding_id, r.day) for r in rows] == [(oid, MONDAY), (oid, MONDAY + timedelta(days=1))]
    assert rows[0].parts["usage"]["customer_events"] == 15  # the 10:00 score replaced the 09:00 one
    assert set(rows[0].parts) == {"usage", "progress", "sponsor"}


def test_a_drop_past_the_threshold_alerts_the_csm_and_manager_by_dm(clean_db):
    with session_scope(clean_db) as s:
        oid = build_account(s).id
        s.add(
            HealthSnapshot(onboarding_id=oid, day=MONDAY - timedelta(days=7), score=95, parts={"usage": {"score": 100}})
        )
    notices = of(run(clean_db, at(MONDAY, 10)), Rule.HEALTH_DROP)
    assert {(n.audience, n.recipient) for n in notices} == {(Audience.DM, CSM), (Audience.DM, MANAGER)}
    n = notices[0]
    assert n.period == "2026-W19" and n.facts["previous_score"] == 95 and n.facts["drop"] == 95 - n.facts["score"]
    assert n.facts["previous_parts"] == {"usage": {"score": 100}} and set(n.facts["parts"]) == {
        "usage",
        "progress",
        "sponsor",
    }


def test_a_small_drop_or_no_history_says_nothing(clean_db):
    with session_scope(clean_db) as s:
        oid = build_account(s).id
    today = run(clean_db, at(MONDAY, 10))
    assert of(today, Rule.HEALTH_DROP) == []
    with session_scope(clean_db) as s:
        current = s.exec(select(HealthSnapshot.score)).scalar_one()
        s.add(HealthSnapshot(onboarding_id=oid, day=MONDAY - timedelta(days=7), score=current + 14, parts={}))
    assert of(run(clean_db, at(MONDAY, 11)), Rule.HEALTH_DROP) == []


def test_a_later_sweep_of_the_day_writes_only_scores_that_moved(clean_db):
    with session_scope(clean_db) as s:
        build_account(s)
        other = build_account(s)
    run(clean_db, at(MONDAY, 9))
    writes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO health_snapshots"):
            writes.append(len(parameters) if executemany else 1)

    event.listen(clean_db, "before_cursor_execute", count)
    try:
        run(clean_db, at(MONDAY, 10))
        with session_scope(clean_db) as s:
            customer_spoke(s, s.get(Onboarding, other.id), at(MONDAY, 10, 30), n=5)
        run(clean_db, at(MONDAY, 11))
    finally:
        event.remove(clean_db, "before_cursor_execute", count)
    assert writes == [1]


def test_a_days_first_score_copied_in_replaces_one_another_writer_stored_meanwhile(clean_db):
    with session_scope(clean_db) as s:
        first, second = build_account(s).id, build_account(s).id
        s.add(HealthSnapshot(onboarding_id=first, day=MONDAY, score=40, parts={"usage": {"score": 40}}))
    fresh = [
        {"onboarding_id": oid, "day": MONDAY, "score": 70 + n, "parts": {"usage": {"score": 70 + n}}}
        for n, oid in enumerate((first, second))
    ]
    with session_scope(clean_db) as s:
        snapshots.save(s.connection(), [], fresh=fresh)  # both found missing, but one was stored meanwhile
    with session_scope(clean_db) as s:
        rows = s.exec(select(HealthSnapshot).order_by(HealthSnapshot.onboarding_id)).scalars().all()
    assert [(r.onboarding_id, r.day, r.score, r.parts) for r in rows] == [
        (first, MONDAY, 70, {"usage": {"score": 70}}),
        (second, MONDAY, 71, {"usage": {"score": 71}}),
    ]
