"""Health snapshots: a score stored once per onboarding and customer-local day, and the stored ones read back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from store.bulk import driver_rows, insert_fresh, upsert
from store.candidates import RUNNING
from store.models import HealthSnapshot, Onboarding, table_of

_H = table_of(HealthSnapshot)
_O = table_of(Onboarding)


_KEY, _SCORE = ["onboarding_id", "day"], ["score", "parts"]


def save(conn: Connection, rows: list[dict[str, Any]], *, fresh: list[dict[str, Any]] | None = None) -> None:
    """Store (onboarding_id, day, score, parts) rows; a later score that day replaces the earlier.

    `fresh` rows are of days found to have no snapshot yet (the first sweep of a day finds every
    one so): they are copied straight in, which costs about half the upsert of `rows`.
    """
    upsert(conn, _H, rows, conflict=_KEY, replace=_SCORE)
    if fresh:
        names = [*_KEY, *_SCORE]
        values = driver_rows(conn, _H, {name: [row[name] for row in fresh] for name in names})
        insert_fresh(conn, _H, names, values, conflict=_KEY, replace=_SCORE)


def stored_on(conn: Connection, days: Mapping[int, Iterable[date]]) -> dict[tuple[int, date], tuple[int, dict]]:
    """The stored (score, parts) of active onboardings on the days given for each, keyed (onboarding id, day)."""
    wanted = {oid: set(ds) for oid, ds in days.items()}
    if not wanted:
        return {}
    query = (
        select(_H.c.onboarding_id, _H.c.day, _H.c.score, _H.c.parts)
        .select_from(_H.join(_O, _O.c.id == _H.c.onboarding_id))
        .where(_O.c.status.in_(RUNNING), _H.c.day.in_(sorted(set().union(*wanted.values()))))
    )
    return {
        (oid, day): (value, parts)
        for oid, day, value, parts in conn.execute(query).fetchall()
        if day in wanted.get(oid, ())
    }
