"""The buffered writer: submit cost in the caller's thread, end-to-end throughput, spool drain.

.venv/bin/python benchmarks/bench_writer.py [--events 100000] [--reps 3] [--no-pg]
"""

from __future__ import annotations

import argparse
import logging
import queue
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_schema, psycopg2_connect, realistic_events, table

from journal.events import Event
from journal.migrate import upgrade
from journal.store import EventStore
from journal.writer import BufferedWriter

logging.disable(logging.ERROR)
DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/nothing"
COLS = "event_id, ts, kind, source, name, error_type, severity, message, attempt, delay, state_from, state_to, context"
BATCH = 500


def per_call_ns(put: Callable[[Event], None], evs: list[Event]) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = []
    for e in evs:
        t0 = clock()
        put(e)
        samples.append(clock() - t0)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def submit_costs(evs: list[Event], tmp: Path, reps: int) -> list[list[str]]:
    res: dict[str, list[tuple[float, float]]] = {"SimpleQueue.put (reference)": [], "submit, healthy (SQLite)": [],
                                                 "submit, during an outage (spooling)": []}  # fmt: skip
    for r in range(reps):
        q: queue.SimpleQueue[Event] = queue.SimpleQueue()
        res["SimpleQueue.put (reference)"].append(per_call_ns(q.put, evs))
        url = f"sqlite:///{tmp}/submit{r}.db"
        upgrade(url)
        w = BufferedWriter(EventStore(url), spool_dir=tmp / f"sp{r}", emit=lambda e: None)
        res["submit, healthy (SQLite)"].append(per_call_ns(w.submit, evs))
        w.close(60)
        w = BufferedWriter(
            EventStore(DOWN), spool_dir=tmp / f"down{r}", retry_attempts=1, emit=lambda e: None
        )
        time.sleep(0.3)
        res["submit, during an outage (spooling)"].append(per_call_ns(w.submit, evs))
        w.close(1)
    return [[k, f"{statistics.median(m for m, _ in v):,.0f}", f"{statistics.median(p for _, p in v):,.0f}"]
            for k, v in res.items()]  # fmt: skip


def through_writer(url: str, evs: list[Event], spool: Path) -> float:
    w = BufferedWriter(EventStore(url), spool_dir=spool, emit=lambda e: None)
    t0 = time.perf_counter()
    for e in evs:
        w.submit(e)
    assert w.flush(300)
    dt = time.perf_counter() - t0
    w.close(10)
    return len(evs) / dt


def raw_sqlite(path: Path, evs: list[Event]) -> float:
    rows = [e[1:] for e in evs]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO events ({COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows[i : i + BATCH]
        )
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    conn.close()
    return len(evs) / dt


def raw_pg(url: str, evs: list[Event]) -> float:
    from psycopg2.extras import execute_values

    rows = [e[1:] for e in evs]
    conn = psycopg2_connect(url)
    cur = conn.cursor()
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        execute_values(
            cur, f"INSERT INTO events ({COLS}) VALUES %s", rows[i : i + BATCH], page_size=BATCH
        )
        conn.commit()
    dt = time.perf_counter() - t0
    conn.close()
    return len(evs) / dt


def spool_then_drain(url: str, evs: list[Event], spool: Path) -> float:
    """Spool everything during an outage, then time a fresh writer draining it into ``url``."""
    down = BufferedWriter(EventStore(DOWN), spool_dir=spool, retry_attempts=1, emit=lambda e: None)
    for e in evs:
        down.submit(e)
    while down.stats().spooled < len(evs):
        time.sleep(0.05)
    down.close(1)
    t0 = time.perf_counter()
    w = BufferedWriter(EventStore(url), spool_dir=spool, emit=lambda e: None)
    while w.stats().orphans_drained < len(evs):
        time.sleep(0.005)
    dt = time.perf_counter() - t0
    w.close(10)
    return len(evs) / dt


def fresh_sqlite(tmp: Path, name: str) -> tuple[str, Path]:
    path = tmp / f"{name}.db"
    upgrade(f"sqlite:///{path}")
    return f"sqlite:///{path}", path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    evs = realistic_events(args.events)
    with tempfile.TemporaryDirectory(prefix="bench_writer_") as t:
        tmp = Path(t)
        print(
            f"### submit() in the caller's thread (ns per call, {args.events:,} calls, median of {args.reps} rounds)\n"
        )
        print(table(["variant", "median ns", "p99 ns"], submit_costs(evs, tmp, args.reps)))
        rates: dict[str, list[float]] = {}
        n = iter(range(10**6))
        for _ in range(args.reps):
            url, path = fresh_sqlite(tmp, f"raw{next(n)}")
            rates.setdefault("SQLite: raw sqlite3 executemany (batches of 500)", []).append(
                raw_sqlite(path, evs)
            )
            url, _ = fresh_sqlite(tmp, f"w{next(n)}")
            rates.setdefault("SQLite: through BufferedWriter", []).append(
                through_writer(url, evs, tmp / f"s{next(n)}")
            )
            url, _ = fresh_sqlite(tmp, f"d{next(n)}")
            rates.setdefault("SQLite: spool drain after an outage", []).append(
                spool_then_drain(url, evs, tmp / f"s{next(n)}")
            )
            if not args.no_pg:
                for label, fn in (("PostgreSQL: raw psycopg2 execute_values (batches of 500)", "raw"),
                                  ("PostgreSQL: through BufferedWriter", "writer"),
                                  ("PostgreSQL: spool drain after an outage", "drain")):  # fmt: skip
                    with pg_schema("bench_writer") as pg:
                        upgrade(pg)
                        if fn == "raw":
                            r = raw_pg(pg, evs)
                        elif fn == "writer":
                            r = through_writer(pg, evs, tmp / f"s{next(n)}")
                        else:
                            r = spool_then_drain(pg, evs, tmp / f"s{next(n)}")
                    rates.setdefault(label, []).append(r)
            print("  round done", file=sys.stderr)
        rows: list[list[Any]] = []
        for k, v in rates.items():
            base_key = ("SQLite: raw sqlite3 executemany (batches of 500)" if k.startswith("SQLite")
                        else "PostgreSQL: raw psycopg2 execute_values (batches of 500)")  # fmt: skip
            base = statistics.median(rates[base_key])
            rows.append([k, f"{statistics.median(v):,.0f}", f"{statistics.median(v) / base:.2f}x"])
        print(
            f"\n### Sustained throughput, {args.events:,} events (median of {args.reps} rounds)\n"
        )
        print(table(["path", "events/s", "vs the raw driver"], rows))


if __name__ == "__main__":
    main()
