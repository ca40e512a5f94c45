"""One lane per key: in order within a key, at once across keys, and a failure stops nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.slack.lanes import Lanes


def test_work_of_one_key_runs_in_order_and_other_keys_run_meanwhile():
    pool = ThreadPoolExecutor(max_workers=4)
    lanes = Lanes(pool)
    release, started_a, done = threading.Event(), threading.Event(), []
    finished = threading.Event()

    def first_of_a():
        started_a.set()
        assert release.wait(5), "key b never ran while key a waited"
        done.append("a1")

    lanes.submit("a", first_of_a)
    assert started_a.wait(5)
    lanes.submit("a", lambda: done.append("a2"))
    lanes.submit("a", lambda: (done.append("a3"), finished.set()))
    lanes.submit("b", lambda: (done.append("b1"), release.set()))  # runs while a's first still waits
    assert finished.wait(5)
    pool.shutdown(wait=True)
    assert done == ["b1", "a1", "a2", "a3"]


def test_a_failure_is_logged_and_the_lane_goes_on(caplog):
    pool = ThreadPoolExecutor(max_workers=1)
    lanes = Lanes(pool)
    ran = threading.Event()

    def broken():
        raise RuntimeError("Slack said no")

    lanes.submit(7, broken)
    lanes.submit(7, ran.set)
    assert ran.wait(5)
    assert "follow-up for 7 failed: RuntimeError: Slack said no" in caplog.text
    again = threading.Event()  # later work for the key runs too, whether its lane had emptied or not
    lanes.submit(7, again.set)
    assert again.wait(5)
    pool.shutdown(wait=True)
    assert not lanes._waiting, "an emptied lane is let go"
