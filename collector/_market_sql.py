"""The market tables' upserts, one recorder per dialect (SQLite, PostgreSQL).

Both get rows grouped by table with duplicates of a natural key already folded (the last one
wins) and write them in one transaction; both update a row only when a value changed, so a
re-fetched closed candle costs no write, and both return how many rows were inserted or
changed. ``updated_at`` is the batch's time (ms).

- SQLite: ``BEGIN IMMEDIATE`` with the store's short write busy timeout, then the driver's
  ``executemany`` of ``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE (old) IS NOT (new)``,
  the file's identity checked before and after (the event store's check).
- PostgreSQL: ``COPY`` into a per-session temporary staging table shaped like the target, then
  ``INSERT ... SELECT ... ORDER BY key ON CONFLICT (key) DO UPDATE ... WHERE (old) IS DISTINCT
  FROM (new)``. The order makes concurrent writers lock rows in the same order (no deadlock).
  Normalised strings need no COPY escaping (printable, no backslash).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from journal.store.event_store import SQLITE_BUSY_TIMEOUT_MS, EventStore
from journal.store.schema import MARKET_TABLES

from ._market_codec import RECORD_OF


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One market table: its record's fields are its columns (then ``updated_at``)."""

    name: str
    record: type
    columns: tuple[str, ...]
    key: tuple[str, ...]
    nullable: tuple[int, ...]  # positions of columns that may hold NULL
    nkey: int  # the key is the first ``nkey`` columns

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.key)


def _spec(table: Table) -> TableSpec:
    record = RECORD_OF[table.name]
    columns = tuple(c.name for c in table.columns if c.name != "updated_at")
    if columns != record._fields:  # type: ignore[attr-defined]
        raise RuntimeError(f"{table.name}: columns {columns} != {record.__name__} fields")
    key = tuple(c.name for c in table.primary_key.columns)
    if columns[: len(key)] != key:
        raise RuntimeError(f"{table.name}: the key {key} must be the first columns")
    nullable = tuple(i for i, c in enumerate(columns) if table.c[c].nullable)
    return TableSpec(table.name, record, columns, key, nullable, len(key))


SPECS: dict[str, TableSpec] = {t.name: _spec(t) for t in MARKET_TABLES}
SPEC_OF: dict[type, TableSpec] = {s.record: s for s in SPECS.values()}

Groups = Sequence[tuple[TableSpec, Sequence[tuple[Any, ...]]]]


class SqliteUpserts:
    """Upserts on a SQLite file through the event store's connections and checks."""

    def __init__(self, db: EventStore) -> None:
        self.db = db
        self._sql: dict[str, str] = {}

    def _statement(self, spec: TableSpec) -> str:
        sql = self._sql.get(spec.name)
        if sql is None:
            cols, vals = ", ".join(spec.columns), spec.values
            marks = ", ".join("?" for _ in spec.columns)
            sets = ", ".join(f"{v} = excluded.{v}" for v in vals)
            old = ", ".join(f"{spec.name}.{v}" for v in vals)
            new = ", ".join(f"excluded.{v}" for v in vals)
            sql = (
                f"INSERT INTO {spec.name} ({cols}, updated_at) VALUES ({marks}, {{now}}) "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets}, "
                f"updated_at = excluded.updated_at WHERE ({old}) IS NOT ({new})"
            )
            self._sql[spec.name] = sql
        return sql

    def write(self, conn: Any, groups: Groups, now: int) -> int:
        db = self.db
        db._check_file(conn, "before the upsert")
        cur = conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(db.write_busy_timeout * 1000)}")
            cur.execute("BEGIN IMMEDIATE")
            before = conn.total_changes
            for spec, rows in groups:
                # The batch's time goes into the text (an int of ours): the rows stay the
                # records themselves, with no per-row tuple to build.
                cur.executemany(self._statement(spec).format(now=int(now)), rows)
            changed = conn.total_changes - before
            cur.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        finally:
            try:
                cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            except sqlite3.Error:
                pass  # a broken connection: the original error is the one to report
            finally:
                cur.close()
        db._check_file(conn, "during the upsert")
        return int(changed)


class PostgresUpserts:
    """Upserts on PostgreSQL: COPY into a temporary staging table, then one INSERT ... SELECT."""

    def __init__(self, db: EventStore) -> None:
        self.db = db
        self._sql: dict[str, tuple[str, str, str]] = {}

    def _statements(self, spec: TableSpec) -> tuple[str, str, str]:
        sql = self._sql.get(spec.name)
        if sql is None:
            cols, vals, stage = ", ".join(spec.columns), spec.values, f"market_stage_{spec.name}"
            sets = ", ".join(f"{v} = EXCLUDED.{v}" for v in vals)
            old = ", ".join(f"{spec.name}.{v}" for v in vals)
            new = ", ".join(f"EXCLUDED.{v}" for v in vals)
            sql = (
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {cols} FROM {spec.name} WITH NO DATA",
                f"COPY {stage} ({cols}) FROM STDIN",
                f"INSERT INTO {spec.name} ({cols}, updated_at) "
                f"SELECT {cols}, %(now)s FROM {stage} ORDER BY {', '.join(spec.key)} "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets}, "
                f"updated_at = EXCLUDED.updated_at WHERE ({old}) IS DISTINCT FROM ({new})",
            )
            self._sql[spec.name] = sql
        return sql

    def write(self, conn: Any, groups: Groups, now: int) -> int:
        cur = conn.cursor()
        changed = 0
        try:
            for spec, rows in groups:
                create, copy, insert = self._statements(spec)
                cur.execute(create)
                cur.copy_expert(copy, io.BytesIO(copy_text(spec, rows).encode("utf-8")))
                cur.execute(insert, {"now": int(now)})
                changed += cur.rowcount
            conn.commit()
        finally:
            cur.close()
        return changed


def copy_text(spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> str:
    """COPY text of normalised rows (None as ``\\N``; floats as their shortest repr)."""
    fmt = "\t".join("%s" for _ in spec.columns) + "\n"
    if not spec.nullable:
        return "".join([fmt % row for row in rows])
    out = []
    for row in rows:
        if None in row:
            row = tuple("\\N" if v is None else v for v in row)
        out.append(fmt % row)
    return "".join(out)
