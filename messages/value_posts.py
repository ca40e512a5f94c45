"""Blocks of the value posts (the go-live card's adoption line, the value report); every sentence from messages.templates."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.value.metrics import GoLiveCriterion
from messages import blocks as b
from messages.after_go_live_posts import SAMPLES as AFTER_GO_LIVE_SAMPLES
from messages.portfolio_digest import SAMPLE as PORTFOLIO_SAMPLE
from messages.templates import Templates


def go_live_criterion(templates: Templates, criterion: GoLiveCriterion, days: int) -> list[dict[str, Any]]:
    a = criterion.activation
    text = templates.render(
        "go_live_criterion",
        activation=None if a is None else {"active": a.active, "seats": a.seats, "percent": a.percent},
        needed_percent=criterion.needed_percent,
        met=criterion.met,
        days=days,
    )
    return [b.context(text)]


_FACTS: dict[str, Any] = {
    "customer": "Acme Corp", "today": date(2026, 6, 15), "signed_on": date(2026, 3, 2),
    "go_live_on": date(2026, 4, 6), "weeks_live": 10, "success_criteria": "Every region reports weekly from the tool",
    "first_value_definition": "first report sent", "full_value_definition": "all regions live",
    "first_value_days": 11, "first_value_target_days": 14, "first_value_on_target": True, "full_value_days": 35,
    "active": 41, "seats": 50, "activation_percent": 82, "activation_target_percent": 70,
    "activation_target_days": 60, "activation_on_target": True, "completion_percent": 92, "on_time_percent": 85,
    "milestones_due": 12, "milestones_done": 11, "health_score": 78, "trend": "growing", "trend_known": True,
    "trend_change_percent": 24, "trend_below_peak_percent": 0,
    "weeks": [{"week": 0, "start": date(2026, 4, 6), "active": 33, "seats": 50}],
}  # fmt: skip

# Values each template is rendered with when a team's templates are checked (`onboard-bot templates validate`).
SAMPLES: dict[str, dict[str, Any]] = {
    "go_live_criterion": {
        "activation": {"active": 41, "seats": 50, "percent": 82},
        "needed_percent": 80,
        "met": True,
        "days": 7,
    },
    "value_report_intro": _FACTS,
    "value_report_numbers": _FACTS,
    "value_report_trend": _FACTS,
    "value_report_preview_note": _FACTS,
    "chart_fallback": _FACTS,
    **AFTER_GO_LIVE_SAMPLES,
    "portfolio_digest": PORTFOLIO_SAMPLE,
}
