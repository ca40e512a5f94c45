"""The outbox keeps every row it sent and the audit log every change, so the sweep's lookups in them
must not scan them: what a person already had, and last week's stage moves.

Each lookup's own SQL is captured as it runs and explained on the same database: SQLite's query
plan must name the index, and PostgreSQL (told to avoid sequential scans, since a test table is
small enough to scan) must reach the table through it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import outbox, week_changes

INDEX = "ix_notifications_recipient_rule"
SINCE = datetime(2026, 5, 4, tzinfo=UTC)


def _plan(engine: Engine, run: Callable[[Session], object], table: str = "notifications") -> str:
    """The plan of the one query of `table` that `run` issues."""
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if f"FROM {table}" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with Session(engine) as session:
            run(session)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(seen) == 1, seen
    statement, parameters = seen[0]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
        raw.rollback()
    finally:
        raw.close()
    return plan


@pytest.mark.parametrize(
    "lookup",
    [
        pytest.param(
            lambda s: week_changes.digests_since(s.connection(), "portfolio_digest", ["U0MGR", "U0MGR2"], SINCE),
            id="last week's digests",
        ),
        pytest.param(
            lambda s: outbox.had_digest(s, {"U0MGR": SINCE, "U0CSM": SINCE - timedelta(days=1)}),
            id="today's digest",
        ),
    ],
)
def test_lookups_by_person_use_the_recipient_index(clean_db, lookup):
    plan = _plan(clean_db, lookup)
    assert INDEX in plan, plan
    assert "SCAN notifications\n" not in plan + "\n" and "Seq Scan on notifications" not in plan, plan


def test_last_weeks_stage_moves_are_found_by_time(clean_db):
    plan = _plan(
        clean_db, lambda s: week_changes.stage_moves(s.connection(), SINCE - timedelta(days=7), SINCE), "audit_log"
    )
    assert "ix_audit_log_at" in plan, plan
    assert "SCAN audit_log\n" not in plan + "\n" and "Seq Scan on audit_log" not in plan, plan
