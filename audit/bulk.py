"""Writing many rows at once, inside the caller's transaction.

PostgreSQL: `COPY ... FROM STDIN` through psycopg's copy protocol (no statement per row);
SQLite: one prepared INSERT run by the driver's `executemany` over plain tuples (no
SQLAlchemy parameter processing per row). Both run on the session's own connection,
so the rows commit or roll back with everything else the caller does: an import stays
all-or-nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import islice
from typing import Any

from sqlalchemy import Date, DateTime, Table, Time
from sqlalchemy.engine import Connection

BATCH_ROWS = 50_000


def _connection(target: Any) -> Connection:
    return target if isinstance(target, Connection) else target.connection()


def insert_rows(target: Any, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                batch_rows: int = BATCH_ROWS) -> int:
    """Insert `rows` (tuples in the order of `columns`) into `table`; returns the number written.
    `target` is a Session or a Connection; nothing is committed here."""
    it = iter(rows)
    return insert_batches(target, table, columns, iter(lambda: list(islice(it, batch_rows)), []))


def insert_batches(target: Any, table: Table, columns: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]
                   ) -> int:
    """`insert_rows` for rows that come in batches, each any iterable of tuples (a `zip` of a
    batch's column lists is handed to the driver as it is: no Python code runs per row on
    SQLite). Returns the number of rows written; nothing is committed here."""
    conn = _connection(target)
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    quoted = conn.dialect.identifier_preparer.format_table(table)
    n = 0
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        with driver.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)
                        n += 1
        return n
    # the column types' own conversion of dates and times (SQLite stores them as text in
    # SQLAlchemy's format); numbers, text and booleans go to the driver as they are
    procs = [(k, table.c[c].type._cached_bind_processor(conn.dialect)) for k, c in enumerate(columns)
             if isinstance(table.c[c].type, (DateTime, Date, Time))]
    procs = [(k, p) for k, p in procs if p is not None]
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {quoted} ({names}) VALUES ({marks})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for batch in batches:
            if procs:
                batch = [_converted(row, procs) for row in batch]
            cursor.executemany(sql, batch)
            n += max(cursor.rowcount, 0)
    finally:
        cursor.close()
    return n


@contextmanager
def indexes_built_after(target: Any, table: Table, names: Sequence[str]) -> Iterator[None]:
    """Drop the named (non-unique) indexes of `table`, run the block, create them again: one
    sort of the finished rows instead of a B-tree insert per row. Inside the caller's
    transaction (DDL is transactional on SQLite and PostgreSQL), so a rollback restores the
    indexes together with the rows. Needs the right to drop the indexes (on PostgreSQL only
    the table's owner has it, and DROP INDEX holds every other reader of the table until the
    commit): audit.population.importer uses it on SQLite only."""
    conn = _connection(target)
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite" and not driver.in_transaction:  # type: ignore[union-attr]
        # the sqlite3 module opens a transaction only before a DML statement: the DROP INDEX
        # below must already be inside one, or it would commit on its own
        driver.execute("BEGIN")  # type: ignore[union-attr]
    indexes = [ix for ix in table.indexes if ix.name in set(names)]
    for ix in indexes:
        ix.drop(conn)
    ok = False
    try:
        yield
        ok = True
    finally:
        # after a failed block PostgreSQL's transaction is aborted and the caller rolls back
        # (which restores the indexes); SQLite's is not: put them back at once either way
        if ok:
            for ix in indexes:
                ix.create(conn)
        elif conn.dialect.name == "sqlite":
            with suppress(Exception):  # the block's own error is the one to report
                for ix in indexes:
                    ix.create(conn)


def _converted(row: Sequence[Any], procs: list[tuple[int, Any]]) -> list[Any]:
    out = list(row)
    for k, proc in procs:
        if out[k] is not None:
            out[k] = proc(out[k])
    return out
