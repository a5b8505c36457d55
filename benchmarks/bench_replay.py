"""Replay throughput and memory: replay() into every projection vs a raw cursor doing a bare count.

The 1M-event SQLite file is generated once under .bench/ and reused. PostgreSQL gets a
throwaway schema (``--pg-events``, default 300,000), dropped at the end.

    .venv/bin/python benchmarks/bench_replay.py [--events 1000000] [--reps 3] [--pg-events 300000] [--no-pg]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    peak_rss_kib,
    pg_schema,
    psycopg2_connect,
    realistic_events,
    report,
    table,
    timed,
)

from journal.history.replay import replay
from journal.history.snapshots import NO_SNAPSHOTS
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 100_000


def load(url: str, n: int) -> None:
    """Append ``n`` realistic events (7 days' worth per million), in chunks."""
    upgrade(url)
    with EventStore(url) as store:
        have = store.count()
        if have >= n:
            return
        start = 1_795_000_000_000_000
        for i in range(have // CHUNK, (n + CHUNK - 1) // CHUNK):
            evs = realistic_events(
                min(CHUNK, n - i * CHUNK),
                seed=i,
                start_us=start + i * 60_480_000_000,
                span_s=60_480,
            )
            for j in range(0, len(evs), 5_000):
                store.append(evs[j : j + 5_000])
            print(f"  loaded {min(n, (i + 1) * CHUNK):,}", file=sys.stderr)


def raw_sqlite(path: Path, cols: str) -> int:
    conn = sqlite3.connect(path)
    counts: Counter[Any] = Counter()
    cur = conn.execute(f"SELECT {cols} FROM events ORDER BY id")
    while True:
        rows = cur.fetchmany(10_000)
        if not rows:
            break
        for r in rows:
            counts[r[0]] += 1
    conn.close()
    return sum(counts.values())


def raw_pg(url: str, cols: str) -> int:
    conn = psycopg2_connect(url)
    cur = conn.cursor(name="bench_replay")
    cur.itersize = 10_000
    cur.execute(f"SELECT {cols} FROM events ORDER BY id")
    counts: Counter[Any] = Counter()
    for r in cur:
        counts[r[0]] += 1
    conn.close()
    return sum(counts.values())


def ours(url: str) -> int:
    # a full replay: the cached journal may hold snapshots (bench_cli's commands write them)
    with EventStore(url) as store:
        state = replay(store, snapshots=NO_SNAPSHOTS)
        state.snapshot()
        return state.events_seen


def rss_child(url: str, until_index: int) -> None:
    """Child mode: replay the first ``until_index`` events; print peak RSS in KiB."""
    with EventStore(url) as store:
        until = None
        if until_index:
            ev = list(store.read(after_id=until_index - 1, limit=1))
            until = ev[0].ts if ev else None
        state = replay(store, until=until, snapshots=NO_SNAPSHOTS)
    print(
        json.dumps(
            {
                "events": state.events_seen,
                "maxrss_kib": peak_rss_kib(),
            }
        )
    )


def measure_rss(url: str, until_index: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", url, "--until-index", str(until_index)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return int(data["events"]), int(data["maxrss_kib"])


def rounds(variants: dict[str, Any], reps: int, n: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(reps):
        items = list(variants.items())
        items = items[r % len(items) :] + items[: r % len(items)]
        for name, fn in items:
            seen: list[int] = []
            t = timed(lambda fn=fn, seen=seen: seen.append(fn()))
            assert seen[0] == n, (name, seen[0], n)
            rates[name].append(n / t)
        print(f"  round {r + 1}/{reps}", file=sys.stderr)
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pg-events", type=int, default=300_000)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--rss-child")
    ap.add_argument("--until-index", type=int, default=0)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.until_index)
        return

    bench_dir = ROOT / ".bench"
    bench_dir.mkdir(exist_ok=True)
    path = bench_dir / f"replay_{args.events}.db"
    url = f"sqlite:///{path}"
    load(url, args.events)
    n = args.events
    variants = {
        "raw sqlite3, all columns, dict count": lambda: raw_sqlite(path, "error_type, *"),
        "raw sqlite3, error_type only, dict count": lambda: raw_sqlite(path, "error_type"),
        "replay() into all projections": lambda: ours(url),
    }
    rates = rounds(variants, args.reps, n)
    print(
        report(
            f"SQLite, {n:,} events (reps={args.reps})",
            rates,
            "raw sqlite3, all columns, dict count",
        )
    )
    small, big = n // 10, n
    e1, r1 = measure_rss(url, small)
    e2, r2 = measure_rss(url, 0)
    print()
    print(
        table(
            ["replay of", "peak RSS", "ratio"],
            [
                [f"{e1:,}", f"{r1 / 1024:.0f} MiB", "1.00x"],
                [f"{e2:,}", f"{r2 / 1024:.0f} MiB", f"{r2 / r1:.2f}x"],
            ],
        )
    )
    assert big == e2

    if not args.no_pg:
        with pg_schema("bench_replay") as pg:
            load(pg, args.pg_events)
            m = args.pg_events
            pg_variants = {
                "psycopg2 server-side cursor, all columns, dict count": lambda: raw_pg(
                    pg, "error_type, *"
                ),
                "psycopg2 server-side cursor, error_type only": lambda: raw_pg(pg, "error_type"),
                "replay() into all projections": lambda: ours(pg),
            }
            rates = rounds(pg_variants, args.reps, m)
            print()
            print(
                report(
                    f"PostgreSQL, {m:,} events (reps={args.reps})",
                    rates,
                    "psycopg2 server-side cursor, all columns, dict count",
                )
            )


if __name__ == "__main__":
    main()
