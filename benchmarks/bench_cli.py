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
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import med, table
from bench_replay import load

from journal.events import iso
from journal.store import EventStore

ROOT = Path(__file__).resolve().parent.parent
DAY_US = 86_400_000_000


# A small launcher forks and execs the command and reports its wall time and peak RSS. Not
# this script itself: on Linux a child's ru_maxrss starts from its parent's RSS at fork, and
# this process holds the generated events.
LAUNCH = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execv(sys.executable, [sys.executable, "-m", "journal", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(json.dumps([os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss]), file=sys.stderr)
"""


def run_once(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ``python -m journal`` process."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True, check=True
    )
    code, wall, rss = json.loads(done.stderr.strip().splitlines()[-1])
    if code != 0:
        raise SystemExit(f"journal {' '.join(args)} failed ({code}): {done.stderr}")
    return float(wall), int(rss)


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
