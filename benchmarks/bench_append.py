"""Append throughput: EventStore.append vs the raw drivers and the eventsourcing recorders.

Side by side in one run, interleaved rounds, medians. 100,000 events of realistic size,
batches of 1,000, every variant into its own fresh file / schema.

    .venv/bin/python benchmarks/bench_append.py [--events 100000] [--reps 5] [--pg-reps 3] [--no-pg]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_schema, psycopg2_connect, realistic_events, report, timed

from journal.events import Event
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from journal.store.schema import events as events_table

BATCH = 1000
COLS = "event_id, ts, kind, source, name, error_type, severity, message, attempt, delay, state_from, state_to, context"


def batches(xs: list[Any]) -> list[list[Any]]:
    return [xs[i : i + BATCH] for i in range(0, len(xs), BATCH)]


def es_payload(evs: list[Event]) -> list[Any]:
    from eventsourcing.persistence import StoredEvent

    return [StoredEvent(uuid.uuid4(), 0, "journal.events:Event", e.to_json().encode()) for e in evs]


# ------------------------------------------------------------------ SQLite variants


def sqlite_variants(
    template: Path, work: Path, evs: list[Event]
) -> dict[str, Callable[[], Callable[[], None]]]:
    rows = batches([e[1:] for e in evs])
    ev_batches = batches(evs)
    dict_batches = batches([dict(zip(COLS.split(", "), e[1:], strict=True)) for e in evs])
    es_batches = batches(es_payload(evs))
    n = iter(range(10**9))

    def fresh() -> Path:
        p = work / f"b{next(n)}.db"
        shutil.copy(template, p)
        return p

    def raw() -> Callable[[], None]:
        conn = sqlite3.connect(fresh(), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        sql = f"INSERT INTO events ({COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"

        def run() -> None:
            for b in rows:
                conn.execute("BEGIN")
                conn.executemany(sql, b)
                conn.execute("COMMIT")
            conn.close()

        return run

    def store() -> Callable[[], None]:
        s = EventStore(f"sqlite:///{fresh()}")
        s.count()  # schema check outside the timer

        def run() -> None:
            for b in ev_batches:
                s.append(b)
            s.close()

        return run

    def core() -> Callable[[], None]:
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{fresh()}")

        def run() -> None:
            for b in dict_batches:
                with engine.begin() as c:
                    c.execute(events_table.insert(), b)
            engine.dispose()

        return run

    def es() -> Callable[[], None]:
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        rec = SQLiteApplicationRecorder(SQLiteDatastore(str(fresh())))
        rec.create_table()

        def run() -> None:
            for b in es_batches:
                rec.insert_events(b)

        return run

    return {
        "raw sqlite3 executemany (WAL, NORMAL)": raw,
        "EventStore.append (SQLite)": store,
        "SQLAlchemy Core insert() executemany": core,
        "eventsourcing SQLiteApplicationRecorder": es,
    }


# ------------------------------------------------------------------ PostgreSQL variants


def pg_variants(
    evs: list[Event], schemas: list[Any]
) -> dict[str, Callable[[], Callable[[], None]]]:
    from psycopg2.extras import execute_values

    rows = batches([e[1:] for e in evs])
    ev_batches = batches(evs)
    es_batches = batches(es_payload(evs))

    def new_url() -> str:
        cm = pg_schema("bench_append")
        url = cm.__enter__()
        schemas.append(cm)
        upgrade(url)
        return url

    def values() -> Callable[[], None]:
        conn = psycopg2_connect(new_url())
        cur = conn.cursor()

        def run() -> None:
            for b in rows:
                execute_values(cur, f"INSERT INTO events ({COLS}) VALUES %s", b, page_size=BATCH)
                conn.commit()
            conn.close()

        return run

    def copy() -> Callable[[], None]:
        conn = psycopg2_connect(new_url())
        cur = conn.cursor()

        def esc(v: Any) -> str:
            if v is None:
                return "\\N"
            return (
                str(v)
                .replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )

        def run() -> None:
            for b in rows:
                buf = io.StringIO("".join("\t".join(esc(v) for v in r) + "\n" for r in b))
                cur.copy_expert(f"COPY events ({COLS}) FROM STDIN", buf)
                conn.commit()
            conn.close()

        return run

    def store() -> Callable[[], None]:
        s = EventStore(new_url())
        s.count()

        def run() -> None:
            for b in ev_batches:
                s.append(b)
            s.close()

        return run

    def es() -> Callable[[], None]:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
        from sqlalchemy.engine import make_url

        url = new_url()
        u = make_url(url)
        schema = u.query["options"].split("=", 1)[1]
        ds = PostgresDatastore(
            u.database or "",
            u.host or "",
            u.port or 5432,
            u.username or "",
            u.password or "",
            schema=schema,
        )
        rec = PostgresApplicationRecorder(ds)
        rec.create_table()

        def run() -> None:
            for b in es_batches:
                rec.insert_events(b)
            ds.close()

        return run

    return {
        "psycopg2 execute_values": values,
        "psycopg2 COPY (text)": copy,
        "EventStore.append (PostgreSQL, idempotent)": store,
        "eventsourcing PostgresApplicationRecorder": es,
    }


def run_rounds(
    variants: dict[str, Callable[[], Callable[[], None]]], reps: int, n: int
) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(reps):
        order = list(variants.items())
        order = order[r % len(order) :] + order[: r % len(order)]  # rotate: no variant always first
        for name, setup in order:
            run = setup()
            rates[name].append(n / timed(run))
        print(f"  round {r + 1}/{reps} done", file=sys.stderr)
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--pg-reps", type=int, default=3)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    evs = realistic_events(args.events)
    ctx_bytes = sum(len(e.context_json) for e in evs) / len(evs)
    print(f"{args.events:,} events, batches of {BATCH}, mean context {ctx_bytes:.0f} bytes\n")
    with tempfile.TemporaryDirectory(prefix="bench_append_") as tmp:
        work = Path(tmp)
        template = work / "template.db"
        upgrade(f"sqlite:///{template}")
        rates = run_rounds(sqlite_variants(template, work, evs), args.reps, args.events)
        print(report(f"SQLite (reps={args.reps})", rates, "raw sqlite3 executemany (WAL, NORMAL)"))
    if not args.no_pg:
        schemas: list[Any] = []
        try:
            rates = run_rounds(pg_variants(evs, schemas), args.pg_reps, args.events)
        finally:
            for cm in schemas:
                cm.__exit__(None, None, None)
        print()
        print(report(f"PostgreSQL (reps={args.pg_reps})", rates, "psycopg2 execute_values"))
    print(json.dumps({"events": args.events}), file=sys.stderr)


if __name__ == "__main__":
    main()
