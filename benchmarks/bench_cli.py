"""`journal status --once` and `journal incidents` as a user runs them: process wall time, peak RSS.

Each command runs as its own process (``python -m journal ...``, output to /dev/null) on a
small and a large SQLite journal of realistic events (`_common.realistic_events`, 7 days
per million events), generated once and cached under ``.bench/`` (the same files as
bench_replay.py). ``incidents`` gets ``--since`` one day before the journal's newest event
(the synthetic journals lie in the past, so a relative ``1d`` would select nothing).

    .venv/bin/python benchmarks/bench_cli.py [--small 10000] [--large 1000000] [--reps 3]
        [--baseline DIR]

The ratio column is large / small; the target once replay starts from snapshots is <= 2x.
Rounds are interleaved (every command on both journals, then the next round); CPU time
(user + system of the command) is shown too, as it suffers less than wall time from a
shared machine. ``--baseline DIR`` also runs the commands with another checkout's code
(``PYTHONPATH=DIR``, e.g. ``git archive main | tar -x -C DIR``) in the same rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import med, table
from bench_replay import load

from journal.events import iso
from journal.store.event_store import EventStore

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
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps([os.waitstatus_to_exitcode(status), wall, cpu, usage.ru_maxrss]), file=sys.stderr)
"""


def run_once(args: list[str], code_dir: str | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one ``python -m journal`` process."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if code_dir:  # and run from there: ``-m journal`` finds the working directory's first
        env["PYTHONPATH"] = code_dir
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=code_dir or ROOT,
    )
    code, wall, cpu, rss = json.loads(done.stderr.strip().splitlines()[-1])
    if code != 0:
        raise SystemExit(f"journal {' '.join(args)} failed ({code}): {done.stderr}")
    return float(wall), float(cpu), int(rss)


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
    ap.add_argument("--baseline", metavar="DIR", help="also run another checkout's code")
    args = ap.parse_args()

    journals = {n: journal_for(n) for n in (args.small, args.large)}
    commands = {
        "status --once": lambda url, since: ["status", "--db", url, "--once"],
        "incidents --since <newest - 1d>": lambda url, since: [
            "incidents", "--db", url, "--since", since,
        ],
    }  # fmt: skip
    codes: dict[str, str | None] = {"this": None}
    if args.baseline:
        codes["baseline"] = args.baseline
    results: dict[tuple[str, str, int], list[tuple[float, float, int]]] = {}
    for r in range(args.reps):
        for label, make in commands.items():
            order = list(codes.items()) if r % 2 == 0 else list(reversed(codes.items()))
            for code, code_dir in order:
                for n, (url, since) in journals.items():
                    results.setdefault((label, code, n), []).append(
                        run_once(make(url, since), code_dir)
                    )
        print(f"  round {r + 1}/{args.reps} done", file=sys.stderr)
    rows = []
    for label in commands:
        for code in codes:
            small = results[(label, code, args.small)]
            large = results[(label, code, args.large)]
            ws, cs, rs = (med([x[k] for x in small]) for k in range(3))
            wl, cl, rl = (med([x[k] for x in large]) for k in range(3))
            rows.append(
                [
                    label,
                    code,
                    f"{ws:.2f} s / {cs:.2f} s / {rs / 1024:.0f} MiB",
                    f"{wl:.2f} s / {cl:.2f} s / {rl / 1024:.0f} MiB",
                    f"{wl / ws:.1f}x",
                    f"{cl / cs:.1f}x",
                    f"{rl / rs:.2f}x",
                ]
            )
    print(f"### CLI on SQLite: {args.small:,} vs {args.large:,} events (median of {args.reps})\n")
    print(
        table(
            [
                "command",
                "code",
                f"{args.small:,} events (wall / CPU / peak RSS)",
                f"{args.large:,} events",
                "wall ratio",
                "CPU ratio",
                "RSS ratio",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
