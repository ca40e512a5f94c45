"""Escalations as the rules read and write them: the open ones of every active onboarding, in one
query, and their changes in bulk (one statement per kind of change) in the caller's transaction."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from store.bulk import update_by_id, upsert
from store.candidates import RUNNING
from store.models import Escalation, Onboarding, table_of

_E = table_of(Escalation)
_O = table_of(Onboarding)

EscalationRow = namedtuple(
    "EscalationRow", "id onboarding_id rule subject opened_on level level_raised_at acknowledged_at"
)


def open_escalations(conn: Connection) -> list[EscalationRow]:
    """Every unresolved escalation of an active onboarding."""
    query = (
        select(*(_E.c[name] for name in EscalationRow._fields))
        .select_from(_E.join(_O, _O.c.id == _E.c.onboarding_id))
        .where(_O.c.status.in_(RUNNING), _E.c.resolved_at.is_(None))
    )
    return list(map(EscalationRow._make, conn.execute(query).fetchall()))


def resolve(conn: Connection, ids: Sequence[int], at: datetime) -> None:
    """Mark the escalations `ids` resolved at `at` (one statement; none for no ids)."""
    if ids:
        conn.execute(update(_E).where(_E.c.id.in_(ids)).values(resolved_at=at))


def open_new(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert escalations (onboarding_id, rule, subject, opened_on, level, raised_at, level_raised_at);
    one already opened for the same reason that day is left alone. Returns how many were new."""
    return upsert(conn, _E, rows, conflict=["onboarding_id", "rule", "subject", "opened_on"], replace=None)


def raise_levels(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Set each escalation's (id, level, level_raised_at) as given, in one statement."""
    update_by_id(conn, _E, rows)
