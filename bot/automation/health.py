"""The early health score: one number 0-100 that blends usage, milestone progress and sponsor engagement.

Each part is scored 0-100 and kept with the figures behind it, so a person can see why the score moved:
- usage: customer-side activity (messages, clicks) in the last `health_usage_days`, against
  `health_usage_target` events (more than the target counts as the target);
- progress: the mean of the completion rate (milestones done among those whose due date has passed)
  and the on-time rate (milestones done by the end of their due date, among those done); a rate with
  nothing to measure yet counts as 1;
- sponsor: activity by the executive sponsor in the last `health_sponsor_days`, against
  `health_sponsor_target` events; 0 when no sponsor is in Slack (nothing can be seen);
- voice: the customer's ratings of the latest stage they rated (the latest in plan order, each
  person's current answer), their mean on the 1-5 scale mapped to 0-100 (1 is 0, 3 is 50, 5 is 100).
  Before anyone rated a stage the part is left out: it is not in `parts` and its weight is not in
  the sum, so the other parts' weights are renormalised and silence costs nothing.
The score is the weighted mean of the parts present (`health_weight_usage` 40, `_progress` 40,
`_sponsor` 20, `_voice` 20: with ratings the voice is 20 of 120, a sixth of the score), rounded.

Signals for every active onboarding come from four queries, whatever their number (store.signals);
store.snapshots stores the scores, one snapshot per onboarding per customer-local day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.signals import Signals
from store.signals import load_signals as _load_signals

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from bot.planning.settings import RuleSettings

__all__ = ["Health", "Signals", "load_signals", "score"]


@dataclass(frozen=True, slots=True)
class Health:
    score: int
    parts: dict[str, Any]


def score(signals: Signals, settings: RuleSettings, sponsor_in_slack: bool) -> Health:
    usage = min(1.0, signals.customer_events / settings.health_usage_target)
    completion = signals.done_of_due / signals.due if signals.due else 1.0
    on_time = signals.on_time / signals.done if signals.done else 1.0
    progress = (completion + on_time) / 2
    sponsor = min(1.0, signals.sponsor_events / settings.health_sponsor_target) if sponsor_in_slack else 0.0
    weights = (settings.health_weight_usage, settings.health_weight_progress, settings.health_weight_sponsor)
    points = usage * weights[0] + progress * weights[1] + sponsor * weights[2]
    weight = sum(weights)
    parts = {
        "usage": {
            "score": round(usage * 100), "weight": weights[0], "customer_events": signals.customer_events,
            "days": settings.health_usage_days, "target": settings.health_usage_target,
        },
        "progress": {
            "score": round(progress * 100), "weight": weights[1], "due": signals.due,
            "done_of_due": signals.done_of_due, "completion_rate": round(completion, 2),
            "done": signals.done, "on_time": signals.on_time, "on_time_rate": round(on_time, 2),
        },
        "sponsor": {
            "score": round(sponsor * 100), "weight": weights[2], "events": signals.sponsor_events,
            "days": settings.health_sponsor_days, "target": settings.health_sponsor_target,
            "in_slack": sponsor_in_slack,
        },
    }  # fmt: skip
    if signals.ratings:
        mean = signals.rating_total / signals.ratings
        voice = min(1.0, max(0.0, (mean - 1) / 4))
        points += voice * settings.health_weight_voice
        weight += settings.health_weight_voice
        parts["voice"] = {
            "score": round(voice * 100), "weight": settings.health_weight_voice, "stage": signals.rated_stage,
            "ratings": signals.ratings, "mean": round(mean, 1),
        }  # fmt: skip
    return Health(round(points / weight * 100), parts)


def load_signals(
    conn: Connection,
    now: datetime,
    timezones: Iterable[str],
    settings_by_playbook: Mapping[str, RuleSettings],
    default: RuleSettings,
) -> dict[int, Signals]:
    """Signals for every active onboarding that has milestones or customer activity, counted in the
    usage and sponsor windows of each playbook's settings (`default` for a playbook not given)."""
    return _load_signals(
        conn, now, timezones,
        {key: s.health_usage_days for key, s in settings_by_playbook.items()},
        {key: s.health_sponsor_days for key, s in settings_by_playbook.items()},
        default.health_usage_days, default.health_sponsor_days,
    )  # fmt: skip
