"""One onboarding's value numbers as of a moment, read from the store and computed by bot.value.metrics.

Time to first value runs from the contract signature to the customer-local day the first value
milestone was done; time to full value to the day the sponsor signed off go-live (full
deployment). The adoption series starts on that day, and the trend is read up to week
`adoption_last_week` from the signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus
from bot.planning.playbook import Playbook
from bot.planning.settings import DEFAULTS, RuleSettings
from bot.value import metrics
from bot.value.ingest import rates_on
from store.db import session_scope
from store.models import AdoptionSnapshot
from store.onboardings import OnboardingRecord, load
from store.usage import adoption_of, usage_of


@dataclass(frozen=True)
class ValueSummary:
    record: OnboardingRecord
    settings: RuleSettings
    today: date
    first_value_on: date | None
    go_live_on: date | None
    days: list[metrics.UsageDay]
    rates: metrics.Rates
    health: tuple[date, int, dict[str, Any]] | None  # the latest stored (day, score, parts)

    @property
    def has_usage(self) -> bool:
        return bool(self.days)

    @property
    def first_value_days(self) -> int | None:
        return metrics.days_between(self.record.onboarding.contract_signed_on, self.first_value_on)

    @property
    def full_value_days(self) -> int | None:
        return metrics.days_between(self.record.onboarding.contract_signed_on, self.go_live_on)

    @property
    def activation(self) -> metrics.Activation | None:
        return metrics.activation(self.days, self.today)

    @property
    def criterion(self) -> metrics.GoLiveCriterion:
        return metrics.go_live_criterion(self.days, self.today, self.settings)

    @property
    def series(self) -> list[metrics.WeekPoint]:
        if self.go_live_on is None:
            return []
        return metrics.weekly_series(self.days, self.go_live_on, self.today)

    @property
    def trend(self) -> metrics.Trend:
        if self.go_live_on is None:
            return metrics.Trend(metrics.TrendKind.TOO_EARLY)
        end = min(self.today, metrics.adoption_window_end(self.record.onboarding.contract_signed_on, self.settings))
        return metrics.trend(metrics.weekly_series(self.days, self.go_live_on, end), self.settings)


def summary_of(
    record: OnboardingRecord, session: Any, now: datetime, playbooks: Mapping[str, Playbook]
) -> ValueSummary:
    snapshots = adoption_of(session, record.id)
    return summary_from(record, now, playbooks, usage_of(session, record.id), snapshots[-1] if snapshots else None)


def summary_from(
    record: OnboardingRecord,
    now: datetime,
    playbooks: Mapping[str, Playbook],
    usage: list[tuple[date, str, int]],
    latest: AdoptionSnapshot | None,
) -> ValueSummary:
    """The summary from rows already read: every stored (day, metric, value) of the onboarding, oldest
    first, and its latest adoption snapshot (many onboardings are read at once by bot.value.portfolio)."""
    ob = record.onboarding
    playbook = playbooks.get(ob.playbook_key)
    settings = playbook.rules if playbook else DEFAULTS
    today = today_in(ob.timezone, now)
    first = next(
        (m for m in record.milestones if m.first_value and m.status == MilestoneStatus.DONE and m.completed_at), None
    )
    return ValueSummary(
        record=record,
        settings=settings,
        today=today,
        first_value_on=today_in(ob.timezone, first.completed_at) if first and first.completed_at else None,
        go_live_on=today_in(ob.timezone, ob.sponsor_signed_at) if ob.sponsor_signed_at else None,
        days=metrics.by_day([row for row in usage if row[0] <= today]),
        rates=rates_on(record, today),
        health=(latest.day, latest.score, latest.parts) if latest else None,
    )


def summarise(
    engine: Engine, onboarding_id: int, now: datetime, playbooks: Mapping[str, Playbook]
) -> ValueSummary | None:
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        return None if record is None else summary_of(record, session, now, playbooks)
