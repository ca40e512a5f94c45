"""What the go-live projection reads (the dated plan and what is done of it) and where it is kept.

Each function is one statement, whatever the number of onboardings (`plans`: one per
IDS_PER_STATEMENT onboardings, within SQLite's limit of bound parameters).
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Collection
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, case, null, or_, select, type_coerce
from sqlalchemy.engine import Connection

from bot.core.domain import MilestoneStatus, OnboardingStatus
from store import bulk
from store.models import Milestone, Onboarding, table_of
from store.types import json_loads

_O = table_of(Onboarding)
_M = table_of(Milestone)
DONE = MilestoneStatus.DONE.value
IDS_PER_STATEMENT = 10_000

ForecastOnboarding = namedtuple(
    "ForecastOnboarding", "id playbook_key timezone target_go_live_on projected_go_live_on schedule forecast_on"
)


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


def plans(conn: Connection, onboarding_ids: Collection[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Each onboarding's milestones as (key, start_on, due_on, depends_on keys, completed_at when done).

    The dependency lists are read as the database gives them and parsed once per distinct list:
    plans made from one playbook repeat the same few, and decoding each row's was most of the time.
    """
    if not onboarding_ids:
        return {}
    done_at = type_coerce(case((_M.c.status == DONE, _M.c.completed_at), else_=null()), _M.c.completed_at.type)
    query = select(
        _M.c.onboarding_id, _M.c.key, _M.c.start_on, _M.c.due_on, type_coerce(_M.c.depends_on, Text), done_at
    )
    ids = list(onboarding_ids)
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = ids[start : start + IDS_PER_STATEMENT]
        for onboarding_id, key, start_on, due_on, deps, done in conn.execute(
            query.where(_M.c.onboarding_id.in_(chunk))
        ).all():
            keys = _keys(deps) if isinstance(deps, str) else tuple(deps or ())
            found[onboarding_id].append((key, start_on, due_on, keys, done))
    return found


@lru_cache(maxsize=4096)
def _keys(text: str) -> tuple[str, ...]:
    return tuple(json_loads(text) or ())


def save(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep each onboarding's projection: dicts of id, projected_go_live_on, schedule, forecast_on (and any
    other onboarding columns, the same in every row)."""
    bulk.update_by_id(conn, _O, rows)
