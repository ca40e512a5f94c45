"""The value report's facts: the numbers against the targets and the success criteria captured at handoff.

Plain values only (numbers, dates, the customer's own words as typed), ready for a template; what
the report says is in messages/templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.value.metrics import TrendKind
from bot.value.summary import ValueSummary


@dataclass(frozen=True)
class ReportFacts:
    onboarding_id: int
    customer: str
    values: dict[str, Any]


def report_facts(summary: ValueSummary) -> ReportFacts:
    ob = summary.record.onboarding
    s = summary.settings
    activation = summary.activation
    trend = summary.trend
    weeks_live = (summary.today - summary.go_live_on).days // 7 if summary.go_live_on else None
    health = summary.health
    values: dict[str, Any] = {
        "customer": ob.customer_name,
        "today": summary.today,
        "signed_on": ob.contract_signed_on,
        "go_live_on": summary.go_live_on,
        "weeks_live": weeks_live,
        "success_criteria": ob.success_criteria,
        "first_value_definition": ob.first_value_definition,
        "full_value_definition": ob.full_value_definition,
        "first_value_days": summary.first_value_days,
        "first_value_target_days": s.first_value_target_days,
        "first_value_on_target": summary.first_value_days is not None
        and summary.first_value_days <= s.first_value_target_days,
        "full_value_days": summary.full_value_days,
        "active": activation.active if activation else None,
        "seats": activation.seats if activation else None,
        "activation_percent": activation.percent if activation else None,
        "activation_target_percent": s.activation_target_percent,
        "activation_target_days": s.activation_target_days,
        "activation_on_target": activation is not None and activation.percent >= s.activation_target_percent,
        "completion_percent": round(summary.rates.completion * 100),
        "on_time_percent": round(summary.rates.on_time_rate * 100),
        "milestones_due": summary.rates.due,
        "milestones_done": summary.rates.done,
        "health_score": health[1] if health else None,
        "trend": trend.kind.value,
        "trend_known": trend.kind is not TrendKind.TOO_EARLY,
        "trend_change_percent": trend.change_percent,
        "trend_below_peak_percent": trend.below_peak_percent,
        "weeks": [{"week": p.week, "start": p.start, "active": p.active, "seats": p.seats} for p in summary.series],
    }
    return ReportFacts(summary.record.id, ob.customer_name, values)
