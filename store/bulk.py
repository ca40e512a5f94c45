"""Reading and writing many rows in a fixed number of statements, on SQLite and PostgreSQL alike.

Inserts: SQLite takes an `executemany` of one prepared statement, which it runs in process.
PostgreSQL would get one round of protocol messages per row that way; instead the rows are copied
(COPY) into a temporary table and inserted from there with ON CONFLICT, which measured twice as fast
as unpacking one JSON document with `json_to_recordset` for 92,000 outbox rows; rows just found
missing are copied straight into the table (`insert_fresh`, which takes rows its caller has built
in one pass with `bound`). Either way the values are first put through each column type's own bind
processor, so they are stored exactly as the ORM would store them. Updates by id travel as one JSON document (`json_to_recordset`).
A list of values to look up travels as one JSON array parameter, however long (SQLite's
`json_each`, PostgreSQL's `json_array_elements_text`), so no bound-parameter limit is reached.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import JSON, Table, bindparam, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Row

from store.types import json_dumps


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: list[str], replace: list[str] | None
) -> int:
    """Insert `rows` (dicts with the same keys); where one clashes on `conflict`, set its `replace`
    columns from the new row, or leave the stored row alone when `replace` is None.

    Returns how many rows were inserted or replaced (with `replace=None`: how many were new).
    """
    if not rows:
        return 0
    return upsert_columns(conn, table, {name: list(map(itemgetter(name), rows)) for name in rows[0]}, conflict, replace)


def upsert_columns(
    conn: Connection, table: Table, columns: dict[str, list[Any]], conflict: list[str], replace: list[str] | None
) -> int:
    """`upsert` of rows given column by column: each column's name and its values, one per row.

    The cheaper form when the values come from objects rather than dicts: nothing is built per row.
    """
    names = list(columns)
    if not names or not columns[names[0]]:
        return 0
    if conn.dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if replace is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
        else:
            stmt = stmt.on_conflict_do_update(index_elements=conflict, set_={c: stmt.excluded[c] for c in replace})
        compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
        order = list(compiled.positiontup or ())
        params = driver_rows(conn, table, {name: columns[name] for name in order})
        return conn.exec_driver_sql(str(compiled), params).rowcount
    return _copy_upsert(conn, table, names, driver_rows(conn, table, columns), conflict, replace)


def insert_fresh(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: list[tuple],
    conflict: list[str],
    replace: list[str] | None = None,
) -> int:
    """Insert rows just found missing (by their `conflict` columns); returns how many went in.

    `rows` are tuples in `names` order, already as the driver takes them (`bound`, `driver_rows`).
    PostgreSQL copies them straight into the table inside a savepoint, at about half the cost of
    the staging table's two passes. If another writer took one of the keys in between, the
    savepoint is rolled back and the rows go in through the staging table after all, as `upsert`
    would put them (leaving the other writer's rows alone, or with `replace`, setting those
    columns from these rows). SQLite runs one prepared INSERT ... ON CONFLICT over them, in process.
    """
    if not rows:
        return 0
    q = conn.dialect.identifier_preparer.quote
    columns = ", ".join(q(n) for n in names)
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in names)
        action = _on_conflict(conn, replace)
        sql = (
            f"INSERT INTO {q(table.name)} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(q(c) for c in conflict)}) {action}"
        )
        return conn.exec_driver_sql(sql, rows).rowcount
    savepoint = q(f"fresh_{table.name}")
    conn.exec_driver_sql(f"SAVEPOINT {savepoint}")
    try:
        written = _copy_in(conn, f"COPY {q(table.name)} ({columns}) FROM STDIN", rows)
    except psycopg.errors.UniqueViolation:
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {savepoint}")
        return _copy_upsert(conn, table, names, rows, conflict, replace)
    conn.exec_driver_sql(f"RELEASE SAVEPOINT {savepoint}")
    return written


def _copy_upsert(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    conflict: list[str],
    replace: list[str] | None,
) -> int:
    """PostgreSQL: COPY into a temporary table of the same columns, then one INSERT ... SELECT ... ON CONFLICT.

    The temporary table is made once per connection and emptied after each use (and at every
    commit), not dropped: creating and dropping one per call would bloat the system catalogs.
    """
    q = conn.dialect.identifier_preparer.quote
    columns = ", ".join(q(n) for n in names)
    staging = q(f"bulk_{table.name}_{zlib.crc32(columns.encode()):08x}")
    action = _on_conflict(conn, replace)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
        f"AS SELECT {columns} FROM {q(table.name)} WITH NO DATA"
    )
    _copy_in(conn, f"COPY {staging} ({columns}) FROM STDIN", rows)
    written = conn.exec_driver_sql(
        f"INSERT INTO {q(table.name)} ({columns}) SELECT {columns} FROM {staging} "
        f"ON CONFLICT ({', '.join(q(c) for c in conflict)}) {action}"
    ).rowcount
    conn.exec_driver_sql(f"DELETE FROM {staging}")
    return written


def _on_conflict(conn: Connection, replace: list[str] | None) -> str:
    """The action of an ON CONFLICT clause: leave the stored row, or set `replace` from the new one."""
    if replace is None:
        return "DO NOTHING"
    q = conn.dialect.identifier_preparer.quote
    return "DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in replace)


def _copy_in(conn: Connection, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    """Run a COPY ... FROM STDIN of `rows`; returns how many rows it copied."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None, "the connection is open"
    cursor = dbapi.cursor()
    try:
        # SQLAlchemy has no COPY; tell its statement listeners (logging, counting) about this one.
        conn.dispatch.before_cursor_execute(conn, cursor, statement, (), None, False)
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return cursor.rowcount
    finally:
        cursor.close()


def driver_rows(conn: Connection, table: Table, columns: dict[str, list[Any]]) -> list[tuple]:
    """The rows (in `columns` order) as the driver takes them, through each column type's bind processor.

    SQLAlchemy would do this per row and per column inside `execute`, at several times the cost of
    the insert itself; here it goes column by column, and the (few distinct) datetimes and other
    scalars are converted once each.
    """
    converted = []
    for name, values in columns.items():
        column_type = table.c[name].type.dialect_impl(conn.dialect)
        process = column_type.bind_processor(conn.dialect)
        if process is not None:
            values = list(map(process if isinstance(column_type, JSON) else _memoised(process), values))
        converted.append(values)
    return list(zip(*converted, strict=True))


def bound(conn: Connection, table: Table, name: str) -> Callable[[Any], Any]:
    """What column `name`'s type does to a value on its way to the driver (memoised, but for JSON,
    whose values are rarely alike), for code that builds driver rows itself, in one pass."""
    column_type = table.c[name].type.dialect_impl(conn.dialect)
    process = column_type.bind_processor(conn.dialect)
    if process is None:
        return _same
    return process if isinstance(column_type, JSON) else _memoised(process)


def _same(value: Any) -> Any:
    return value


def _memoised(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            converted = seen[value] = process(value)
            return converted

    return convert


def matching(conn: Connection, table: Table, column: str, values: Iterable[Any], *columns: str) -> list[Row]:
    """The (`column`, *`columns`) of every row of `table` whose `column` is one of `values`."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return []
    q = conn.dialect.identifier_preparer.quote
    picked = ", ".join(f"t.{q(c)}" for c in (column, *columns))
    sql = f"SELECT {picked} FROM {_values(conn)} JOIN {q(table.name)} AS t ON t.{q(column)} = v.value"
    return list(
        conn.execute(text(sql).columns(*(table.c[c] for c in (column, *columns))), {"values": json_dumps(wanted)})
    )


def missing(conn: Connection, table: Table, column: str, values: Iterable[str]) -> set[str]:
    """Those of `values` (strings) that no row of `table` has in `column`."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return set()
    q = conn.dialect.identifier_preparer.quote
    sql = (
        f"SELECT v.value FROM {_values(conn)} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {q(table.name)} AS t WHERE t.{q(column)} = v.value)"
    )
    return set(conn.execute(text(sql), {"values": json_dumps(wanted)}).scalars().all())


def _values(conn: Connection) -> str:
    """A JSON array parameter `:values` as a table `v` with one column `value`."""
    if conn.dialect.name == "postgresql":
        return "json_array_elements_text(CAST(:values AS json)) AS v(value)"
    return "json_each(:values) AS v"


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
    conn.execute(text(sql), {"rows": json_dumps(rows)})


def _recordset(conn: Connection, table: Table, names: list[str]) -> str:
    q = conn.dialect.identifier_preparer.quote
    typed = ", ".join(f"{q(n)} {table.c[n].type.compile(dialect=conn.dialect)}" for n in names)
    return f"json_to_recordset(CAST(:rows AS json)) AS r({typed})"
