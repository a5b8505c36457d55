"""The buffered writer: submit cost in the caller's thread (also with a large backlog),
end-to-end throughput, spool drain, and what a kill -9 loses while the store is slow.

.venv/bin/python benchmarks/bench_writer.py [--events 100000] [--reps 3] [--no-pg]
    [--kills 5] [--kill-bound 20000] [--only backlog|kill]
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pg_schema, psycopg2_connect, realistic_events, table

from journal.events import Event
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from journal.writing.writer import BufferedWriter

logging.disable(logging.ERROR)
ROOT = Path(__file__).resolve().parent.parent
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


class Gate:
    """A store whose appends wait until opened: the writer holds a growing backlog."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def append(self, events: list[Event]) -> int:
        self.open.wait()
        return len(events)

    def ping(self) -> None:
        pass


def main_submit(q: deque[Event], wake: threading.Event, batch_size: int) -> Callable[[Event], None]:
    """The submit() of the previous release, for comparison: a set() on every call past a batch."""

    def submit(event: Event) -> None:
        q.append(event)
        if len(q) >= batch_size:
            wake.set()

    return submit


def backlog_costs(evs: list[Event], reps: int) -> list[list[str]]:
    """submit() while 200,000+ events wait (the store is stalled), before and after."""
    res: dict[str, list[tuple[float, float]]] = {
        "previous submit (set() on every call past batch_size)": [],
        "submit (set() only on the transitions)": [],
    }
    backlog = (evs * (200_000 // len(evs) + 1))[:200_000]
    for _ in range(reps):
        q: deque[Event] = deque(backlog)
        res["previous submit (set() on every call past batch_size)"].append(
            per_call_ns(main_submit(q, threading.Event(), 500), evs)
        )
        gate = Gate()
        w = BufferedWriter(gate, max_memory_events=10_000_000, emit=lambda e: None)
        for e in backlog:
            w.submit(e)
        res["submit (set() only on the transitions)"].append(per_call_ns(w.submit, evs))
        gate.open.set()
        w.close(60)
    return [[k, f"{statistics.median(m for m, _ in v):,.0f}", f"{statistics.median(p for _, p in v):,.0f}"]
            for k, v in res.items()]  # fmt: skip


class Throttled:
    """A real SQLite store made slower than the producer: each append also sleeps ``delay``."""

    def __init__(self, url: str, delay: float) -> None:
        self.store, self.delay = EventStore(url), delay

    def append(self, events: list[Event]) -> int:
        time.sleep(self.delay)
        return self.store.append(events)

    def ping(self) -> None:
        self.store.ping()


def kill_child(url: str, spool: str, bound: int) -> None:
    """Submit as fast as possible to a slow store; report the count every 100 submits."""
    from journal.events import error_event

    w = BufferedWriter(Throttled(url, 0.005), spool_dir=spool, max_memory_events=bound,
                       emit=lambda e: None)  # fmt: skip
    out = sys.stdout
    i = 0
    while True:
        w.submit(error_event("kill", f"#{i}", source="killed", ts=1_800_000_000_000_000 + i))
        i += 1
        if i % 100 == 0:
            out.write(f"{i} {w.stats().dropped}\n")
            out.flush()


def kill_losses(tmp: Path, kills: int, bound: int) -> list[list[str]]:
    """kill -9 a child at a random moment; count what a new process recovers from store + spool."""
    rng = random.Random(11)
    losses: list[int] = []
    submitted: list[int] = []
    drops: list[int] = []
    for k in range(kills):
        url, _ = fresh_sqlite(tmp, f"kill{k}")
        spool = tmp / f"kill_spool{k}"
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", url, str(spool), str(bound)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert child.stdout is not None
        last = dropped = 0
        stop_at = time.monotonic() + rng.uniform(1.5, 4.0)
        while time.monotonic() < stop_at:
            line = child.stdout.readline()
            if not line:
                break
            last, dropped = map(int, line.split())
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        for line in child.stdout:  # counts already in the pipe were submitted too
            last, dropped = map(int, line.split())
        w = BufferedWriter(EventStore(url), spool_dir=spool, emit=lambda e: None)
        assert w.flush(120)
        w.close(10)
        store = EventStore(url)
        got = store.count(sources=["killed"])
        store.close()
        losses.append(max(0, last - got - dropped))
        drops.append(dropped)
        submitted.append(last)
    return [
        ["kills", f"{kills}"],
        ["events submitted before the kill (median)", f"{statistics.median(submitted):,.0f}"],
        ["lost to the kill (not stored, not counted): max", f"{max(losses):,}"],
        ["lost to the kill: median", f"{statistics.median(losses):,.0f}"],
        ["documented bound: ~4 x max_memory_events + one store call's arrivals",
         f"~{4 * bound:,} + arrivals"],
        ["dropped and counted before the kill (producer faster than the disk): max",
         f"{max(drops):,}"],
    ]  # fmt: skip


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
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--kill-bound", type=int, default=20_000)
    ap.add_argument("--only", choices=["backlog", "kill"])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kill_child(args.child[0], args.child[1], int(args.child[2]))
        return
    evs = realistic_events(args.events)
    with tempfile.TemporaryDirectory(prefix="bench_writer_") as t:
        tmp = Path(t)
        if args.only != "kill":
            print(f"### submit() with a backlog of 200,000 events (ns per call, {args.events:,} "
                  f"calls, median of {args.reps} rounds)\n")  # fmt: skip
            print(table(["variant", "median ns", "p99 ns"], backlog_costs(evs, args.reps)))
        if args.only != "backlog":
            print(f"\n### kill -9 while the store is slower than the producer (max_memory_events="
                  f"{args.kill_bound:,}, SQLite + 5 ms per append)\n")  # fmt: skip
            print(table(["", "value"], kill_losses(tmp, args.kills, args.kill_bound)))
        if args.only:
            return
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
