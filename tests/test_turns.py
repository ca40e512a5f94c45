"""Turns at click work: a few at once until each first calls Slack, and never a wait on each other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.client import TurnClient, without_retries
from bot.slack.lanes import Lanes
from bot.slack.turns import InTurns, Turns, give_back, holding
from tests.conftest import BOT_TOKEN

NOT_YET_S = 0.2  # how long a thread that must not get in is given to get in all the same


def _client(fake_slack) -> TurnClient:
    return TurnClient(token=BOT_TOKEN, base_url=fake_slack.url)


def test_no_more_than_the_turns_run_at_once_and_each_ends_its_turn_when_it_ends():
    turns = Turns(2)
    pool = InTurns(ThreadPoolExecutor(max_workers=4), turns)
    inside, most, lock = 0, 0, threading.Lock()
    two_in, go = threading.Barrier(3), threading.Event()

    def work(first: bool) -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        if first:
            two_in.wait(5)
            assert go.wait(5)
        with lock:
            inside -= 1

    held = [pool.submit(work, True), pool.submit(work, True)]
    two_in.wait(5)  # both first ones are in, and wait
    late = [pool.submit(work, False) for _ in range(2)]
    with pytest.raises(TimeoutError):
        late[0].result(timeout=NOT_YET_S)  # no turn is free while the first two hold theirs
    go.set()
    for future in held + late:
        future.result(timeout=5)
    pool.shutdown(wait=True)
    assert most == 2


def test_a_slack_call_gives_the_turn_back_and_the_next_work_starts_meanwhile(fake_slack):
    turns = Turns(1)
    pool = InTurns(ThreadPoolExecutor(max_workers=2), turns)
    client = _client(fake_slack)
    first_in, second_in = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        first_in.set()
        seen.append(holding())
        client.auth_test()  # from here on it only waits on Slack
        seen.append(holding())
        assert second_in.wait(5), "the second work never got the turn the Slack call gave back"

    def second() -> None:
        second_in.set()

    a = pool.submit(first)
    assert first_in.wait(5)
    b = pool.submit(second)
    a.result(timeout=5)
    b.result(timeout=5)
    pool.shutdown(wait=True)
    assert seen == [True, False]


def test_work_holding_a_lock_never_waits_for_a_turn_again(fake_slack):
    # The first work takes a card's lock, reaches Slack (giving its turn back), then must go on to
    # let the lock go while the second work holds the only turn and waits for that lock.
    turns = Turns(1)
    pool = InTurns(ThreadPoolExecutor(max_workers=2), turns)
    client = without_retries(_client(fake_slack))
    card = threading.Lock()
    second_waiting = threading.Event()

    def first() -> str:
        with card:
            client.auth_test()
            assert second_waiting.wait(5)
            return "drawn"

    def second() -> str:
        second_waiting.set()
        with card:
            return "drawn after"

    a = pool.submit(first)
    b = pool.submit(second)
    assert (a.result(timeout=5), b.result(timeout=5)) == ("drawn", "drawn after")
    pool.shutdown(wait=True)


def test_work_run_from_within_work_keeps_the_turn_it_is_in():
    turns = Turns(1)
    inner: list[bool] = []
    assert turns.run(lambda: turns.run(lambda: inner.append(holding()) or "done")) == "done"
    assert inner == [True]
    assert not holding()
    give_back()  # a thread without a turn gives nothing back
    assert turns.run(lambda: "again") == "again", "the one turn is free again"


def test_each_piece_of_a_lane_takes_a_turn():
    turns = Turns(1)
    pool = ThreadPoolExecutor(max_workers=2)
    lanes = Lanes(pool, turns)
    seen: list[bool] = []
    done = threading.Event()
    lanes.submit("a", lambda: seen.append(holding()))
    lanes.submit("a", lambda: (seen.append(holding()), done.set()))
    assert done.wait(5)
    pool.shutdown(wait=True)
    assert seen == [True, True]


def test_at_least_one_turn():
    with pytest.raises(ValueError):
        Turns(0)
