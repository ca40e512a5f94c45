"""Every number the rules use, with the field's defaults, and how a playbook's `[rules]` table overrides them.

A playbook may carry an optional `[rules]` table whose keys are the field names below, e.g.

    [rules]
    due_soon_business_days = 3
    blocked_days = 5
    business_hours_start = "08:30"      # "HH:MM", or a TOML local time such as 08:30:00
    business_days = ["mon", "tue", "wed", "thu", "fri"]
    weekly_overview_day = "mon"

Keys left out keep their defaults. Nothing here imports the playbook package, so the playbook model
can hold a `RuleSettings` without an import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from functools import cached_property
from typing import Any

from bot.core.calendar import BusinessHours

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class RuleSettings:
    # milestone nudges
    due_soon_business_days: int = 2
    # blocked milestones and escalations
    blocked_days: int = 7
    unblock_call_hours: int = 48
    escalation_ack_business_days: int = 1
    # the whole onboarding
    behind_schedule_days: int = 14
    silent_days: int = 7
    silent_sponsor_days: int = 14
    kickoff_recap_hours: int = 24
    kickoff_recap_milestone: str = "kickoff_recap"
    # the go-live sign-off: its reminders go to the sponsor privately (a playbook's is its go-live milestone)
    signoff_milestone: str = "go_live_signed"
    # health score: parts, weights and what counts as a drop
    health_drop_points: int = 15
    health_compare_days: int = 7
    health_usage_days: int = 7
    health_usage_target: int = 10
    health_sponsor_days: int = 14
    health_sponsor_target: int = 1
    health_weight_usage: int = 40
    health_weight_progress: int = 40
    health_weight_sponsor: int = 20
    health_weight_voice: int = 20  # the customer's stage ratings, once there are any
    # after go-live: value and adoption (percentages are whole numbers, 0-100)
    first_value_target_days: int = 14
    activation_target_percent: int = 70
    activation_target_days: int = 60
    go_live_active_percent: int = 80
    go_live_active_days: int = 7
    adoption_last_week: int = 12
    adoption_growth_percent: int = 10
    adoption_decline_percent: int = 20
    adoption_weight_usage: int = 40
    adoption_weight_progress: int = 30
    adoption_weight_engagement: int = 15
    adoption_weight_sponsor: int = 15
    # after go-live: the counter-cadence, in weeks from the start with the actual go-live as week
    # `go_live_week` (week 7 is a week after go-live), and the adoption plays
    go_live_week: int = 6
    post_go_live_check_in_days: int = 30
    value_report_week: int = 7
    success_story_week: int = 9
    expansion_conversation_week: int = 11
    business_review_week: int = 13
    expansion_readiness_week: int = 26
    executive_summary_months: int = 12
    value_play_from_week: int = 8
    value_play_trend_weeks: int = 8
    # when anything may be said, in the customer's timezone
    business_hours_start: time = time(9)
    business_hours_end: time = time(17)
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    weekly_overview_day: int = 0

    def with_overrides(self, overrides: Mapping[str, Any]) -> RuleSettings:
        return replace(self, **dict(overrides))

    @cached_property
    def business_hours(self) -> BusinessHours:
        """The business calendar these settings describe: their hours on their business days."""
        return BusinessHours(self.business_hours_start, self.business_hours_end, frozenset(self.business_days))


DEFAULTS = RuleSettings()

# Numbers that may be zero: a due-soon nudge on the due day only, a weight that leaves a part out.
# Everything else must be at least 1.
_MAY_BE_ZERO = {
    "due_soon_business_days", "health_weight_usage", "health_weight_progress", "health_weight_sponsor",
    "health_weight_voice",
    "adoption_weight_usage", "adoption_weight_progress", "adoption_weight_engagement", "adoption_weight_sponsor",
}  # fmt: skip
# The post-go-live weeks, each counted from the start like `go_live_week`, so each must come after it.
_CADENCE_WEEKS = (
    "value_report_week", "success_story_week", "expansion_conversation_week", "business_review_week",
    "expansion_readiness_week", "value_play_from_week",
)  # fmt: skip
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

Problem = tuple[str | None, str]  # (the [rules] key it is about, or None for the table; message)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_time(value: Any) -> time | None:
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and (m := _TIME.match(value.strip())):
        return time(int(m.group(1)), int(m.group(2)))
    return None


def _read_day(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower()[:3] in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(value.strip().lower()[:3])
    return None


def _read_one(name: str, value: Any) -> tuple[Any, str | None]:
    """The typed value, or None and what is wrong with it."""
    default = getattr(DEFAULTS, name)
    if name in ("business_hours_start", "business_hours_end"):
        parsed = _read_time(value)
        return (parsed, None) if parsed is not None else (None, 'must be a time of day such as "09:00"')
    if name == "business_days":
        days = [_read_day(v) for v in value] if isinstance(value, list) else [None]
        if not days or None in days:
            return None, f"must be a non-empty list of weekdays ({', '.join(WEEKDAY_NAMES)})"
        if len(set(days)) != len(days):
            return None, "lists a weekday twice"
        return tuple(sorted(days)), None
    if name == "weekly_overview_day":
        day = _read_day(value)
        return (day, None) if day is not None else (None, f"must be a weekday ({', '.join(WEEKDAY_NAMES)})")
    if isinstance(default, str):
        ok = isinstance(value, str) and _KEY.match(value)
        return (value, None) if ok else (None, "must be a milestone key (lowercase letters, digits, underscores)")
    if not _whole(value):
        return None, "must be a whole number"
    floor = 0 if name in _MAY_BE_ZERO else 1
    if value < floor:
        return None, f"must be at least {floor}"
    if name.endswith("_percent") and value > 100:
        return None, "must be a percentage from 1 to 100"
    return value, None


def read_rules_table(raw: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The valid overrides in a `[rules]` table, and a problem for every key that is unknown or wrong."""
    if not isinstance(raw, Mapping):
        return {}, [(None, "'rules' must be a table")]
    known = {f.name for f in fields(RuleSettings)}
    overrides: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in raw.items():
        if name not in known:
            problems.append((name, f"unknown setting '{name}' (expected one of: {', '.join(sorted(known))})"))
            continue
        parsed, error = _read_one(name, value)
        if error:
            problems.append((name, f"'{name}' {error}"))
        else:
            overrides[name] = parsed
    merged = DEFAULTS.with_overrides(overrides)
    if merged.business_hours_start >= merged.business_hours_end:
        at = "business_hours_end" if "business_hours_end" in overrides else "business_hours_start"
        problems.append((at, "'business_hours_start' must be before 'business_hours_end'"))
    if merged.health_weight_usage + merged.health_weight_progress + merged.health_weight_sponsor == 0:
        problems.append(("health_weight_usage", "the health weights must not all be zero"))
    adoption_weights = (
        merged.adoption_weight_usage, merged.adoption_weight_progress,
        merged.adoption_weight_engagement, merged.adoption_weight_sponsor,
    )  # fmt: skip
    if sum(adoption_weights) == 0:
        problems.append(("adoption_weight_usage", "the adoption weights must not all be zero"))
    if merged.weekly_overview_day not in merged.business_days:
        # the overview is decided on that day and waits for business hours: it would never go out
        at = "weekly_overview_day" if "weekly_overview_day" in overrides else "business_days"
        problems.append((at, "'weekly_overview_day' must be one of the 'business_days'"))
    for name in _CADENCE_WEEKS:
        if getattr(merged, name) <= merged.go_live_week:
            at = name if name in overrides else "go_live_week"
            problems.append((at, f"'{name}' must come after 'go_live_week' ({merged.go_live_week})"))
            break
    if merged.silent_sponsor_days < merged.silent_days:
        at = "silent_sponsor_days" if "silent_sponsor_days" in overrides else "silent_days"
        problems.append((at, "'silent_sponsor_days' must not be less than 'silent_days'"))
    return overrides, problems
