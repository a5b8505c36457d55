"""Collector benchmark, client part (run by bench_collector.py): what the hardened client costs per call on the success path.

``bench_client_overhead()``: bare ccxt ``binanceusdm`` (built by ``make_exchange``) vs
`HardenedBinanceFuturesClient` (breaker, retry, per-request response hook, validation into
records, journal configured on a SQLite file) against the same fake exchange on 127.0.0.1, in
the same event loop. Sequential calls, interleaved rounds (the order rotates each round),
median microseconds per call and the ratio hardened / bare, per endpoint. The fake's own time
is inside both figures, as the network would be. Both CPU time (``process_time``: this process
runs the client and the fake, and is what other processes on a shared machine disturb least)
and wall time are reported; the ratio is taken on CPU time.

    .venv/bin/python benchmarks/bench_collector.py [--calls 200] [--reps 7]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import med, spread, table

import journal
from journal.collector.binance import HardenedBinanceFuturesClient
from journal.collector.exchange import make_exchange
from journal.collector.fake_exchange import FakeBinance
from journal.resilience.breaker import CircuitBreakerManager

UNIFIED = "SOL/USDT:USDT"


def _endpoints(
    bare: Any, hardened: HardenedBinanceFuturesClient
) -> dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]]:
    return {
        "fetch_open_interest": (
            lambda: bare.fetch_open_interest(UNIFIED),
            lambda: hardened.fetch_open_interest(UNIFIED),
        ),
        "fetch_funding_rate": (
            lambda: bare.fetch_funding_rate(UNIFIED),
            lambda: hardened.fetch_funding_rate(UNIFIED),
        ),
        "fetch_ohlcv 5m x100": (
            lambda: bare.fetch_ohlcv(UNIFIED, "5m", None, 100),
            lambda: hardened.fetch_ohlcv(UNIFIED, "5m", limit=100),
        ),
        "fetch_ohlcv 5m x1000": (
            lambda: bare.fetch_ohlcv(UNIFIED, "5m", None, 1000),
            lambda: hardened.fetch_ohlcv(UNIFIED, "5m", limit=1000),
        ),
        "fetch_trader_ratio top_account x30": (
            lambda: bare.fapiDataGetTopLongShortAccountRatio(
                {"symbol": "SOLUSDT", "period": "5m", "limit": 30}
            ),
            lambda: hardened.fetch_trader_ratio(UNIFIED, "5m", "top_account", limit=30),
        ),
        # The same request, the bare side also parsing the rows the way ccxt's unified
        # long/short method does (``parse_long_short_ratio_history``: a structure per row, its
        # numbers parsed): the raw row above parses nothing, so it charges the hardened
        # client for turning strings into numbers while bare ccxt is not asked to.
        "fetch_trader_ratio top_account x30 (bare parses, as ccxt's unified method)": (
            lambda: _top_account_parsed(bare),
            lambda: hardened.fetch_trader_ratio(UNIFIED, "5m", "top_account", limit=30),
        ),
        "fetch_trader_ratio global_account x30": (
            lambda: bare.fetch_long_short_ratio_history(UNIFIED, "5m", None, 30),
            lambda: hardened.fetch_trader_ratio(UNIFIED, "5m", "global_account", limit=30),
        ),
    }


async def _top_account_parsed(bare: Any) -> Any:
    raw = await bare.fapiDataGetTopLongShortAccountRatio(
        {"symbol": "SOLUSDT", "period": "5m", "limit": 30}
    )
    return bare.parse_long_short_ratio_history(raw, bare.market(UNIFIED))


async def _per_call_us(fn: Callable[[], Awaitable[Any]], calls: int) -> tuple[float, float]:
    """(CPU, wall) microseconds per call."""
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.process_time() - c0) / calls * 1e6, (time.perf_counter() - t0) / calls * 1e6


async def _overhead(calls: int, reps: int) -> list[list[str]]:
    async with FakeBinance(symbols=("SOLUSDT",)) as fake:
        bare = make_exchange(base_url=fake.base_url, enable_rate_limit=False, timeout_ms=10_000)
        hardened = HardenedBinanceFuturesClient(
            exchange_url=fake.base_url,
            enable_rate_limit=False,
            breaker_manager=CircuitBreakerManager(),
        )
        try:
            await bare.load_markets()
            endpoints = _endpoints(bare, hardened)
            for b, h in endpoints.values():  # warm: markets, connections, caches
                for _ in range(5):
                    await b()
                    await h()
            rows = []
            for name, (b, h) in endpoints.items():
                cpu: dict[str, list[float]] = {"bare": [], "hardened": []}
                wall: dict[str, list[float]] = {"bare": [], "hardened": []}
                variants = [("bare", b), ("hardened", h)]
                for r in range(reps):
                    for label, fn in variants[r % 2 :] + variants[: r % 2]:
                        c, w = await _per_call_us(fn, calls)
                        cpu[label].append(c)
                        wall[label].append(w)
                cb, ch = med(cpu["bare"]), med(cpu["hardened"])
                wb, wh = med(wall["bare"]), med(wall["hardened"])
                rows.append(
                    [
                        name,
                        f"{cb:,.0f}",
                        f"{ch:,.0f}",
                        f"{ch - cb:+,.0f}",
                        f"{ch / cb:.3f}x",
                        f"{spread(cpu['bare']):.0%} / {spread(cpu['hardened']):.0%}",
                        f"{wb:,.0f} / {wh:,.0f} ({wh / wb:.2f}x)",
                    ]
                )
            return rows
        finally:
            await bare.close()
            await hardened.close()


def bench_client_overhead(calls: int = 200, reps: int = 7) -> str:
    """Per-call cost of the hardened client vs bare ccxt on the same fake (success path)."""
    with tempfile.TemporaryDirectory() as tmp:
        journal.configure(f"sqlite:///{tmp}/bench.db", source="bench:1")
        try:
            rows = asyncio.run(_overhead(calls, reps))
        finally:
            journal.shutdown(10)
    return f"### Hardened client vs bare ccxt ({calls} calls x {reps} rounds)\n\n" + table(
        [
            "endpoint",
            "bare CPU us/call",
            "hardened CPU us/call",
            "overhead us",
            "ratio",
            "spread (bare / hardened)",
            "wall us/call bare / hardened",
        ],
        rows,
    )
