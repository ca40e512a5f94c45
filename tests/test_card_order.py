"""A card never goes back to an older state, and what a change publishes is how it committed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.core.domain import Act, Side
from bot.core.effects import CardKind
from bot.milestones.changes import Change, change
from bot.milestones.rules import Actor
from bot.slack import publish
from bot.slack.draws import Draws
from store.db import session_scope
from store.models import Milestone
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


def test_two_changes_published_the_wrong_way_round_leave_the_card_showing_both(harness):
    ob = start_onboarding(harness)
    a, b = _stage_milestones(harness, ob.id, "pre_kickoff")[:2]
    playbooks = harness.services.playbooks
    first = change(harness.engine, ref(harness, ob.id, a.key), CSM, Change(Act.START), now=NOW, playbooks=playbooks)
    second = change(harness.engine, ref(harness, ob.id, b.key), CSM, Change(Act.START), now=NOW, playbooks=playbooks)
    c = card(harness, ob.id, CardKind.STAGE.value, "pre_kickoff")
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
