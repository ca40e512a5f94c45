"""Health snapshots: a score stored once per onboarding and customer-local day, and the stored ones read back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from store.bulk import upsert
from store.candidates import RUNNING
from store.models import HealthSnapshot, Onboarding, table_of

_H = table_of(HealthSnapshot)
_O = table_of(Onboarding)


def save(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert (onboarding_id, day, score, parts) rows in one statement; a later score that day replaces the earlier."""
    upsert(conn, _H, rows, conflict=["onboarding_id", "day"], replace=["score", "parts"])


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
