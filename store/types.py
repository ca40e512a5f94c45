"""Column types and JSON encoding that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in and out, whatever the database keeps.

    SQLite has no time zones and would hand back naive values; PostgreSQL keeps `timestamptz`.
    Naive values are refused on the way in so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given where an aware UTC datetime is required")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def json_dumps(value: Any) -> str:
    """JSON for the store: dates and datetimes as ISO strings (through `json_default`), sets as sorted lists.

    orjson rather than the standard library: a Monday's first sweep writes about 100,000 outbox
    payloads, and orjson encodes them in a sixth of the time.
    """
    return orjson.dumps(value, default=json_default, option=_JSON_OPTIONS).decode()


def json_loads(text: str | bytes) -> Any:
    """The store's JSON back into Python (orjson, for the same reason as `json_dumps`)."""
    return orjson.loads(text)
