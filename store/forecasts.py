"""What the go-live projection reads (the dated plan and what is done of it) and where it is kept.

Each function is one statement, whatever the number of onboardings.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from bot.core.domain import OnboardingStatus
from store import bulk
from store.models import Milestone, Onboarding, table_of

_O = table_of(Onboarding)
_M = table_of(Milestone)

ForecastOnboarding = namedtuple(
    "ForecastOnboarding", "id playbook_key timezone target_go_live_on projected_go_live_on schedule forecast_on"
)
PlanRow = namedtuple("PlanRow", "onboarding_id key start_on due_on depends_on status completed_at")


def running(conn: Connection, *, ids: Collection[int] | None = None, not_since: date | None = None) -> list[Any]:
    """Active onboardings (those in `ids`; or those not projected since before `not_since`)."""
    query = select(*(_O.c[name] for name in ForecastOnboarding._fields)).where(
        _O.c.status == OnboardingStatus.ACTIVE.value
    )
    if ids is not None:
        query = query.where(_O.c.id.in_(list(ids)))
    if not_since is not None:
        query = query.where(or_(_O.c.forecast_on.is_(None), _O.c.forecast_on < not_since))
    return list(map(ForecastOnboarding._make, conn.execute(query).fetchall()))


def plans(conn: Connection, onboarding_ids: Collection[int]) -> dict[int, list[Any]]:
    """Each onboarding's milestones, as the projection needs them."""
    if not onboarding_ids:
        return {}
    query = select(*(_M.c[name] for name in PlanRow._fields)).where(_M.c.onboarding_id.in_(list(onboarding_ids)))
    found: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(query).fetchall():
        found[row.onboarding_id].append(PlanRow._make(row))
    return found


def save(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep each onboarding's projection: dicts of id, projected_go_live_on, schedule, forecast_on."""
    bulk.update_by_id(conn, _O, rows)
