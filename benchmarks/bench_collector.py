"""Collector benchmarks: the hardened client's overhead per call against bare ccxt on the
same fake exchange (`_collector_client.py`), and candles per second stored through the
buffered market writer against a raw executemany of the same rows (`_collector_candles.py`).

    .venv/bin/python benchmarks/bench_collector.py [--part client|candles|all]
        [--calls 200] [--reps 7] [--candles 100000] [--candle-reps 5] [--pg [URL]]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=("client", "candles", "all"), default="all")
    ap.add_argument("--calls", type=int, default=200, help="client: calls per round")
    ap.add_argument("--reps", type=int, default=7, help="client: rounds")
    ap.add_argument("--candles", type=int, default=100_000, help="candles: rows per round")
    ap.add_argument("--candle-reps", type=int, default=5, help="candles: rounds")
    ap.add_argument(
        "--pg",
        nargs="?",
        const="env",
        help="candles: also PostgreSQL (a URL, or JOURNAL_TEST_PG_URL / the benchmarks' default)",
    )
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    if args.part in ("client", "all"):
        from _collector_client import bench_client_overhead

        print(bench_client_overhead(args.calls, args.reps))
        print()
    if args.part in ("candles", "all"):
        from _collector_candles import bench_candle_store

        pg: str | None = None
        if args.pg is not None or os.environ.get("JOURNAL_TEST_PG_URL"):
            from _common import pg_base_url

            given = args.pg if args.pg not in (None, "env") else None
            pg = given or os.environ.get("JOURNAL_TEST_PG_URL") or pg_base_url()
            os.environ["JOURNAL_BENCH_PG_URL"] = pg  # where pg_schema() makes its schemas
        print(bench_candle_store(args.candles, args.candle_reps, pg))


if __name__ == "__main__":
    main()
