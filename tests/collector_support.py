"""Shared by the collector client tests: a fake clock, the client on the fake, the method table."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt

from journal.collector.binance import BadResponse, HardenedBinanceFuturesClient
from journal.collector.fake_exchange import FakeBinance
from journal.resilience.breaker import CircuitBreakerManager
from journal.store.event_store import EventStore

SYMBOL = "SOL/USDT"
UNIFIED = "SOL/USDT:USDT"


class FakeTime:
    """A monotonic clock that only the client's sleeps move; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.by_task: list[tuple[str, float]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        task = asyncio.current_task()
        self.by_task.append((task.get_name() if task else "?", seconds))
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def make_client(fake: FakeBinance, t: FakeTime, **kw: Any) -> HardenedBinanceFuturesClient:
    """The client on the fake: no rate limiter, fake time, private breakers; timeouts of 2 s
    (a loaded machine must not time out by accident; stall tests pass a short one)."""
    args: dict[str, Any] = {
        "exchange_url": fake.base_url,
        "enable_rate_limit": False,
        "timeout_ms": 2000,
        "sleep": t.sleep,
        "clock": t.clock,
        "jitter": False,
        "breaker_manager": CircuitBreakerManager(),
    }
    args.update(kw)
    return HardenedBinanceFuturesClient(**args)


Call = Callable[[HardenedBinanceFuturesClient], Awaitable[Any]]

# (id, the path the fake sees, the breaker, the error type, the call)
METHODS: list[tuple[str, str, str, str, Call]] = [
    (
        "ohlcv",
        "/fapi/v1/klines",
        "binance_ohlcv",
        "api_ohlcv_error",
        lambda c: c.fetch_ohlcv(SYMBOL, "5m", limit=50),
    ),
    (
        "open_interest",
        "/fapi/v1/openInterest",
        "binance_oi",
        "api_oi_error",
        lambda c: c.fetch_open_interest(SYMBOL),
    ),
    (
        "open_interest_history",
        "/futures/data/openInterestHist",
        "binance_oi",
        "api_oi_error",
        lambda c: c.fetch_open_interest_history(SYMBOL, "5m", limit=30),
    ),
    (
        "funding_rate",
        "/fapi/v1/premiumIndex",
        "binance_funding",
        "api_funding_error",
        lambda c: c.fetch_funding_rate(SYMBOL),
    ),
    (
        "funding_rate_history",
        "/fapi/v1/fundingRate",
        "binance_funding",
        "api_funding_error",
        lambda c: c.fetch_funding_rate_history(SYMBOL, limit=20),
    ),
    (
        "ratio_global",
        "/futures/data/globalLongShortAccountRatio",
        "binance_trader_ratio",
        "api_trader_ratio_error",
        lambda c: c.fetch_trader_ratio(SYMBOL, "5m", "global_account", limit=30),
    ),
    (
        "ratio_top_account",
        "/futures/data/topLongShortAccountRatio",
        "binance_trader_ratio",
        "api_trader_ratio_error",
        lambda c: c.fetch_trader_ratio(SYMBOL, "5m", "top_account", limit=30),
    ),
    (
        "ratio_top_position",
        "/futures/data/topLongShortPositionRatio",
        "binance_trader_ratio",
        "api_trader_ratio_error",
        lambda c: c.fetch_trader_ratio(SYMBOL, "1h", "top_position", limit=30),
    ),
]

# fault kind -> the ccxt class the caller sees as the last failure (ours where we refine it)
EXPECTED: dict[str, type[BaseException]] = {
    "http429": ccxt.DDoSProtection,
    "http418": ccxt.DDoSProtection,
    "http500": ccxt.ExchangeNotAvailable,
    "http502": ccxt.ExchangeNotAvailable,
    "http503": ccxt.ExchangeNotAvailable,
    "http504": ccxt.RequestTimeout,
    "err-1003": ccxt.RateLimitExceeded,
    "err-1021": ccxt.InvalidNonce,
    "err-1000": ccxt.OperationFailed,
    "err-1001": ccxt.OperationFailed,
    "err-1008": ccxt.OperationFailed,
    "stall": ccxt.RequestTimeout,
    "stall-body": ccxt.RequestTimeout,
    "reset": ccxt.ExchangeNotAvailable,
    "close": ccxt.ExchangeNotAvailable,
    "malformed": BadResponse,
    "html200": BadResponse,
    "empty-body": BadResponse,
    "empty-array": BadResponse,
    "empty-object": BadResponse,
    "null": BadResponse,
}
# aiohttp repeats an idempotent GET once when the connection drops before any response
REQUESTS_PER_ATTEMPT = {"reset": 2, "close": 2}
FAULT_ARG: dict[str, Any] = {"stall": 5, "stall-body": 5, "http429": 3, "http418": 30}


def events(url: str, kinds: list[str], names: list[str] | None = None) -> list[Any]:
    """Events of ``kinds`` (and ``names``) in the journal at ``url``, in id order."""
    with EventStore(url) as store:
        return list(store.read(kinds=kinds, names=names))
