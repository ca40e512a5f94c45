from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time

from bot.core.calendar import (
    OFFICE_HOURS,
    BusinessHours,
    add_business_days,
    business_day_on_or_after,
    business_day_on_or_before,
    business_days_between,
    is_business_day,
    is_business_hours,
    next_business_moment,
    today_in,
    zone_of,
)

THU = date(2025, 3, 6)
FRI = date(2025, 3, 7)
SAT = date(2025, 3, 8)
SUN = date(2025, 3, 9)
MON = date(2025, 3, 10)
TUE = date(2025, 3, 11)


def test_day_zero_is_the_start_or_the_next_business_day():
    assert add_business_days(FRI, 0) == FRI
    assert add_business_days(SAT, 0) == MON
    assert add_business_days(SUN, 0) == MON


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (THU, 1, FRI),
        (FRI, 1, MON),
        (FRI, 2, TUE),
        (FRI, 5, date(2025, 3, 14)),
        (FRI, 10, date(2025, 3, 21)),
        (SAT, 1, TUE),
        (MON, -1, FRI),
        (SAT, -1, FRI),
        (TUE, -2, FRI),
    ],
)
def test_add_business_days_skips_weekends(start, n, expected):
    assert add_business_days(start, n) == expected


def test_holidays_are_skipped():
    assert add_business_days(FRI, 1, holidays={MON}) == TUE
    assert add_business_days(MON, 0, holidays={MON}) == TUE
    assert business_days_between(FRI, TUE, holidays={MON}) == 1
    assert not is_business_day(MON, {MON})


def test_rolling_to_a_business_day():
    assert business_day_on_or_after(SAT) == MON
    assert business_day_on_or_before(SUN) == FRI
    assert business_day_on_or_before(TUE) == TUE


@pytest.mark.parametrize("start", [THU, FRI, SAT, SUN, MON])
@pytest.mark.parametrize("n", [0, 1, 4, 5, 6, 23, 64])
def test_business_days_between_inverts_add(start, n):
    holidays = {date(2025, 3, 17), date(2025, 4, 18)}
    assert business_days_between(start, add_business_days(start, n, holidays), holidays) == n
    assert business_days_between(add_business_days(start, n, holidays), start, holidays) == -n


def test_business_days_between_counts_weekend_dates_as_the_next_monday():
    assert business_days_between(FRI, SAT) == 1
    assert business_days_between(FRI, MON) == 1
    assert business_days_between(SAT, SUN) == 0
    assert business_days_between(THU, date(2025, 3, 20)) == 10


def test_today_in_uses_the_timezone():
    now = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)
    assert today_in("Europe/Paris", now) == SAT
    assert today_in("America/New_York", now) == FRI
    assert today_in("UTC", now.replace(tzinfo=None)) == FRI


def test_today_in_under_freezegun():
    with freeze_time("2025-03-09 20:00:00"):
        assert today_in("Asia/Tokyo", datetime.now(UTC)) == MON


@pytest.mark.parametrize(
    ("utc", "tz", "inside"),
    [
        (datetime(2025, 3, 7, 8, 0, tzinfo=UTC), "Europe/Paris", True),  # 09:00 Paris, Friday
        (datetime(2025, 3, 7, 7, 59, tzinfo=UTC), "Europe/Paris", False),
        (datetime(2025, 3, 7, 16, 0, tzinfo=UTC), "Europe/Paris", False),  # 17:00 is closing
        (datetime(2025, 3, 8, 12, 0, tzinfo=UTC), "Europe/Paris", False),  # Saturday
        (datetime(2025, 3, 7, 20, 0, tzinfo=UTC), "America/Los_Angeles", True),  # 12:00 Friday
        (datetime(2025, 3, 9, 23, 30, tzinfo=UTC), "Australia/Sydney", True),  # Monday 10:30
    ],
)
def test_is_business_hours(utc, tz, inside):
    assert is_business_hours(utc, tz) is inside


def test_is_business_hours_custom_window_and_days():
    sat_noon = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
    assert is_business_hours(sat_noon, "UTC", time(10), time(14), weekdays={5})
    assert not is_business_hours(sat_noon, "UTC", time(13), time(14), weekdays={5})


def test_next_business_moment_is_now_when_inside():
    now = datetime(2025, 3, 7, 10, 15, tzinfo=UTC)
    assert next_business_moment(now, "UTC") is now


@pytest.mark.parametrize(
    ("utc", "tz", "expected"),
    [
        # Friday evening in Paris -> Monday 09:00 Paris (08:00 UTC, winter time)
        (datetime(2025, 3, 7, 18, 0, tzinfo=UTC), "Europe/Paris", datetime(2025, 3, 10, 8, 0, tzinfo=UTC)),
        # early Tuesday morning in New York -> 09:00 the same day (13:00 UTC, summer time)
        (datetime(2025, 3, 11, 10, 0, tzinfo=UTC), "America/New_York", datetime(2025, 3, 11, 13, 0, tzinfo=UTC)),
        # across the US spring-forward weekend: Saturday -> Monday 09:00 EDT
        (datetime(2025, 3, 8, 15, 0, tzinfo=UTC), "America/New_York", datetime(2025, 3, 10, 13, 0, tzinfo=UTC)),
    ],
)
def test_next_business_moment(utc, tz, expected):
    assert next_business_moment(utc, tz) == expected


def test_next_business_moment_skips_holidays_and_keeps_naive_input_naive():
    naive = datetime(2025, 3, 7, 18, 0)
    result = next_business_moment(naive, "UTC", holidays={MON})
    assert result == datetime(2025, 3, 11, 9, 0) and result.tzinfo is None


def test_next_business_moment_result_is_inside_business_hours():
    start = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    for hours in range(0, 24 * 9, 5):
        now = start + timedelta(hours=hours)
        moment = next_business_moment(now, "Asia/Kolkata")
        assert moment >= now and is_business_hours(moment, "Asia/Kolkata")


def test_next_business_moment_rejects_empty_hours():
    with pytest.raises(ValueError):
        next_business_moment(datetime(2025, 3, 7, tzinfo=UTC), "UTC", weekdays=())


# -- one business calendar: its own hours, weekdays and holidays ------------------------------------
SHORT_WEEK = BusinessHours(time(8), time(12), frozenset({0, 1, 2, 3}))  # Monday to Thursday, 08:00-12:00


def test_the_module_functions_use_the_office_calendar():
    assert BusinessHours(time(9), time(17), frozenset(range(5)), frozenset()) == OFFICE_HOURS
    for start in (THU, FRI, SAT, SUN, MON):
        for n in (-3, 0, 1, 6):
            assert add_business_days(start, n) == OFFICE_HOURS.add_days(start, n)
            assert business_days_between(start, MON + timedelta(days=n)) == OFFICE_HOURS.days_between(
                start, MON + timedelta(days=n)
            )


def test_a_calendar_counts_only_its_own_weekdays():
    assert not SHORT_WEEK.is_business_day(FRI)
    assert SHORT_WEEK.on_or_after(FRI) == MON and SHORT_WEEK.on_or_before(SUN) == THU
    assert SHORT_WEEK.add_days(THU, 1) == MON
    assert SHORT_WEEK.add_days(SAT, -1) == THU
    assert SHORT_WEEK.days_between(THU, MON + timedelta(days=7)) == 5


@pytest.mark.parametrize("n", range(-9, 10))
def test_a_calendars_days_between_inverts_its_add(n):
    calendar = BusinessHours(weekdays=frozenset({0, 2, 5}), holidays=frozenset({MON + timedelta(days=2)}))
    for start in (THU, FRI, SAT, SUN, MON, TUE):
        assert calendar.days_between(start, calendar.add_days(start, n)) == n


def test_a_calendars_hours():
    fri_10 = datetime(2025, 3, 7, 10, 0, tzinfo=UTC)
    mon_13 = datetime(2025, 3, 10, 13, 0, tzinfo=UTC)
    assert not SHORT_WEEK.is_open(fri_10, "UTC") and not SHORT_WEEK.is_open(mon_13, "UTC")
    assert SHORT_WEEK.is_open(datetime(2025, 3, 10, 8, 0, tzinfo=UTC), "UTC")
    assert SHORT_WEEK.next_opening(fri_10, "UTC") == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert SHORT_WEEK.next_opening(mon_13, "UTC") == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)
    with_holiday = BusinessHours(SHORT_WEEK.start, SHORT_WEEK.end, SHORT_WEEK.weekdays, frozenset({MON}))
    assert with_holiday.next_opening(fri_10, "UTC") == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)


def test_an_unknown_timezone_name_reads_as_utc():
    assert zone_of("Mars/Olympus_Mons").key == "UTC"
    assert zone_of("Europe/Berlin").key == "Europe/Berlin"
