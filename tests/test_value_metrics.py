"""The value numbers on hand-made data, each answer worked out by hand in the comment beside it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.planning.settings import RuleSettings, read_rules_table
from bot.value import metrics
from bot.value.health import adoption_health
from bot.value.metrics import Activation, Rates, TrendKind, UsageDay, WeekPoint
from bot.value.usage import read_csv, read_json

SETTINGS = RuleSettings()
SIGNED = date(2026, 3, 2)  # a Monday
GO_LIVE = SIGNED + timedelta(weeks=5)  # 2026-04-06, the start of week 6


def test_time_to_value_counts_calendar_days_from_signature():
    assert metrics.days_between(SIGNED, date(2026, 3, 13)) == 11  # 2 Mar -> 13 Mar
    assert metrics.days_between(SIGNED, GO_LIVE) == 35
    assert metrics.days_between(SIGNED, None) is None


def test_by_day_gathers_the_counts_of_each_day_and_leaves_events_out():
    rows = [
        (date(2026, 4, 7), "provisioned_seats", 50),
        (date(2026, 4, 7), "weekly_active_users", 20),
        (date(2026, 4, 7), "event:first_report_created", 1),
        (date(2026, 4, 8), "daily_active_users", 9),
    ]
    assert metrics.by_day(rows) == [
        UsageDay(date(2026, 4, 7), seats=50, weekly_active=20),
        UsageDay(date(2026, 4, 8), daily_active=9),
    ]


def test_activation_reads_the_latest_weekly_count_against_the_seats_known_then():
    days = [
        UsageDay(date(2026, 4, 6), seats=50, weekly_active=20),
        UsageDay(date(2026, 4, 13), weekly_active=35),  # seats still 50
        UsageDay(date(2026, 4, 20), seats=70, weekly_active=42),
    ]
    assert metrics.activation(days, date(2026, 4, 15)) == Activation(date(2026, 4, 13), 35, 50)
    assert metrics.activation(days, date(2026, 4, 15)).percent == 70  # 35 / 50
    assert metrics.activation(days, date(2026, 4, 30)).percent == 60  # 42 / 70
    assert metrics.activation(days, date(2026, 4, 1)) is None
    assert metrics.activation([UsageDay(date(2026, 4, 6), weekly_active=3)], date(2026, 4, 6)) is None  # no seats


def test_the_go_live_criterion_needs_80_percent_active_in_the_last_7_days():
    days = [UsageDay(date(2026, 4, 1), seats=50, weekly_active=45), UsageDay(date(2026, 4, 6), weekly_active=39)]
    # 6 Apr: 39 / 50 = 78 % < 80 %
    on_6th = metrics.go_live_criterion(days, date(2026, 4, 6), SETTINGS)
    assert on_6th.needed_percent == 80 and on_6th.activation.percent == 78 and not on_6th.met
    # 7 Apr with 40 / 50 = 80 %: met
    more = [*days, UsageDay(date(2026, 4, 7), weekly_active=40)]
    assert metrics.go_live_criterion(more, date(2026, 4, 7), SETTINGS).met
    # on 14 Apr the last count (7 Apr) is 8 days old: nothing to judge by
    stale = metrics.go_live_criterion(more, date(2026, 4, 14), SETTINGS)
    assert stale.activation is None and not stale.met
    # 13 Apr is the 7th day from 7 Apr: still counts
    assert metrics.go_live_criterion(more, date(2026, 4, 13), SETTINGS).met
    assert metrics.go_live_criterion(days, date(2026, 4, 6), RuleSettings(go_live_active_percent=75)).met


def test_milestone_rates_count_due_done_and_on_time():
    today = date(2026, 4, 10)
    milestones = [
        (date(2026, 4, 1), date(2026, 3, 31)),  # due, done early
        (date(2026, 4, 2), date(2026, 4, 5)),  # due, done late
        (date(2026, 4, 3), None),  # due, open
        (date(2026, 4, 9), date(2026, 4, 9)),  # due, done on the day
        (date(2026, 4, 10), None),  # due today: not yet due
        (date(2026, 4, 20), date(2026, 4, 8)),  # not due, done early
    ]
    rates = metrics.milestone_rates(milestones, today)
    assert rates == Rates(due=4, done_of_due=3, done=4, on_time=3)
    assert rates.completion == 0.75 and rates.on_time_rate == 0.75
    assert metrics.milestone_rates([], today).completion == 1.0


def weekly(values: list[int], seats: int = 50) -> list[UsageDay]:
    """One weekly-active count per week from go-live, reported on the Friday."""
    return [UsageDay(GO_LIVE + timedelta(weeks=i, days=4), seats=seats, weekly_active=v) for i, v in enumerate(values)]


def test_the_weekly_series_keeps_the_last_count_of_each_week_since_go_live():
    days = [
        UsageDay(GO_LIVE - timedelta(days=1), seats=50, weekly_active=5),  # before go-live: left out
        UsageDay(GO_LIVE + timedelta(days=1), weekly_active=12),
        UsageDay(GO_LIVE + timedelta(days=6), weekly_active=18),  # last of week 0
        UsageDay(GO_LIVE + timedelta(days=7), weekly_active=22),  # week 1
    ]
    assert metrics.weekly_series(days, GO_LIVE, GO_LIVE + timedelta(days=30)) == [
        WeekPoint(0, GO_LIVE, 18, 50),
        WeekPoint(1, GO_LIVE + timedelta(days=7), 22, 50),
    ]


@pytest.mark.parametrize(
    ("curve", "kind", "change", "below_peak"),
    [
        # go-live week 6 to week 12: 7 weekly counts
        ([20, 24, 27, 30, 33, 35, 38], TrendKind.GROWING, 90, 0),  # +18 of 20 = +90 %
        ([30, 31, 32, 31, 30, 31, 32], TrendKind.FLAT, 7, 0),  # +2 of 30 = +6.7 %, below the 10 % growth
        ([30, 29, 30, 28, 27, 28, 27], TrendKind.FLAT, -10, 10),  # peak 30 -> 27: 10 % below, under 20 %
        ([40, 44, 42, 36, 30, 25, 22], TrendKind.DECLINING, -45, 50),  # the cliff: 44 -> 22 is 50 % below peak
        ([30, 33, 34, 35, 30, 28, 27], TrendKind.DECLINING, -10, 23),  # 35 -> 27 = 22.9 % below peak
    ],
)
def test_the_adoption_trend_is_classified(curve, kind, change, below_peak):
    series = metrics.weekly_series(weekly(curve), GO_LIVE, metrics.adoption_window_end(SIGNED, SETTINGS))
    assert len(series) == 7
    trend = metrics.trend(series, SETTINGS)
    assert (trend.kind, trend.change_percent, trend.below_peak_percent) == (kind, change, below_peak)


def test_the_trend_window_ends_with_week_12_and_thresholds_come_from_the_settings():
    end = metrics.adoption_window_end(SIGNED, SETTINGS)
    assert end == date(2026, 5, 24)  # 2 Mar + 12 weeks - 1 day: the Sunday closing week 12
    # a week-13 collapse is after the window
    series = metrics.weekly_series(weekly([30, 31, 32, 31, 30, 31, 32, 5]), GO_LIVE, end)
    assert metrics.trend(series, SETTINGS).kind is TrendKind.FLAT
    strict = RuleSettings(adoption_growth_percent=5)
    assert metrics.trend(series, strict).kind is TrendKind.GROWING  # +6.7 % >= 5 %
    assert metrics.trend(series[:1], SETTINGS).kind is TrendKind.TOO_EARLY


def test_the_adoption_settings_are_checked():
    overrides, problems = read_rules_table({"go_live_active_percent": 120, "adoption_decline_percent": 25})
    assert overrides == {"adoption_decline_percent": 25}
    assert problems == [("go_live_active_percent", "'go_live_active_percent' must be a percentage from 1 to 100")]
    _, problems = read_rules_table(
        {
            "adoption_weight_usage": 0,
            "adoption_weight_progress": 0,
            "adoption_weight_engagement": 0,
            "adoption_weight_sponsor": 0,
        }
    )
    assert problems == [("adoption_weight_usage", "the adoption weights must not all be zero")]


def test_the_early_health_score_blends_product_usage_progress_engagement_and_sponsor():
    # usage: 28 / 50 = 56 % of seats, target 70 % -> 0.8; progress: (0.75 + 0.5) / 2 = 0.625
    # engagement: 5 of 10 events -> 0.5; sponsor: 1 of 1 -> 1.0
    # score: (0.8 * 40 + 0.625 * 30 + 0.5 * 15 + 1.0 * 15) / 100 = 0.7325 -> 73
    health = adoption_health(
        Activation(date(2026, 4, 10), 28, 50), Rates(due=4, done_of_due=3, done=4, on_time=2), 5, 1, SETTINGS
    )
    assert health.score == 73
    assert {k: v["score"] for k, v in health.parts.items()} == {
        "usage": 80, "progress": 62, "engagement": 50, "sponsor": 100
    }  # fmt: skip
    assert health.parts["usage"]["active"] == 28 and health.parts["usage"]["seats"] == 50
    # nothing reported and no sponsor in Slack: only progress counts (nothing due yet = 1.0) -> 30
    empty = adoption_health(None, Rates(0, 0, 0, 0), 0, None, SETTINGS)
    assert empty.score == 30 and empty.parts["sponsor"]["in_slack"] is False


def test_a_json_report_and_a_csv_export_read_the_same():
    body = b'{"records": [{"account_id": " acme ", "date": "2026-04-07", "provisioned_seats": 5, "events": {"first_report_created": 1}}]}'
    readings, problems = read_json(body, date(2026, 4, 7))
    assert problems == []
    csv_readings, problems = read_csv(
        "account_id,date,provisioned_seats,event:first_report_created\nacme,2026-04-07,5,1\n", date(2026, 4, 7)
    )
    assert problems == []
    assert (
        [(r.account_id, r.day, r.metric, r.value) for r in readings]
        == [(r.account_id, r.day, r.metric, r.value) for r in csv_readings]
        == [
            ("acme", date(2026, 4, 7), "provisioned_seats", 5),
            ("acme", date(2026, 4, 7), "event:first_report_created", 1),
        ]
    )
    assert read_csv("", date(2026, 4, 7))[1] == ["line 1: the file is empty; it needs a header row"]
    assert read_csv("account_id,date,seats\n", date(2026, 4, 7))[1][0].startswith("line 1: unknown column 'seats'")
