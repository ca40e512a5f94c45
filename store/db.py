"""Engines and sessions for SQLite (the default) and PostgreSQL (by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, create_engine

from store.types import json_dumps, json_loads


class DatabaseURLError(ValueError):
    pass


def normalise_url(raw: str) -> URL:
    """Parse a database URL, sending plain `postgresql://` URLs to the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {exc}") from None
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
    return url


def make_engine(raw_url: str) -> Engine:
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            json_serializer=json_dumps,
            json_deserializer=json_loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _is_memory(dbapi_connection) -> bool:
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    return not row or not row[2]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def second_reader(conn: Connection) -> Engine | None:
    """The engine to read on alongside `conn`, at the same time, when that sees what `conn` would.

    Only on PostgreSQL, whose server works apart from this process (SQLite would run the second
    read in this process and contend with the first), and only while `conn`'s transaction has
    written nothing: no transaction id is assigned until the first write, so another connection,
    reading committed data as every statement of `conn` does, sees the same rows.
    """
    if conn.dialect.name != "postgresql":
        return None
    if conn.execute(text("SELECT pg_current_xact_id_if_assigned() IS NULL")).scalar():
        return conn.engine
    return None
