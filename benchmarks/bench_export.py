"""``journal export`` throughput and memory vs a raw sqlite3 cursor + ``json.dumps`` loop.

The SQLite journal (realistic events, 7 days' worth per million) is generated once under
.bench/ and reused. Each variant writes the whole journal to a file under .bench/; the
command runs as a user runs it (a subprocess, start-up included). Peak RSS comes from
``wait4`` of the child: exporting every event vs exporting the first 10,000.

With ``--pg`` (or when JOURNAL_TEST_PG_URL is set) the same on PostgreSQL: the events are
loaded into a throwaway schema with bench_replay's loader (the time it took is printed),
and the floor is a psycopg2 server-side cursor + ``json.dumps`` loop.

    .venv/bin/python benchmarks/bench_export.py [--events 1000000] [--reps 3] [--quick] [--pg] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import med, pg_schema, psycopg2_connect, report, table
from bench_replay import load, rounds

from journal.events import iso
from journal.store.event_store import EventStore

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = (
    "id, event_id, ts, kind, source, name, error_type, severity, message, "
    "attempt, delay, state_from, state_to, context"
)


def raw_loop(path: Path, out: Path) -> int:
    """The floor: a cursor, a dict per row, ``json.dumps``, one line each (no ISO time)."""
    conn = sqlite3.connect(path)
    try:
        return _dump(conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY id"), out)
    finally:
        conn.close()


def raw_pg_loop(url: str, out: Path) -> int:
    """The PostgreSQL floor: a psycopg2 server-side cursor, a dict per row, ``json.dumps``."""
    conn = psycopg2_connect(url)
    try:
        with conn:  # a named cursor lives in a transaction
            cur = conn.cursor(name="raw_export")
            cur.itersize = 10_000
            cur.execute(f"SELECT {COLUMNS} FROM events ORDER BY id")
            return _dump(cur, out)
    finally:
        conn.close()


def _dump(cur: Any, out: Path) -> int:
    names = [c.strip() for c in COLUMNS.split(",")]
    n = 0
    with out.open("w", encoding="utf-8") as f:
        while True:
            rows = cur.fetchmany(10_000)
            if not rows:
                break
            for r in rows:
                f.write(json.dumps(dict(zip(names, r, strict=True))))
                f.write("\n")
            n += len(rows)
    return n


# Peak RSS is read by a small go-between: Linux carries a forked child's pre-exec RSS (this
# benchmark process, with its generated events) into the child's ru_maxrss.
_WRAPPER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stderr=subprocess.PIPE, text=True)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"rc": os.waitstatus_to_exitcode(status), "err": err, "rss": usage.ru_maxrss}))
"""


def export(url: str, out: Path, *extra: str) -> tuple[int, int]:
    """Run ``journal export``; return (events written, peak RSS KiB of that process)."""
    cmd = [sys.executable, "-m", "journal", "export", "--db", url, "-o", str(out), *extra]
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["rc"] == 0, result["err"]
    written = int(result["err"].split()[1].replace(",", ""))
    return written, int(result["rss"])


def measure(
    title: str, url: str, floor: tuple[str, Callable[[], int]], n: int, reps: int, out: Path
) -> None:
    """Interleaved rounds of the floor and the command, then peak RSS: 10,000 vs all events."""
    variants = {
        floor[0]: floor[1],
        "journal export -o x.jsonl": lambda: export(url, out.with_suffix(".jsonl"))[0],
        "journal export -o x.json": lambda: export(url, out.with_suffix(".json"))[0],
    }
    rates = rounds(variants, reps, n)
    print(report(f"{title}, {n:,} events (reps={reps})", rates, floor[0]))
    json.load(out.with_suffix(".json").open())  # the JSON form parses

    with EventStore(url) as store:
        (ten_k,) = store.read(after_id=10_000, limit=1)
    small, r_small = export(url, out.with_suffix(".jsonl"), "--until", iso(ten_k.ts))
    rss = {"small": [r_small], "big": []}
    for _ in range(reps - 1):
        rss["small"].append(export(url, out.with_suffix(".jsonl"), "--until", iso(ten_k.ts))[1])
    for _ in range(reps):
        big, r_big = export(url, out.with_suffix(".jsonl"))
        rss["big"].append(r_big)
    s, b = med([float(x) for x in rss["small"]]), med([float(x) for x in rss["big"]])
    print()
    print(
        table(
            ["export of", "peak RSS (median)", "ratio"],
            [
                [f"{small:,}", f"{s / 1024:.1f} MiB", "1.00x"],
                [f"{big:,}", f"{b / 1024:.1f} MiB", f"{b / s:.2f}x"],
            ],
        )
    )
    print()
    for suffix in (".raw", ".jsonl", ".json"):
        out.with_suffix(suffix).unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100,000 events, 2 rounds")
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL (a throwaway schema)")
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite part")
    args = ap.parse_args()
    n = 100_000 if args.quick else args.events
    reps = 2 if args.quick else args.reps
    bench = ROOT / ".bench"
    bench.mkdir(exist_ok=True)
    out = bench / "export_out"

    if not args.no_sqlite:
        path = bench / f"export_{n}.db"
        url = f"sqlite:///{path}"
        load(url, n)
        floor = ("raw sqlite3 + json.dumps loop (.jsonl)", lambda: raw_loop(path, out.with_suffix(".raw")))  # fmt: skip
        measure("SQLite", url, floor, n, reps, out)

    if args.pg or os.environ.get("JOURNAL_TEST_PG_URL"):
        with pg_schema("bench_export") as pg:
            t0 = time.perf_counter()
            load(pg, n)
            print(f"PostgreSQL: loaded {n:,} events in {time.perf_counter() - t0:.0f} s\n")
            floor = ("psycopg2 server-side cursor + json.dumps loop (.jsonl)", lambda: raw_pg_loop(pg, out.with_suffix(".raw")))  # fmt: skip
            measure("PostgreSQL", pg, floor, n, reps, out)


if __name__ == "__main__":
    main()
