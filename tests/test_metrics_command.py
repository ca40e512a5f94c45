"""`onboard-bot metrics`: the team's numbers against their targets, on hand-made onboardings.

Three onboardings, measured on Thu 2 Jul 2026 (answers worked out by hand below):
- Acme (level 2, standard_30, signed 1 May): first value on 11 May (10 days), 40 of 50 seats active
  (80%), 4 milestones due, 4 done on time, on track; rated kickoff 4 and 5.
- Globex (level 3, standard_30, signed 1 May): first value on 21 May (20 days: misses 14), 30 of 50
  seats (60%, and 62 days since signature: misses 70% by day 60), 4 due, 2 done (one late: 50%
  completion misses 90%), behind; rated kickoff 2.
- Initech (level 2, standard_30, signed 25 Jun): 7 days old, no first value yet (not late), nothing
  due, no usage (too young for activation), on track.
All: median first value (10, 20) = 15 days; median activation (80, 60) = 70%; completion 6 of 8 =
75%; on time 5 of 6 = 83%; kickoff CSAT (4 + 5 + 2) / 3 = 3.7.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

from sqlalchemy import update

from bot.planning.playbook import load_playbooks
from bot.value.portfolio import By, grouped, numbers
from messages.metrics import as_csv, as_json, as_table
from store.db import session_scope
from store.models import Milestone, Onboarding, StageRating, UsageRecord
from tests.test_outbox import make_onboarding

NOW = datetime(2026, 7, 2, 15, 0, tzinfo=UTC)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)


def _onboarding(h, name: str, *, tier: int, signed: date, schedule: str, first_value_on: date | None,
                milestones: list[tuple[date, date | None]], seats: tuple[int, int] | None,
                scores: list[int]) -> int:  # fmt: skip
    ob_id = make_onboarding(h.engine, customer=name, shared=None)
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == ob_id).values(
            tier=tier, contract_signed_on=signed, schedule=schedule))  # fmt: skip
        if first_value_on is not None:
            s.add(Milestone(onboarding_id=ob_id, stage="setup", key="first_value", title="First value", track="business",
                            start_on=signed, due_on=first_value_on, status="done", first_value=True,
                            completed_at=_at(first_value_on)))  # fmt: skip
        for i, (due, done) in enumerate(milestones):
            s.add(Milestone(onboarding_id=ob_id, stage="setup", key=f"m{i}", title=f"Milestone {i}", track="it",
                            start_on=signed, due_on=due, status="done" if done else "in_progress",
                            completed_at=_at(done) if done else None))  # fmt: skip
        if seats is not None:
            for metric, value in (("provisioned_seats", seats[1]), ("weekly_active_users", seats[0])):
                s.add(UsageRecord(onboarding_id=ob_id, day=date(2026, 7, 1), metric=metric, value=value))
        for i, score in enumerate(scores):
            s.add(StageRating(onboarding_id=ob_id, stage="kickoff", slack_user_id=f"U{i}{name}", score=score))
    return ob_id


def _book(h) -> None:
    may, jun = date(2026, 5, 1), date(2026, 6, 25)
    # The first-value milestone is due (and done) on its day, so it counts in the rates too.
    _onboarding(h, "Acme", tier=2, signed=may, schedule="on_track", first_value_on=date(2026, 5, 11),
                milestones=[(date(2026, 6, 1), date(2026, 5, 30)), (date(2026, 6, 10), date(2026, 6, 10)),
                            (date(2026, 6, 20), date(2026, 6, 19))],
                seats=(40, 50), scores=[4, 5])  # fmt: skip
    _onboarding(h, "Globex", tier=3, signed=may, schedule="behind", first_value_on=date(2026, 5, 21),
                milestones=[(date(2026, 6, 1), date(2026, 6, 5)), (date(2026, 6, 10), None), (date(2026, 6, 20), None)],
                seats=(30, 50), scores=[2])  # fmt: skip
    _onboarding(h, "Initech", tier=2, signed=jun, schedule="on_track", first_value_on=None,
                milestones=[(date(2026, 7, 20), None)], seats=None, scores=[])  # fmt: skip


def _groups(h, by: By = By.ALL, since: date | None = None):
    return grouped(numbers(h.engine, NOW, load_playbooks(None), since=since), by)


def test_the_whole_team_against_each_target(harness):
    _book(harness)
    [team] = _groups(harness)
    row = team.as_row()
    assert row["onboardings"] == 3
    assert row["median_days_to_first_value"] == 15
    assert row["first_value_missed"] == "Globex"
    assert row["median_activation_percent"] == 70
    assert row["activation_missed"] == "Globex"
    assert (row["completion_percent"], row["completion_missed"]) == (75, "Globex")
    assert row["on_time_percent"] == 83
    assert (row["on_track"], row["at_risk"], row["behind"], row["live"]) == (2, 0, 1, 0)
    assert row["csat_kickoff"] == 3.7 and row["csat_setup"] is None


def test_grouped_by_tier_and_since_a_day(harness):
    _book(harness)
    by_tier = {g.key: g.as_row() for g in _groups(harness, By.TIER)}
    assert set(by_tier) == {"level 2", "level 3"}
    assert by_tier["level 2"]["onboardings"] == 2 and by_tier["level 2"]["median_days_to_first_value"] == 10
    assert by_tier["level 2"]["first_value_missed"] == "" and by_tier["level 3"]["first_value_missed"] == "Globex"
    [recent] = _groups(harness, since=date(2026, 6, 1))
    assert recent.as_row()["onboardings"] == 1 and recent.members[0].name == "Initech"


def test_each_format(harness):
    _book(harness)
    groups = _groups(harness, By.TIER)
    table = as_table(groups)
    assert "level 3 (1 onboarding)" in table and "median 20 days (target 14 days); missed: Globex" in table
    rows = list(csv.reader(io.StringIO(as_csv(groups))))
    assert rows[0][0] == "group" and len(rows) == 3, "one header, one row per group"
    assert all(len(r) == len(rows[0]) for r in rows)
    parsed = json.loads(as_json(groups))
    assert [g["group"] for g in parsed] == ["level 2", "level 3"]
    assert as_table([]) == "No onboardings to measure.\n"


def test_the_command_prints_csv_by_playbook(harness, monkeypatch, capsys):
    from freezegun import freeze_time

    from bot.runtime import cli

    _book(harness)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ONBOARD_PLAYBOOKS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", harness.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(cli.logs, "configure", lambda *a, **k: None)
    with freeze_time(NOW):
        code = cli.main(["metrics", "--format", "csv", "--by", "playbook", "--since", "2026-05-01"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == 0
    assert [(r["group"], r["onboardings"], r["completion_percent"]) for r in rows] == [("standard_30", "3", "75")]
