"""Reading a usage report (a JSON body or a CSV export) into checked readings, with every problem named.

A report gives, per customer account and day, any of the seat and active-user counts and named key
events with their counts that day. Nothing here touches the store: a report is read whole, and a
caller writes nothing of it when any problem is found.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SEATS = "provisioned_seats"
DAILY_ACTIVE = "daily_active_users"
WEEKLY_ACTIVE = "weekly_active_users"
COUNTS = (SEATS, DAILY_ACTIVE, WEEKLY_ACTIVE)
EVENT_PREFIX = "event:"
RECORD_FIELDS = {"account_id", "date", "events", *COUNTS}

MAX_RECORDS = 5000
MAX_VALUE = 10_000_000
ACCOUNT_MAX = 100
# A report may be dated up to a day ahead of the server's UTC date (customers ahead of UTC).
FUTURE_DAYS = 1
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Reading:
    where: str  # "records[2]" or "line 5": how a problem names it
    account_id: str
    day: date
    metric: str  # one of COUNTS or "event:<name>"
    value: int

    @property
    def event(self) -> str | None:
        return self.metric.removeprefix(EVENT_PREFIX) if self.metric.startswith(EVENT_PREFIX) else None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_VALUE


def _at(where: str, name: str) -> str:
    return f"{where}, {name}" if where.startswith("line") else f"{where}.{name}"


def read_record(record: Any, where: str, today: date) -> tuple[list[Reading], list[str]]:
    """The readings of one record ({account_id, date, counts..., events}), or what is wrong with it."""
    if not isinstance(record, dict):
        return [], [f"{where}: must be an object"]
    problems = [f"{where}: unknown field '{name}'" for name in sorted(set(record) - RECORD_FIELDS)]
    account = record.get("account_id")
    if not isinstance(account, str) or not account.strip() or len(account) > ACCOUNT_MAX:
        problems.append(f"{_at(where, 'account_id')}: must be a non-empty string of at most {ACCOUNT_MAX} characters")
        account = None
    day: date | None = None
    raw_day = record.get("date")
    try:
        day = date.fromisoformat(raw_day) if isinstance(raw_day, str) and len(raw_day) == 10 else None
    except ValueError:
        day = None
    if day is None:
        problems.append(f"{_at(where, 'date')}: must be a date such as 2026-05-04")
    elif day > today + timedelta(days=FUTURE_DAYS):
        problems.append(f"{_at(where, 'date')}: {day.isoformat()} is in the future")
    metrics: list[tuple[str, int]] = []
    for name in COUNTS:
        if name in record:
            if _count(record[name]):
                metrics.append((name, record[name]))
            else:
                problems.append(f"{_at(where, name)}: must be a whole number from 0 to {MAX_VALUE}")
    events = record.get("events", {})
    if not isinstance(events, dict):
        problems.append(f"{_at(where, 'events')}: must be an object of event name to count")
        events = {}
    for name, count in events.items():
        if not isinstance(name, str) or not _EVENT.match(name):
            problems.append(
                f"{_at(where, 'events')}: '{name}' is not an event name (lowercase letters, digits, underscores)"
            )
        elif not _count(count):
            problems.append(f"{_at(where, 'events.' + name)}: must be a whole number from 0 to {MAX_VALUE}")
        else:
            metrics.append((EVENT_PREFIX + name, count))
    if not metrics and not problems:
        problems.append(
            f"{where}: gives no metric (provisioned_seats, daily_active_users, weekly_active_users or events)"
        )
    if problems or account is None or day is None:
        return [], problems
    account = account.strip()
    return [Reading(where, account, day, metric, value) for metric, value in metrics], []


def read_json(raw: bytes, today: date) -> tuple[list[Reading], list[str]]:
    """The readings of a `{"records": [...]}` body, or every problem found in it."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [], ["the body is not JSON (UTF-8)"]
    if not isinstance(body, dict) or set(body) != {"records"} or not isinstance(body["records"], list):
        return [], ['the body must be an object with one field, "records": a list of records']
    records = body["records"]
    if not records:
        return [], ['"records" is empty']
    if len(records) > MAX_RECORDS:
        return [], [f'"records" has {len(records)} records; send at most {MAX_RECORDS} at a time']
    return _all(read_record(r, f"records[{i}]", today) for i, r in enumerate(records))


def read_csv(text: str, today: date) -> tuple[list[Reading], list[str]]:
    """The readings of a CSV export, or every problem, by line (the header is line 1).

    Columns: account_id, date, then any of provisioned_seats, daily_active_users,
    weekly_active_users, and `event:<name>` for a key event's count; an empty cell says nothing.
    """
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        return [], ["line 1: the file is empty; it needs a header row"]
    header = [h.strip() for h in header]
    problems = []
    known = {"account_id", "date", *COUNTS}
    for name in header:
        if name not in known and not (name.startswith(EVENT_PREFIX) and _EVENT.match(name[len(EVENT_PREFIX) :])):
            problems.append(
                f"line 1: unknown column '{name}' (use account_id, date, {', '.join(COUNTS)}, event:<name>)"
            )
    if "account_id" not in header or "date" not in header:
        problems.append("line 1: the header needs account_id and date columns")
    if problems:
        return [], problems
    results: list[tuple[list[Reading], list[str]]] = []
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {line}"
        if len(row) != len(header):
            results.append(([], [f"{where}: has {len(row)} cells, the header has {len(header)}"]))
            continue
        record: dict[str, Any] = {}
        events: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=True):
            cell = cell.strip()
            if name in ("account_id", "date"):
                record[name] = cell
            elif cell:
                value: Any = int(cell) if cell.isdigit() else cell
                if name.startswith(EVENT_PREFIX):
                    events[name[len(EVENT_PREFIX) :]] = value
                else:
                    record[name] = value
        if events:
            record["events"] = events
        results.append(read_record(record, where, today))
    if not results:
        return [], ["the file has a header and no rows"]
    return _all(results)


def _all(results: Any) -> tuple[list[Reading], list[str]]:
    readings: list[Reading] = []
    problems: list[str] = []
    for found, wrong in results:
        readings.extend(found)
        problems.extend(wrong)
    return readings, problems
