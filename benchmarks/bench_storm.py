"""Error storm: live projections' memory, summary latency and record_error tail latency.

Each run is a fresh subprocess (peak RSS from ``ru_maxrss``):

- ``fold``: N errors over 10,000 types, 10 minutes of event time (all inside the 15-minute
  window), folded into a bare `JournalState`; peak RSS and the final ``snapshot()``.
- ``journal``: N ``record_error()`` calls through a configured journal on a SQLite file,
  with a reader thread calling ``get_error_summary()`` every 100 ms; per-call latency of
  ``record_error()``, summary latency during and after the storm, events stored.

``--main PYTHON:PATH`` runs the same workers on another checkout (read-only) side by side,
e.g. ``--main /work/main/.venv/bin/python:/work/main``.

    .venv/bin/python benchmarks/bench_storm.py [--fold 100000,1000000] [--journal 100000,1000000]
        [--main-journal 100000] [--main PYTHON:PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

HERE = Path(__file__).resolve()
TYPES = 10_000
HOT = 20
S = 1_000_000
T0 = 1_800_000_000 * S
STORM_US = 10 * 60 * S


def storm_types(n: int, seed: int = 11) -> Iterator[str]:
    """A third of the errors on 20 hot types, the rest spread over 10,000 (lazily: no list)."""
    rng = random.Random(seed)
    for _ in range(n):
        yield (
            f"storm_{rng.randrange(HOT)}"
            if rng.random() < 0.33
            else f"storm_{rng.randrange(TYPES)}"
        )


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``xs``."""
    ys = sorted(xs)
    return ys[min(len(ys) - 1, int(q * len(ys)))]


def worker_fold(n: int) -> dict[str, Any]:
    from journal.events import error_event
    from journal.projections.state import JournalState

    types = storm_types(n)
    base_rss = peak_rss_mb()
    state = JournalState()
    step = STORM_US // n
    t0 = time.perf_counter()
    for i, etype in enumerate(types):
        state.apply(error_event(etype, "ConnectionError: storm", ts=T0 + i * step))
    fold_s = time.perf_counter() - t0
    snaps = []
    for _ in range(5):
        t = time.perf_counter()
        state.snapshot(T0 + STORM_US + S)
        snaps.append(time.perf_counter() - t)
    return {
        "fold_us_per_error": fold_s / n * 1e6,
        "snapshot_ms": statistics.median(snaps) * 1e3,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": base_rss,
    }


def worker_journal(n: int) -> dict[str, Any]:
    import logging

    import journal
    from journal.alerting.rules import AlertConfig

    logging.disable(logging.WARNING)
    types = storm_types(n)
    tmp = tempfile.mkdtemp(prefix="bench_storm_")
    # Alerts on, at the seed's defaults: the dispatcher thread works during the storm too.
    j = journal.configure(f"sqlite:///{tmp}/storm.db", source="bench:1", alert_config=AlertConfig())
    tracker = journal.get_error_tracker()
    during: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            tracker.get_error_summary()
            during.append(time.perf_counter() - t)
            stop.wait(0.1)

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    lat: list[float] = []
    clock = time.perf_counter
    record = journal.record_error
    t0 = clock()
    for i, etype in enumerate(types):
        t = clock()
        record(etype, "ConnectionError: storm", {"i": i})
        lat.append(clock() - t)
    storm_s = clock() - t0
    stop.set()
    reader.join()
    after = []
    for _ in range(20):
        t = time.perf_counter()
        tracker.get_error_summary()
        after.append(time.perf_counter() - t)
    flushed = journal.flush(600)
    stored = j.store.count(kinds=["error"])
    sizes = j.state.sizes() if hasattr(j.state, "sizes") else {}
    journal.shutdown(60)
    return {
        "record_us_p50": pct(lat, 0.50) * 1e6,
        "record_us_p99": pct(lat, 0.99) * 1e6,
        "record_us_p999": pct(lat, 0.999) * 1e6,
        "record_us_max": max(lat) * 1e6,
        "storm_s": storm_s,
        "polls": len(during),
        "summary_ms_during_median": statistics.median(during) * 1e3 if during else None,
        "summary_ms_during_max": max(during) * 1e3 if during else None,
        "summary_ms_after_median": statistics.median(after) * 1e3,
        "summary_ms_after_max": max(after) * 1e3,
        "stored": stored,
        "flushed": flushed,
        "peak_rss_mb": peak_rss_mb(),
        "sizes": sizes,
    }


def run(mode: str, n: int, python: str = sys.executable, path: str | None = None) -> dict[str, Any]:
    """One worker in a fresh process; its JSON result."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = path
    out = subprocess.run(
        [python, str(HERE), "--worker", mode, str(n)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def f1(x: Any) -> str:
    return "-" if x is None else f"{x:,.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--worker", nargs=2, metavar=("MODE", "N"))
    ap.add_argument("--fold", default="100000,1000000")
    ap.add_argument("--journal", default="100000,1000000")
    ap.add_argument("--main", default=None, help="PYTHON:PATH of another checkout")
    ap.add_argument("--main-journal", default="100000")
    args = ap.parse_args()
    if args.worker:
        mode, n = args.worker[0], int(args.worker[1])
        res = worker_fold(n) if mode == "fold" else worker_journal(n)
        print(json.dumps(res))
        return

    variants: list[tuple[str, str, str | None]] = [("this branch", sys.executable, None)]
    if args.main:
        py, path = args.main.split(":", 1)
        variants.append(("main", py, path))

    rows = []
    for label, py, path in variants:
        for n in [int(x) for x in args.fold.split(",") if x]:
            r = run("fold", n, py, path)
            rows.append(
                [
                    label,
                    f"{n:,}",
                    f1(r["peak_rss_mb"]),
                    f1(r["fold_us_per_error"]),
                    f1(r["snapshot_ms"]),
                ]
            )
    print("### Fold only: N errors over 10,000 types in 10 minutes of event time\n")
    print(table(["code", "errors", "peak RSS MB", "fold us/error", "snapshot ms"], rows))

    rows = []
    for label, py, path in variants:
        counts = args.journal if path is None else args.main_journal
        for n in [int(x) for x in counts.split(",") if x]:
            r = run("journal", n, py, path)
            rows.append(
                [
                    label,
                    f"{n:,}",
                    f1(r["peak_rss_mb"]),
                    f1(r["record_us_p50"]),
                    f1(r["record_us_p99"]),
                    f1(r["record_us_p999"]),
                    f1(r["record_us_max"]),
                    f1(r["storm_s"]),
                    f"{f1(r['summary_ms_during_median'])} / {f1(r['summary_ms_during_max'])}",
                    f"{f1(r['summary_ms_after_median'])} / {f1(r['summary_ms_after_max'])}",
                    r["polls"],
                    f"{r['stored']:,}",
                ]
            )
    print("\n### record_error() storm, SQLite, get_error_summary() polled every 100 ms\n")
    print(
        table(
            [
                "code",
                "errors",
                "peak RSS MB",
                "record p50 us",
                "p99 us",
                "p99.9 us",
                "max us",
                "storm s",
                "summary during med/max ms",
                "summary after med/max ms",
                "polls",
                "stored",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
