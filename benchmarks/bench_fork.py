"""Fork safety: what the journal's fork hooks cost a fork, and multiprocessing workers end to end.

.venv/bin/python benchmarks/bench_fork.py [--forks 200] [--events 10000]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import table

import journal
from journal.store.migrate import upgrade
from tests import fork_workers

logging.disable(logging.ERROR)


def fork_ms(forks: int, flush_in_child: bool) -> list[float]:
    """Milliseconds from ``os.fork()`` to the child's exit being reaped (child: optional flush)."""
    out = []
    for _ in range(forks):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if flush_in_child:
                    code = 0 if journal.flush(10) else 1
            finally:
                os._exit(code)
        os.waitpid(pid, 0)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forks", type=int, default=200)
    ap.add_argument("--events", type=int, default=10_000, help="per worker (4 workers)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/journal.db"
        upgrade(url)
        rows = []
        idle = fork_ms(args.forks, False)
        rows.append(["no journal configured (hooks only)", f"{statistics.median(idle):.2f}"])
        journal.configure(url, spool_dir=Path(tmp) / "spool")
        journal.record_error("Bench", "warm up", name="bench")
        assert journal.flush()
        conf = fork_ms(args.forks, False)
        rows.append(
            ["journal configured: child rebuilds writer + alerts", f"{statistics.median(conf):.2f}"]
        )
        flushed = fork_ms(args.forks, True)
        rows.append(
            ["... and the child calls journal.flush()", f"{statistics.median(flushed):.2f}"]
        )
        print(f"os.fork() to reaped child, median of {args.forks} (ms)\n")
        print(table(["case", "ms"], rows))

        print(f"\nmultiprocessing, 4 workers x {args.events} events, SQLite file, all stored\n")
        rows = []
        for method in ("fork", "spawn"):
            ctx = multiprocessing.get_context(method)
            t0 = time.perf_counter()
            procs = [
                ctx.Process(target=fork_workers.record, args=(w, args.events)) for w in range(4)
            ]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            seconds = time.perf_counter() - t0
            n = 4 * args.events
            rows.append([f"Process ({method})", f"{seconds:.2f}", f"{n / seconds:,.0f}"])
        journal.shutdown()
        print(table(["start method", "s (start to all joined)", "events/s"], rows))


if __name__ == "__main__":
    main()
