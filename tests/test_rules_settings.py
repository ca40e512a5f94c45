"""The optional [rules] table of a playbook: read over the defaults, every problem with file and line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.automation.rules import RuleSettings
from bot.automation.rules.local_time import local_time_for
from bot.core.calendar import OFFICE_HOURS, BusinessHours
from bot.planning.playbook import load_playbooks, validate_command, validate_file

BASE = Path(load_playbooks()["standard_30"].source).read_text(encoding="utf-8")


def with_rules(tmp_path: Path, table: str) -> tuple[str, int, Path]:
    """standard_30 with `table` appended; the file and the line number of the table's header."""
    path = tmp_path / "standard_30.toml"
    text = BASE.rstrip("\n") + "\n\n" + table
    path.write_text(text, encoding="utf-8")
    return str(path), len(BASE.rstrip("\n").splitlines()) + 2, path


def test_without_a_rules_table_the_defaults_apply():
    assert all(p.rules == RuleSettings() for p in load_playbooks().values())


def test_rules_table_overrides_only_what_it_names(tmp_path):
    _, _, path = with_rules(
        tmp_path,
        """[rules]
due_soon_business_days = 3
blocked_days = 5
business_hours_start = "08:30"
business_hours_end = 18:00:00
business_days = ["sun", "mon", "tue", "wed", "thu"]
weekly_overview_day = "Sunday"
health_weight_sponsor = 0
""",
    )
    assert validate_file(path) == []
    rules = load_playbooks(tmp_path)["standard_30"].rules
    assert rules == RuleSettings(
        due_soon_business_days=3,
        blocked_days=5,
        business_hours_start=time(8, 30),
        business_hours_end=time(18),
        business_days=(0, 1, 2, 3, 6),
        weekly_overview_day=6,
        health_weight_sponsor=0,
    )
    assert rules.business_hours == BusinessHours(time(8, 30), time(18), frozenset({0, 1, 2, 3, 6}))


def test_the_default_business_calendar_is_the_office_one():
    assert RuleSettings().business_hours == OFFICE_HOURS


def test_the_customers_local_time_counts_on_the_playbooks_calendar():
    rules = RuleSettings(
        business_hours_start=time(8),
        business_hours_end=time(12),
        business_days=(0, 1, 2, 3),
        due_soon_business_days=2,
        weekly_overview_day=0,
    )
    thursday_11 = datetime(2026, 5, 7, 9, 0, tzinfo=UTC)  # 11:00 in Berlin
    local = local_time_for(thursday_11, "Europe/Berlin", rules)
    assert local.hours is rules.business_hours
    assert local.opens == thursday_11 and local.day_open
    assert local.due_soon_end == date(2026, 5, 12)  # Thursday + 2 business days: Monday, Tuesday
    assert local.business_days_after(date(2026, 5, 7), 1) == date(2026, 5, 11)
    # one business day after Thursday 11:00 is Monday 11:00; after Thursday 13:00 (closed) it counts from
    # the next opening, Monday 08:00, so it is Tuesday 08:00
    assert local.deadline(thursday_11, 1) == datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
    assert local.deadline(thursday_11 + timedelta(hours=2), 1) == datetime(2026, 5, 12, 6, 0, tzinfo=UTC)
    evening = local_time_for(thursday_11 + timedelta(hours=2), "Europe/Berlin", rules)
    assert evening.opens == datetime(2026, 5, 11, 6, 0, tzinfo=UTC) and not evening.day_open


@pytest.mark.parametrize("line,message", [
    ("blocked_days = 0", "rules: 'blocked_days' must be at least 1"),
    ("blocked_days = \"7\"", "rules: 'blocked_days' must be a whole number"),
    ("silent_days = true", "rules: 'silent_days' must be a whole number"),
    ("business_hours_start = \"9am\"", "rules: 'business_hours_start' must be a time of day such as \"09:00\""),
    ("business_days = [\"mon\", \"funday\"]", "rules: 'business_days' must be a non-empty list of weekdays"),
    ("business_days = []", "rules: 'business_days' must be a non-empty list of weekdays"),
    ("business_days = [\"mon\", \"mon\"]", "rules: 'business_days' lists a weekday twice"),
    ("weekly_overview_day = 1", "rules: 'weekly_overview_day' must be a weekday"),
    ("nudge_hours = 3", "rules: unknown setting 'nudge_hours'"),
    ("kickoff_recap_milestone = \"no_such_milestone\"",
     "rules: 'kickoff_recap_milestone' names unknown milestone 'no_such_milestone'"),
    ("business_hours_end = \"08:00\"", "rules: 'business_hours_start' must be before 'business_hours_end'"),
    ("silent_sponsor_days = 3", "rules: 'silent_sponsor_days' must not be less than 'silent_days'"),
    ("weekly_overview_day = \"sun\"", "rules: 'weekly_overview_day' must be one of the 'business_days'"),
    ("business_days = [\"tue\", \"wed\"]", "rules: 'weekly_overview_day' must be one of the 'business_days'"),
])  # fmt: skip
def test_each_problem_is_reported_at_its_line(tmp_path, line, message):
    file, header, path = with_rules(tmp_path, f"[rules]\ndue_soon_business_days = 2\n{line}\n")
    problems = validate_file(path)
    assert [(p.file, p.line) for p in problems] == [(file, header + 2)]
    assert problems[0].message.startswith(message)


def test_rules_that_is_not_a_table(tmp_path):
    path = tmp_path / "standard_30.toml"
    lines = BASE.splitlines()
    at = next(i for i, text in enumerate(lines) if text.startswith("buffer_days")) + 1
    path.write_text("\n".join([*lines[:at], "rules = 3", *lines[at:]]) + "\n", encoding="utf-8")
    [problem] = validate_file(path)
    assert (problem.line, problem.message) == (at + 1, "rules: 'rules' must be a table")


def test_validate_command_lists_rules_problems(tmp_path, capsys):
    file, header, _ = with_rules(tmp_path, "[rules]\nblocked_days = -1\nhealth_drop_points = 0\n")
    assert validate_command(str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert f"{file}:{header + 1}: rules: 'blocked_days' must be at least 1" in out
    assert f"{file}:{header + 2}: rules: 'health_drop_points' must be at least 1" in out
