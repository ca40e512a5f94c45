"""Migrations build the same schema as the models, on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from store.db import make_engine, session_scope
from store.migrate import SchemaOutdated, check_schema, current_revision, downgrade, head_revision, upgrade
from store.models import Milestone, Notification, Onboarding


@pytest.fixture
def fresh_url(database_url, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"onboard_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_engine(database_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_engine(database_url).url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_match_the_models_and_go_both_ways(fresh_url):
    engine = make_engine(fresh_url)
    try:
        with pytest.raises(SchemaOutdated, match="onboard-bot migrate"):
            check_schema(engine)

        upgrade(engine)
        assert current_revision(engine) == head_revision()
        check_schema(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(engine).get_table_names())
        assert {"onboardings", "people", "stages", "milestones", "audit_log", "posted_cards", "notifications"} <= tables

        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert "onboardings" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _onboarding(**overrides) -> Onboarding:
    fields = dict(
        customer_name="Acme",
        tier=2,
        acv_cents=4_000_000,
        playbook_key="standard_30",
        timezone="America/New_York",
        contract_signed_on=date(2026, 5, 1),
        target_go_live_on=date(2026, 6, 15),
        created_by="U0CSM",
    )
    return Onboarding(**(fields | overrides))


def test_datetimes_come_back_aware_utc(clean_db):
    berlin = timezone(timedelta(hours=2))
    with session_scope(clean_db) as s:
        ob = _onboarding(gate_override_at=datetime(2026, 5, 4, 11, 0, tzinfo=berlin))
        s.add(ob)
    with session_scope(clean_db) as s:
        got = s.get(Onboarding, ob.id)
        assert got.gate_override_at == datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
        assert got.gate_override_at.tzinfo is not None
        assert got.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(clean_db):
    with pytest.raises(Exception, match="naive datetime"), session_scope(clean_db) as s:
        s.add(_onboarding(gate_override_at=datetime(2026, 5, 4, 9, 0)))


def test_notification_dedupe_key_is_unique(clean_db):
    with session_scope(clean_db) as s:
        s.add(Notification(dedupe_key="1:overdue:m7:2026-05-04", rule="overdue", recipient="U0CSM"))
    with pytest.raises(IntegrityError), session_scope(clean_db) as s:
        s.add(Notification(dedupe_key="1:overdue:m7:2026-05-04", rule="overdue", recipient="U0CSM"))


def test_deleting_an_onboarding_removes_its_plan(clean_db):
    with session_scope(clean_db) as s:
        ob = _onboarding()
        s.add(ob)
        s.flush()
        s.add(
            Milestone(
                onboarding_id=ob.id,
                stage="setup",
                key="sso",
                title="5 SSO users log in",
                track="it",
                start_on=date(2026, 5, 4),
                due_on=date(2026, 5, 8),
            )
        )
    with session_scope(clean_db) as s:
        s.delete(s.get(Onboarding, ob.id))
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM milestones")).scalar_one() == 0


def test_test_database_is_the_one_asked_for(engine):
    import os

    asked = os.environ.get("ONBOARD_TEST_DATABASE_URL", "sqlite")
    assert engine.dialect.name == ("postgresql" if asked.startswith("postgresql") else "sqlite")
