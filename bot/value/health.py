"""The early health score once the product reports usage: real usage is its usage part.

Four parts, each 0-100 and kept with the figures behind it:
- usage: seat activation (weekly active / provisioned) against `activation_target_percent`
  (reaching the target counts as full marks); 0 when no activation can be read yet;
- progress: the mean of the milestone completion and on-time rates (bot.value.metrics.Rates);
- engagement: customer-side Slack activity in the last `health_usage_days`, against
  `health_usage_target` events (Slack chatter is engagement, not usage);
- sponsor: the executive sponsor's Slack activity in the last `health_sponsor_days`, against
  `health_sponsor_target`; 0 when the sponsor is not in Slack.
The score is the mean of the parts weighted by `adoption_weight_*`, rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.planning.settings import RuleSettings
from bot.value.metrics import Activation, Rates


@dataclass(frozen=True)
class AdoptionHealth:
    score: int
    parts: dict[str, Any]


def adoption_health(
    activation: Activation | None,
    rates: Rates,
    customer_events: int,
    sponsor_events: int | None,
    settings: RuleSettings,
) -> AdoptionHealth:
    """`sponsor_events` is None when the sponsor is not in Slack."""
    target = settings.activation_target_percent / 100
    usage = min(1.0, activation.share / target) if activation is not None else 0.0
    progress = (rates.completion + rates.on_time_rate) / 2
    engagement = min(1.0, customer_events / settings.health_usage_target)
    sponsor = min(1.0, sponsor_events / settings.health_sponsor_target) if sponsor_events is not None else 0.0
    weights = (
        settings.adoption_weight_usage, settings.adoption_weight_progress,
        settings.adoption_weight_engagement, settings.adoption_weight_sponsor,
    )  # fmt: skip
    blended = (usage * weights[0] + progress * weights[1] + engagement * weights[2] + sponsor * weights[3]) / sum(
        weights
    )
    parts = {
        "usage": {
            "score": round(usage * 100), "weight": weights[0],
            "active": activation.active if activation else None, "seats": activation.seats if activation else None,
            "target_percent": settings.activation_target_percent,
        },
        "progress": {
            "score": round(progress * 100), "weight": weights[1], "due": rates.due, "done_of_due": rates.done_of_due,
            "done": rates.done, "on_time": rates.on_time,
        },
        "engagement": {
            "score": round(engagement * 100), "weight": weights[2], "customer_events": customer_events,
            "days": settings.health_usage_days, "target": settings.health_usage_target,
        },
        "sponsor": {
            "score": round(sponsor * 100), "weight": weights[3], "events": sponsor_events,
            "days": settings.health_sponsor_days, "in_slack": sponsor_events is not None,
        },
    }  # fmt: skip
    return AdoptionHealth(round(blended * 100), parts)
