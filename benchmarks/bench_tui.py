"""The monitor, headless (``run_test``), on journals of 10k and 1M events (bench_replay's loader).

Each case runs in a child process so its peak RSS is its own:
- live: time until the Live board is complete (cold: no snapshots yet, the replay writes
  them; warm: the next start reads the nearest one), and peak RSS;
- jump: History, the cursor put at random points of the span; median time until the board
  at the cursor is folded (nearest snapshot + fold);
- scroll: Events, 50 x pagedown on the unfiltered list; time until the last page is shown.

    .venv/bin/python benchmarks/bench_tui.py [--sizes 10000,1000000] [--jumps 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_kib, table
from bench_replay import load

ROOT = Path(__file__).resolve().parent.parent


async def _wait(pilot: Any, done: Any, timeout: float = 600.0) -> None:
    start = time.perf_counter()
    while not done():
        await pilot.pause(0.01)
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the monitor did not finish in time")


async def child(url: str, case: str, jumps: int) -> dict[str, Any]:
    from journal.tui.app import MonitorApp
    from journal.tui.screens.history import HistoryScreen
    from journal.tui.widgets.event_list import EventList

    out: dict[str, Any] = {}
    app = MonitorApp(url, follow=False)
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        await _wait(pilot, lambda: app.live_board is not None)
        out["live_s"] = time.perf_counter() - t0
        if case == "jump":
            await pilot.press("2")
            h = app.screen
            assert isinstance(h, HistoryScreen)
            await _wait(pilot, lambda: h.folded_at is not None and h.folded_at == h.at)
            assert app.span is not None
            lo, hi = app.span
            rng = random.Random(7)
            times = []
            for _ in range(jumps):
                at = rng.randrange(lo, hi)
                t = time.perf_counter()
                h.go_to(at)
                await _wait(pilot, lambda at=at: h.folded_at == at)
                times.append(time.perf_counter() - t)
            out["jumps_s"] = times
        elif case == "scroll":
            await pilot.press("3")
            lst = app.screen.query_one(EventList)
            await _wait(pilot, lambda: lst.total > 0 and lst.event_at(0) is not None)
            t = time.perf_counter()
            for _ in range(50):
                await pilot.press("pagedown")
            await _wait(pilot, lambda: lst.event_at(lst.cursor) is not None)
            out["scroll_s"] = time.perf_counter() - t
            out["rows_held"] = sum(len(p) for p in lst.pages.values())
    out["maxrss_kib"] = peak_rss_kib()
    return out


def run_child(url: str, case: str, jumps: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, "--case", case, "--jumps", str(jumps)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--jumps", type=int, default=7)
    ap.add_argument("--child")
    ap.add_argument("--case", default="live")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.case, args.jumps))))
        return
    from journal.history.snapshots import SNAPSHOT_EVERY_EVENTS, SNAPSHOT_EVERY_US

    bench_dir = ROOT / ".bench"
    bench_dir.mkdir(exist_ok=True)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = bench_dir / f"tui_{n}.db"
        fresh = not path.exists()
        url = f"sqlite:///{path}"
        load(url, n)
        cold = run_child(url, "live", 0) if fresh else None
        # warm: the snapshots left by earlier runs are read; the better of two starts
        warm = min((run_child(url, "live", 0) for _ in range(2)), key=lambda r: r["live_s"])
        jump = run_child(url, "jump", args.jumps)
        scroll = run_child(url, "scroll", 0)
        rows.append(
            [
                f"{n:,}",
                f"{cold['live_s']:.2f} s" if cold else "(had snapshots)",
                f"{warm['live_s']:.2f} s",
                f"{warm['maxrss_kib'] / 1024:.0f} MiB",
                f"{statistics.median(jump['jumps_s']) * 1000:.0f} ms",
                f"{max(jump['jumps_s']) * 1000:.0f} ms",
                f"{scroll['scroll_s']:.2f} s",
                f"{scroll['rows_held']:,}",
            ]
        )
        print(f"  {n:,} done", file=sys.stderr)
    print(
        table(
            [
                "events",
                "first Live (cold)",
                "first Live (warm)",
                "peak RSS (warm)",
                f"jump median of {args.jumps}",
                "jump max",
                "50 x pagedown",
                "rows held",
            ],
            rows,
        )
    )
    print(
        f"\nsnapshot spacing: every {SNAPSHOT_EVERY_EVENTS:,} events or "
        f"{SNAPSHOT_EVERY_US // 60_000_000} min of events (journal.history.snapshots)"
    )


if __name__ == "__main__":
    main()
