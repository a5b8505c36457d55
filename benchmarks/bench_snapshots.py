"""Replay as of a past moment with snapshots: a 1M-event journal against a 10k one, and full replay.

Both SQLite journals are generated once under .bench/ and reused (the realistic mix of
bench_replay); `journal snapshot`'s fold (`snapshot_now`, which writes snapshots along the
way) runs on each first. Then `replay_snapshot` at random past moments, with snapshots and
without (a full replay up to the moment), and peak RSS of each in a child process.

    .venv/bin/python benchmarks/bench_snapshots.py [--events 1000000] [--small 10000] [--moments 15]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_kib, table
from bench_replay import load
from sqlalchemy import text

from journal.history.replay import replay, replay_snapshot
from journal.history.snapshots import (
    NO_SNAPSHOTS,
    SNAPSHOT_EVERY_EVENTS,
    SNAPSHOT_MIN_EVENTS,
    SnapshotPolicy,
    Snapshots,
    snapshot_now,
)
from journal.store.event_store import EventStore

ROOT = Path(__file__).resolve().parent.parent


def moments(url: str, k: int, seed: int) -> list[int]:
    """``k`` random event times of the journal (as-of moments in its past)."""
    with EventStore(url) as store:
        n = store.latest_id()
        rng = random.Random(seed)
        out = []
        for _ in range(k):
            ev = list(store.read(after_id=rng.randrange(n), limit=1))
            out.append(ev[0].ts)
    return out


def timed_replays(url: str, ats: list[int], *, snapshots: bool) -> list[float]:
    out = []
    with EventStore(url) as store:
        store.count()  # warm the pool and the schema check
        for at in ats:
            t0 = time.perf_counter()
            if snapshots:
                replay_snapshot(store, at)
            else:
                replay_snapshot(store, at, snapshots=NO_SNAPSHOTS)
            out.append(time.perf_counter() - t0)
    return out


def rss_child(url: str, at: int, mode: str) -> None:
    """Child mode: one replay as of ``at``; print peak RSS in KiB."""
    with EventStore(url) as store:
        if mode == "snap":
            replay_snapshot(store, at)
        elif mode == "full":
            replay_snapshot(store, at, snapshots=NO_SNAPSHOTS)
        else:
            replay(store, snapshots=NO_SNAPSHOTS)
    print(json.dumps({"maxrss_kib": peak_rss_kib()}))


def measure_rss(url: str, at: int, mode: str) -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", url, "--at", str(at), "--mode", mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(out.stdout.strip().splitlines()[-1])["maxrss_kib"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--moments", type=int, default=15)
    ap.add_argument("--full-moments", type=int, default=3, help="full replays timed on the big one")
    ap.add_argument(
        "--every",
        type=int,
        default=SNAPSHOT_EVERY_EVENTS,
        help="snapshot every N events (the default policy's; event-time trigger unchanged)",
    )
    ap.add_argument("--rss-child")
    ap.add_argument("--at", type=int, default=0)
    ap.add_argument("--mode", default="snap")
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.at, args.mode)
        return

    policy = SnapshotPolicy(
        write=True, every_events=args.every, min_events=min(args.every, SNAPSHOT_MIN_EVENTS)
    )
    bench = ROOT / ".bench"
    bench.mkdir(exist_ok=True)
    urls = {}
    for n in (args.small, args.events):
        url = f"sqlite:///{bench / f'snapshots_{n}.db'}"
        load(url, n)
        with EventStore(url) as store:
            with store.engine.begin() as conn:  # a clean slate: this run's policy only
                conn.execute(text("DELETE FROM snapshots"))
            t0 = time.perf_counter()
            _, _, folded = snapshot_now(store, policy)
            took = time.perf_counter() - t0
            snaps = Snapshots(store).infos()
        size = sum(s.bytes for s in snaps)
        print(
            f"{n:,} events: journal snapshot folded {folded:,} in {took:.2f} s; "
            f"{len(snaps)} snapshots, {size / 1e6:.1f} MB ({size / max(1, len(snaps)) / 1e3:.0f} kB each)",
            file=sys.stderr,
        )
        urls[n] = url

    rows = []
    res: dict[str, float] = {}
    for n, url in urls.items():
        ats = moments(url, args.moments, seed=n)
        # the answer is the full replay's (checked on a few moments)
        with EventStore(url) as store:
            for at in ats[:2]:
                assert replay_snapshot(store, at) == replay_snapshot(
                    store, at, snapshots=NO_SNAPSHOTS
                )
        snap = timed_replays(url, ats, snapshots=True)
        k = len(ats) if n == args.small else args.full_moments
        full = timed_replays(url, ats[:k], snapshots=False)
        res[f"snap{n}"] = statistics.median(snap)
        res[f"full{n}"] = statistics.median(full)
        rss_snap = measure_rss(url, ats[0], "snap")
        rss_full = measure_rss(url, ats[0], "full")
        rows.append(
            [
                f"{n:,}",
                f"{1e3 * statistics.median(snap):.1f} ms (max {1e3 * max(snap):.1f})",
                f"{1e3 * statistics.median(full):.0f} ms",
                f"{statistics.median(full) / statistics.median(snap):.0f}x",
                f"{rss_snap / 1024:.0f} MiB",
                f"{rss_full / 1024:.0f} MiB",
            ]
        )
    print(
        f"### replay_snapshot at a random past moment (SQLite; snapshots every {args.every:,} "
        f"events or hour of event time; {args.moments} moments, full replay at "
        f"{args.full_moments} on the big journal)\n"
    )
    print(
        table(
            [
                "journal",
                "with snapshots (median)",
                "full replay (median)",
                "speed-up",
                "peak RSS, snapshots",
                "peak RSS, full",
            ],
            rows,
        )
    )
    ratio = res[f"snap{args.events}"] / res[f"snap{args.small}"]
    print(
        f"\n{args.events:,} vs {args.small:,} events, with snapshots: {ratio:.2f}x the time "
        "(target: within 2x)"
    )


if __name__ == "__main__":
    main()
