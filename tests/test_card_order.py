"""A card never goes back to an older state, and what a change publishes is how it committed."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core.domain import Act, Side
from bot.core.effects import CardKind
from bot.milestones.changes import Change, change
from bot.milestones.rules import Actor
from bot.slack import publish
from bot.slack.draws import Draws
from store.card_draws import draw_in_order
from store.db import session_scope
from store.models import Milestone, PostedCard
from store.onboardings import load
from tests.cards_helpers import card, ref, shown, start_onboarding
from tests.conftest import VENDOR_AE, VENDOR_CSM

NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
CSM = Actor(VENDOR_CSM, Side.VENDOR)


def test_an_older_state_is_not_drawn_over_a_newer_one():
    draws, sent = Draws(), []
    assert draws.draw("card", 2, lambda: sent.append(2))
    assert not draws.draw("card", 1, lambda: sent.append(1)), "the older state came last and was dropped"
    assert draws.draw("card", 3, lambda: sent.append(3))
    assert draws.draw("card", 3, lambda: sent.append("3 again")), "the same state may be drawn again"
    assert draws.draw("other", 1, lambda: sent.append("other 1")), "each card keeps its own order"
    assert draws.draw("card", 0, lambda: sent.append("unstamped")), "a record read without its lock is drawn"
    assert not draws.draw("card", 2, lambda: sent.append(2)), "and leaves the order as it was"
    assert sent == [2, 3, "3 again", "other 1", "unstamped"]


def test_one_draw_of_a_card_at_a_time_and_other_cards_meanwhile():
    draws = Draws()
    inside, release, order = threading.Event(), threading.Event(), []

    def slow() -> None:
        inside.set()
        assert release.wait(5)
        order.append("first")

    first = threading.Thread(target=draws.draw, args=("card", 1, slow))
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=draws.draw, args=("card", 2, lambda: order.append("second")))
    second.start()
    assert draws.draw("other", 1, lambda: order.append("other")), "another card doesn't wait"
    second.join(0.2)
    assert second.is_alive(), "the second draw of the card waits for the first"
    release.set()
    first.join(5)
    second.join(5)
    assert order == ["other", "first", "second"]
    assert not draws._busy, "nothing is held once the draws are done"


def test_it_remembers_only_the_latest_cards():
    draws = Draws(remembered=3)
    for n in range(10):
        draws.draw(f"card {n}", n + 1, lambda: None)
    assert list(draws._shown) == ["card 7", "card 8", "card 9"]


def _stage_milestones(h, onboarding_id: int, stage: str) -> list[Milestone]:
    with session_scope(h.engine) as s:
        query = select(Milestone).where(Milestone.onboarding_id == onboarding_id, Milestone.stage == stage)
        return list(s.exec(query.order_by(Milestone.position)))


def _columns(instance) -> dict:
    return {name: getattr(instance, name) for name in type(instance).model_fields}


@pytest.mark.parametrize(
    "act",
    [
        Change(Act.START),
        Change(Act.BLOCK, reason="Waiting on the SSO certificate", unblocker="IT"),
        Change(Act.REASSIGN, vendor_user_id=VENDOR_AE, vendor_name="Alex AE"),
    ],
    ids=["start", "block", "reassign to someone new"],
)
def test_the_state_a_change_publishes_is_how_it_stands_once_committed(harness, act):
    ob = start_onboarding(harness)
    first = _stage_milestones(harness, ob.id, "pre_kickoff")[0]
    outcome = change(
        harness.engine, ref(harness, ob.id, first.key), CSM, act, now=NOW, playbooks=harness.services.playbooks
    )
    carried = outcome.changed.state
    with session_scope(harness.engine) as s:
        fresh = load(s, ob.id, cards=True)
    assert carried is not None and carried.stamp > 0
    assert _columns(carried.onboarding) == _columns(fresh.onboarding)
    assert [_columns(m) for m in carried.milestones] == [_columns(m) for m in fresh.milestones]
    assert [_columns(p) for p in carried.people] == [_columns(p) for p in fresh.people]
    assert [_columns(c) for c in carried.cards] == [_columns(c) for c in fresh.cards]


def _two_starts(harness):
    """Two milestones of one stage started one after the other: (onboarding, a, b, a's outcome, b's, the card)."""
    ob = start_onboarding(harness)
    a, b = _stage_milestones(harness, ob.id, "pre_kickoff")[:2]
    playbooks = harness.services.playbooks
    first = change(harness.engine, ref(harness, ob.id, a.key), CSM, Change(Act.START), now=NOW, playbooks=playbooks)
    second = change(harness.engine, ref(harness, ob.id, b.key), CSM, Change(Act.START), now=NOW, playbooks=playbooks)
    return ob, a, b, first, second, card(harness, ob.id, CardKind.STAGE.value, "pre_kickoff")


def test_two_changes_published_the_wrong_way_round_leave_the_card_showing_both(harness):
    ob, a, b, first, second, c = _two_starts(harness)
    publish.publish(harness.services, second.changed, now=NOW)
    harness.settle()
    after_second = shown(harness, c)["blocks"]
    publish.publish(harness.services, first.changed, now=NOW)  # its redraw comes last, with the older state
    harness.settle()
    assert shown(harness, c)["blocks"] == after_second, "the card kept the newer state"
    with session_scope(harness.engine) as s:
        now_stands = load(s, ob.id)
    expected = publish._render(harness.services, now_stands, CardKind.STAGE.value, "pre_kickoff", NOW)
    assert shown(harness, c)["blocks"] == expected.blocks, "and that is both milestones started"
    # The older change's history line still reaches the thread.
    lines = [
        call.args["text"] for call in harness.fake.calls_to("chat.postMessage") if call.args.get("thread_ts") == c.ts
    ]
    assert any(a.title in line for line in lines) and any(b.title in line for line in lines)


def test_changes_made_at_once_on_one_card_leave_it_showing_them_all(harness):
    ob = start_onboarding(harness)
    milestones = _stage_milestones(harness, ob.id, "pre_kickoff")[:4]
    playbooks = harness.services.playbooks
    go = threading.Barrier(len(milestones))

    def start(m: Milestone) -> None:
        go.wait(5)
        outcome = change(
            harness.engine, ref(harness, ob.id, m.key), CSM, Change(Act.START), now=NOW, playbooks=playbooks
        )
        publish.publish(harness.services, outcome.changed, now=NOW)

    threads = [threading.Thread(target=start, args=(m,)) for m in milestones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    harness.settle()
    with session_scope(harness.engine) as s:
        now_stands = load(s, ob.id)
    assert all(m.status == "in_progress" for m in now_stands.milestones if m.id in {x.id for x in milestones})
    for kind, subject in ((CardKind.STAGE.value, "pre_kickoff"), (CardKind.OVERVIEW.value, "")):
        expected = publish._render(harness.services, now_stands, kind, subject, NOW)
        assert shown(harness, card(harness, ob.id, kind, subject))["blocks"] == expected.blocks, kind


ON_POSTGRES = pytest.mark.skipif(
    not os.environ.get("ONBOARD_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="replicas share a PostgreSQL database; SQLite is one process's file, ordered by that process alone",
)


def test_each_locked_read_of_an_onboarding_is_given_its_next_revision(harness):
    ob = start_onboarding(harness)
    stamps = []
    for _ in range(3):
        with session_scope(harness.engine) as s:
            record = load(s, ob.id, lock=True)
            stamps.append(record.stamp)
            assert record.onboarding.revision == record.stamp
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    with session_scope(harness.engine) as s:
        assert load(s, ob.id).stamp == 0, "a read without the lock has no place in the order"
        assert load(s, ob.id + 1000, lock=True) is None


@ON_POSTGRES
def test_a_replica_does_not_draw_an_older_state_over_another_replicas_newer_one(harness):
    ob, _a, _b, first, second, c = _two_starts(harness)
    other_replica = replace(harness.services, draws=Draws())  # a process of its own: it knows no card's order
    publish.publish(harness.services, second.changed, now=NOW)
    harness.settle()
    after_second = shown(harness, c)["blocks"]
    updates = len([u for u in harness.fake.calls_to("chat.update") if u.args["ts"] == c.ts])
    publish.publish(other_replica, first.changed, now=NOW)
    harness.settle()
    assert shown(harness, c)["blocks"] == after_second, "the card kept the newer state"
    assert len([u for u in harness.fake.calls_to("chat.update") if u.args["ts"] == c.ts]) == updates
    with session_scope(harness.engine) as s:
        stands = load(s, ob.id, cards=True)
    assert stands.posted[(CardKind.STAGE.value, "pre_kickoff")].drawn_revision == second.changed.state.stamp


@ON_POSTGRES
def test_replicas_draw_one_card_one_at_a_time_in_order_and_other_cards_meanwhile(harness):
    ob = start_onboarding(harness)
    stage = card(harness, ob.id, CardKind.STAGE.value, "pre_kickoff")
    overview = card(harness, ob.id, CardKind.OVERVIEW.value, "")
    inside, release, sent = threading.Event(), threading.Event(), []

    def slow() -> None:
        inside.set()
        assert release.wait(5)
        sent.append(5)

    def draw(card_id: int, revision: int, send) -> threading.Thread:
        t = threading.Thread(target=lambda: results.append(draw_in_order(harness.engine, card_id, revision, send)))
        t.start()
        return t

    results: list[bool] = []
    held = draw(stage.id, 5, slow)
    assert inside.wait(5)
    older = draw(stage.id, 4, lambda: sent.append(4))
    later = draw(stage.id, 6, lambda: sent.append(6))
    assert draw_in_order(harness.engine, overview.id, 1, lambda: sent.append("overview")), "another card goes on"
    _until_waiting(harness.engine, 2)  # both wait on the card's row
    assert sent == ["overview"]
    release.set()
    for t in (held, older, later):
        t.join(5)
    assert sent == ["overview", 5, 6], "one at a time, in order; the older state never reached Slack"
    assert sorted(results) == [False, True, True]
    with session_scope(harness.engine) as s:
        assert s.get(PostedCard, stage.id).drawn_revision == 6
    assert draw_in_order(harness.engine, stage.id, 0, lambda: sent.append(0)), "a state read without the lock is drawn"


def test_on_sqlite_one_process_orders_its_draws_and_nothing_is_written(harness):
    if harness.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    ob = start_onboarding(harness)
    c = card(harness, ob.id, CardKind.STAGE.value, "pre_kickoff")
    sent: list[int] = []
    assert draw_in_order(harness.engine, c.id, 7, lambda: sent.append(7))
    assert draw_in_order(harness.engine, c.id, 3, lambda: sent.append(3))
    assert sent == [7, 3]
    with session_scope(harness.engine) as s:
        assert s.get(PostedCard, c.id).drawn_revision == 0


def _until_waiting(engine, count: int) -> None:
    """Until `count` sessions wait on a row lock (PostgreSQL's pg_locks)."""
    deadline = time.monotonic() + 5
    while True:
        with engine.connect() as conn:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
        if waiting >= count:
            return
        assert time.monotonic() < deadline, f"{waiting} of {count} draws wait on the card's row"
        time.sleep(0.01)
