"""Writing many rows in one statement, on SQLite and PostgreSQL alike.

SQLite takes an `executemany` of one prepared statement, which it runs in process. PostgreSQL
would get one round of protocol messages per row that way; instead all rows travel as one JSON
document, unpacked on the server by `json_to_recordset`, which measured about twice as fast for
10,000 rows.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], conflict: list[str],
           replace: list[str] | None) -> None:
    """Insert `rows` (dicts with the same keys); where one clashes on `conflict`, set its `replace`
    columns from the new row, or leave the stored row alone when `replace` is None."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if replace is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
        else:
            stmt = stmt.on_conflict_do_update(index_elements=conflict, set_={c: stmt.excluded[c] for c in replace})
        conn.execute(stmt, rows)
        return
    names = list(rows[0])
    q = conn.dialect.identifier_preparer.quote
    columns = ", ".join(q(n) for n in names)
    action = (
        "DO NOTHING"
        if replace is None
        else "DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in replace)
    )
    sql = (
        f"INSERT INTO {q(table.name)} ({columns}) SELECT {columns} FROM {_recordset(conn, table, names)} "
        f"ON CONFLICT ({', '.join(q(c) for c in conflict)}) {action}"
    )
    conn.execute(text(sql), {"rows": json.dumps(rows, default=_plain)})


def update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Set the given columns of each row found by its "id"."""
    if not rows:
        return
    names = [n for n in rows[0] if n != "id"]
    if conn.dialect.name != "postgresql":
        stmt = update(table).where(table.c.id == bindparam("row_id")).values({n: bindparam(f"row_{n}") for n in names})
        conn.execute(stmt, [{f"row_{k}": v for k, v in row.items()} for row in rows])
        return
    q = conn.dialect.identifier_preparer.quote
    sets = ", ".join(f"{q(n)} = r.{q(n)}" for n in names)
    sql = f"UPDATE {q(table.name)} AS t SET {sets} FROM {_recordset(conn, table, ['id', *names])} WHERE t.id = r.id"
    conn.execute(text(sql), {"rows": json.dumps(rows, default=_plain)})


def _recordset(conn: Connection, table: Table, names: list[str]) -> str:
    q = conn.dialect.identifier_preparer.quote
    typed = ", ".join(f"{q(n)} {table.c[n].type.compile(dialect=conn.dialect)}" for n in names)
    return f"json_to_recordset(CAST(:rows AS json)) AS r({typed})"


def _plain(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given where an aware UTC datetime is required")
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} in bulk")
