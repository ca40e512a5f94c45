"""The projected go-live (bot.planning.forecast), on a small plan dated by hand.

June 2026: Monday 1, 8, 15, 22. The plan, in business days:
  a      Mon 1 - Fri 5 Jun
  b      Mon 8 - Wed 10 Jun, after a
  it     Mon 1 - Tue 9 Jun (a parallel track)
  go     Mon 15 Jun, after b and it, with 2 buffer days (Wed 10 + 1 + 2 = Mon 15)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.planning.forecast import Schedule, Work, project, schedule_of
from bot.planning.playbook import load_playbooks
from bot.planning.timeline import plan_onboarding


def jun(day: int) -> date:
    return date(2026, 6, day)


PLAN = {
    "a": Work("a", jun(1), jun(5)),
    "b": Work("b", jun(8), jun(10), ("a",)),
    "it": Work("it", jun(1), jun(9)),
    "go": Work("go", jun(15), jun(15), ("b", "it")),
}


def forecast(today: date, **done: date):
    work = [replace(w, done_on=done.get(w.key)) for w in PLAN.values()]
    result = project(work, "go", today, buffer_days=2)
    assert result is not None
    return result


def test_nothing_done_yet_projects_the_plan():
    f = forecast(jun(1))
    assert f.go_live == jun(15)
    assert f.critical_path == ("a", "b", "go")
    assert f.pushed_by is None


def test_a_late_milestone_pushes_go_live_along_the_critical_path():
    # Wed 10: a (due Fri 5) is still open, so it can finish today at best; b takes its 3 days after
    # it (Thu 11 - Mon 15) and go waits 2 buffer days: Thu 18.
    f = forecast(jun(10), it=jun(9))
    assert f.finish["a"] == jun(10) and f.finish["b"] == jun(15)
    assert f.go_live == jun(18)
    assert f.pushed_by == "a"
    # A day later nothing changed but the date: everything left moves a day.
    assert forecast(jun(11), it=jun(9)).go_live == jun(19)


def test_late_work_off_the_critical_path_is_absorbed_by_its_slack():
    # it is due Tue 9 but done Thu 11; go still waits for b (Wed 10) + buffer, and it is now the
    # latest dependency: Thu 11 + 1 + 2 = Tue 16.
    f = forecast(jun(11), a=jun(5), b=jun(10), it=jun(11))
    assert f.go_live == jun(16) and f.critical_path == ("it", "go") and f.pushed_by == "it"
    # Done Wed 10 it finishes with b: go stays on Mon 15.
    assert forecast(jun(11), a=jun(5), b=jun(10), it=jun(10)).go_live == jun(15)


def test_work_finished_early_keeps_the_plan_and_makes_up_for_a_late_start():
    # a done early: b still starts on its planned Mon 8 (plans are never compressed below their days).
    assert forecast(jun(3), a=jun(3)).go_live == jun(15)
    # a done late (Tue 9) pushes b to Wed 10 - Fri 12 and go to Wed 17 ...
    assert forecast(jun(10), a=jun(9), it=jun(9)).go_live == jun(17)
    # ... but b done the next day, in one day instead of three, brings go back to Mon 15.
    f = forecast(jun(10), a=jun(9), b=jun(10), it=jun(9))
    assert f.go_live == jun(15) and f.pushed_by is None


def test_after_the_target_date_go_live_is_no_earlier_than_today():
    # Everything done on time but the sign-off itself, and it is Wed 17: the soonest is today.
    f = forecast(jun(17), a=jun(5), b=jun(10), it=jun(9))
    assert f.go_live == jun(17) and f.pushed_by == "go"
    # On a Saturday the soonest is Monday.
    assert forecast(jun(20), a=jun(5), b=jun(10), it=jun(9)).go_live == jun(22)


def test_a_milestone_done_on_a_weekend_lets_the_next_start_on_monday():
    # a done Sat 6: b starts Mon 8 as planned.
    assert forecast(jun(6), a=jun(6)).finish["b"] == jun(10)


def test_a_due_date_moved_later_makes_the_milestone_longer():
    work = [*PLAN.values()]
    work[1] = replace(PLAN["b"], due_on=jun(12))  # b now Mon 8 - Fri 12
    result = project(work, "go", jun(1), buffer_days=2)
    assert result is not None and result.go_live == jun(17)


def test_no_go_live_milestone_gives_no_projection():
    assert project([PLAN["a"]], "go", jun(1)) is None


@pytest.mark.parametrize(
    ("projected", "today", "expected"),
    [
        (jun(15), jun(1), Schedule.ON_TRACK),  # on the agreed day
        (jun(12), jun(1), Schedule.ON_TRACK),  # earlier
        (jun(16), jun(1), Schedule.AT_RISK),  # a day later
        (jun(29), jun(1), Schedule.AT_RISK),  # 14 days later: still within the window
        (jun(30), jun(1), Schedule.BEHIND),  # 15 days later
        (jun(15), jun(15), Schedule.ON_TRACK),  # go-live day itself
        (jun(16), jun(16), Schedule.BEHIND),  # the agreed day has passed without go-live
        (None, jun(1), Schedule.ON_TRACK),
    ],
)
def test_schedule_against_the_agreed_date(projected, today, expected):
    assert schedule_of(jun(15), projected, None, today, 14) is expected


def test_once_live_the_schedule_is_live_whatever_the_dates():
    assert schedule_of(jun(15), jun(30), jun(30), jun(30), 14) is Schedule.LIVE
    assert Schedule.AT_RISK.label == "at risk"


@pytest.mark.parametrize("key", ["standard_30", "standard_60", "enterprise_90", "light"])
def test_a_fresh_plan_projects_its_own_go_live(key):
    """On the day it is made, the projection of a dated playbook is the plan's go-live."""
    playbook = load_playbooks()[key]
    signed = date(2026, 5, 1)
    for target in (None, date(2026, 12, 18)):
        plan = plan_onboarding(playbook, signed, target, it_in_scope=list(playbook.it_durations))
        work = [Work(m.key, m.start, m.due, m.depends_on) for m in plan.milestones]
        result = project(work, playbook.go_live_milestone.key, signed, buffer_days=playbook.buffer_days)
        assert result is not None and result.go_live == plan.go_live
