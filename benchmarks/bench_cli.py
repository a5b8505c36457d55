"""`journal status --once` and `journal incidents` as a user runs them: process wall time, peak RSS.

Each command runs as its own process (``python -m journal ...``, output to /dev/null) on a
small and a large SQLite journal of realistic events (`_common.realistic_events`, 7 days
per million events), generated once and cached under ``.bench/`` (the same files as
bench_replay.py). ``incidents`` gets ``--since`` one day before the journal's newest event
(the synthetic journals lie in the past, so a relative ``1d`` would select nothing).

    .venv/bin/python benchmarks/bench_cli.py [--small 10000] [--large 1000000] [--reps 3]

The ratio column is large / small; the target once replay starts from snapshots is <= 2x.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import med, table
from bench_replay import load

from journal.events import iso
from journal.store import EventStore

ROOT = Path(__file__).resolve().parent.parent
DAY_US = 86_400_000_000


def run_once(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ``python -m journal`` process."""
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(
            [sys.executable, "-m", "journal", *args], stdout=devnull, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"journal {' '.join(args)} failed ({proc.returncode}): {err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, int(usage.ru_maxrss)


def journal_for(n: int) -> tuple[str, str]:
    """The cached journal of ``n`` events and the ``--since`` for a one-day incidents range."""
    bench_dir = ROOT / ".bench"
    bench_dir.mkdir(exist_ok=True)
    url = f"sqlite:///{bench_dir / f'replay_{n}.db'}"
    load(url, n)
    with EventStore(url) as store:
        span = store.span()
    assert span is not None
    return url, iso(span[1] - DAY_US)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=10_000, help="events in the small journal")
    ap.add_argument("--large", type=int, default=1_000_000, help="events in the large journal")
    ap.add_argument("--reps", type=int, default=3, help="runs of each command (median taken)")
    args = ap.parse_args()

    journals = {n: journal_for(n) for n in (args.small, args.large)}
    commands = {
        "status --once": lambda url, since: ["status", "--db", url, "--once"],
        "incidents --since <newest - 1d>": lambda url, since: [
            "incidents", "--db", url, "--since", since,
        ],
    }  # fmt: skip
    rows = []
    for label, make in commands.items():
        results: dict[int, tuple[float, int]] = {}
        for n, (url, since) in journals.items():
            walls, rss = [], []
            for _ in range(args.reps):
                w, r = run_once(make(url, since))
                walls.append(w)
                rss.append(r)
            results[n] = (med(walls), max(rss))
            print(
                f"  {label} on {n:,}: {med(walls):.2f} s, {max(rss) / 1024:.0f} MiB",
                file=sys.stderr,
            )
        (ws, rs), (wl, rl) = results[args.small], results[args.large]
        rows.append(
            [
                label,
                f"{ws:.2f} s / {rs / 1024:.0f} MiB",
                f"{wl:.2f} s / {rl / 1024:.0f} MiB",
                f"{wl / ws:.1f}x",
                f"{rl / rs:.1f}x",
            ]
        )
    print(f"### CLI on SQLite: {args.small:,} vs {args.large:,} events (median of {args.reps})\n")
    print(
        table(
            [
                "command",
                f"{args.small:,} events (wall / peak RSS)",
                f"{args.large:,} events",
                "wall ratio",
                "RSS ratio",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
