"""The collection loop: one task per symbol and endpoint, every ``every_s`` seconds.

Each task fetches through the hardened client (breakers, retries, validation, journaling)
and hands the records to a sink (the buffered market writer). Nothing a task meets stops
the loop: a failure the client has journaled (``RetryError``, a ccxt error, a bad response)
is counted and the task waits for its next turn; an open breaker is skipped until it lets a
trial through; anything unexpected is journaled as ``collector_task_error`` and the task goes
on. Only cancellation (shutdown) ends a task.

Candles are fetched from the last stored one onward, so an outage leaves no hole: when the
exchange answers again the next fetch starts where the last good one ended and pages
forward (``limit`` candles a page). A hole the exchange itself cannot fill (it answered, but
the candles in between are not there) is journaled once as a ``candle_gap`` warning with its
range, and the collector moves past it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .records import Candle, FundingRate, MarketRecord, OpenInterest, TraderRatio

ENDPOINTS = ("ohlcv", "oi", "funding", "trader_ratio")
BREAKER_OF = {
    "ohlcv": "binance_ohlcv",
    "oi": "binance_oi",
    "funding": "binance_funding",
    "trader_ratio": "binance_trader_ratio",
}
# Binance's statistics endpoints (open interest history, long/short ratios) know these periods
RATIO_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
PAGE_LIMIT = 1000  # candles per klines request (Binance allows up to 1500)
MAX_PAGES_PER_TURN = 20  # catching up after a long outage: at most this many pages per turn


class MarketClient(Protocol):
    """What the loop needs from `HardenedBinanceFuturesClient`."""

    @property
    def breakers(self) -> dict[str, Any]: ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]: ...

    async def fetch_open_interest(self, symbol: str) -> OpenInterest: ...

    async def fetch_funding_rate(self, symbol: str) -> FundingRate: ...

    async def fetch_trader_ratio(
        self,
        symbol: str,
        period: str = "5m",
        kind: str = "global_account",
        since: int | None = None,
        limit: int | None = None,
    ) -> list[TraderRatio]: ...


def timeframe_ms(timeframe: str) -> int:
    """Milliseconds in a ccxt timeframe ("1m" -> 60000); ValueError on an unknown unit."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
    if len(timeframe) < 2 or timeframe[-1] not in units or not timeframe[:-1].isdigit():
        raise ValueError(f"bad timeframe {timeframe!r}")
    amount = int(timeframe[:-1])
    if amount < 1:
        raise ValueError(f"bad timeframe {timeframe!r}")
    return amount * units[timeframe[-1]] * 1000


def ratio_period(timeframe: str) -> str:
    """The statistics period closest to ``timeframe`` from above (Binance has no 1m ratios)."""
    want = timeframe_ms(timeframe)
    for p in RATIO_PERIODS:
        if timeframe_ms(p) >= want:
            return p
    return RATIO_PERIODS[-1]


@dataclass
class EndpointStatus:
    """The last outcome of one (symbol, endpoint) task."""

    symbol: str
    endpoint: str
    last_ok: float | None = None  # wall-clock seconds of the last successful fetch
    last_attempt: float | None = None
    last_error: str | None = None  # class name of the last failure, None after a success
    fetches: int = 0
    failures: int = 0
    records: int = 0


@dataclass
class CollectorStats:
    """Counts over the whole run."""

    turns: int = 0
    records: int = 0
    failures: int = 0
    gaps: int = 0
    unexpected: int = 0
    status: dict[tuple[str, str], EndpointStatus] = field(default_factory=dict)


class Collector:
    """Runs the fetch tasks until ``stop`` is set (or the tasks are cancelled)."""

    def __init__(
        self,
        client: MarketClient,
        symbols: Sequence[str],
        timeframe: str,
        every_s: float,
        sink: Callable[[Sequence[MarketRecord]], Any],
        *,
        endpoints: Sequence[str] = ENDPOINTS,
        backfill: int = 60,
        clock: Callable[[], float] = time.time,
        record_error: Callable[..., Any] | None = None,
    ) -> None:
        unknown = [e for e in endpoints if e not in ENDPOINTS]
        if unknown:
            raise ValueError(f"unknown endpoint(s) {unknown}: choose from {list(ENDPOINTS)}")
        if every_s <= 0:
            raise ValueError("every_s must be > 0")
        self.client = client
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.tf_ms = timeframe_ms(timeframe)
        self.period = ratio_period(timeframe)
        self.every_s = float(every_s)
        self.sink = sink
        self.endpoints = list(endpoints)
        self.backfill = max(1, int(backfill))
        self.clock = clock
        if record_error is None:
            import journal

            record_error = journal.record_error
        self._record_error = record_error
        self.stats = CollectorStats()
        for s in self.symbols:
            for e in self.endpoints:
                self.stats.status[(s, e)] = EndpointStatus(s, e)
        self._next_candle: dict[str, int] = {}  # symbol -> open time of the next candle to fetch
        self._next_ratio: dict[str, int] = {}

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Run every task until ``stop`` is set; then cancel them and return."""
        tasks = [
            asyncio.create_task(self._task(s, e, stop), name=f"collect:{s}:{e}")
            for s in self.symbols
            for e in self.endpoints
        ]
        try:
            await stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _task(self, symbol: str, endpoint: str, stop: asyncio.Event) -> None:
        status = self.stats.status[(symbol, endpoint)]
        while not stop.is_set():
            await self.turn(symbol, endpoint, status)
            delay = self._until_next_turn()
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass

    def _until_next_turn(self) -> float:
        """Seconds to the next multiple of ``every_s`` (plus a second, so candles have closed)."""
        now = self.clock()
        nxt = (
            math.floor(now / self.every_s) * self.every_s
            + self.every_s
            + min(1.0, self.every_s / 10)
        )
        return max(0.0, nxt - now)

    async def turn(self, symbol: str, endpoint: str, status: EndpointStatus | None = None) -> int:
        """One fetch of ``endpoint`` for ``symbol``; returns the records handed to the sink.

        Never raises (except cancellation): failures are counted, and journaled when the
        client has not done it already.
        """
        status = status or self.stats.status[(symbol, endpoint)]
        status.last_attempt = self.clock()
        self.stats.turns += 1
        try:
            records = await self._fetch(symbol, endpoint)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client journaled it (breaker, retry, error events)
            status.failures += 1
            status.last_error = type(exc).__name__
            self.stats.failures += 1
            if not _journaled_by_client(exc):
                self._unexpected(symbol, endpoint, exc)
            return 0
        status.fetches += 1
        status.last_ok = self.clock()
        status.last_error = None
        if records:
            try:
                self.sink(records)
            except Exception as exc:  # the sink never raises by contract; if it does, say so
                self._unexpected(symbol, endpoint, exc)
                return 0
            status.records += len(records)
            self.stats.records += len(records)
        return len(records)

    # ------------------------------------------------------------------ fetching

    async def _fetch(self, symbol: str, endpoint: str) -> list[MarketRecord]:
        if endpoint == "ohlcv":
            return list(await self._candles(symbol))
        if endpoint == "oi":
            return [await self.client.fetch_open_interest(symbol)]
        if endpoint == "funding":
            return [await self.client.fetch_funding_rate(symbol)]
        return list(await self._ratios(symbol))

    def _closed_before(self) -> int:
        """Open time of the newest candle that has closed by now (ms)."""
        now_ms = int(self.clock() * 1000)
        return (now_ms // self.tf_ms) * self.tf_ms - self.tf_ms

    async def _candles(self, symbol: str) -> list[Candle]:
        last_closed = self._closed_before()
        since = self._next_candle.get(symbol, last_closed - (self.backfill - 1) * self.tf_ms)
        out: list[Candle] = []
        for _ in range(MAX_PAGES_PER_TURN):
            if since > last_closed:
                break
            page = await self.client.fetch_ohlcv(
                symbol, self.timeframe, since=since, limit=PAGE_LIMIT
            )
            closed = [c for c in page if since <= c.ts <= last_closed]
            expected = since
            for c in closed:
                if c.ts > expected:
                    self._gap(symbol, expected, c.ts)
                expected = max(expected, c.ts + self.tf_ms)
            out.extend(closed)
            if not closed:  # nothing closed in range yet (or the exchange has none): wait
                break
            since = expected
            self._next_candle[symbol] = since  # progress is kept even if a later page fails
            if len(page) < PAGE_LIMIT:
                break
        return out

    async def _ratios(self, symbol: str) -> list[TraderRatio]:
        period_ms = timeframe_ms(self.period)
        since = self._next_ratio.get(symbol)
        rows = await self.client.fetch_trader_ratio(
            symbol, self.period, kind="global_account", since=since, limit=None if since else 30
        )
        if rows:
            self._next_ratio[symbol] = max(r.ts for r in rows) + period_ms
        return rows

    # ------------------------------------------------------------------ journaling

    def _gap(self, symbol: str, start: int, end: int) -> None:
        missing = (end - start) // self.tf_ms
        self.stats.gaps += 1
        from journal.events import iso

        self._record_error(
            "candle_gap",
            f"{symbol} {self.timeframe}: the exchange has no candles from "
            f"{iso(start * 1000)[:19]}Z to {iso(end * 1000)[:19]}Z ({missing} missing)",
            {
                "symbol": symbol,
                "timeframe": self.timeframe,
                "from_ms": start,
                "to_ms": end,
                "missing": missing,
            },
            "WARNING",
            name="binance_ohlcv",
        )

    def _unexpected(self, symbol: str, endpoint: str, exc: BaseException) -> None:
        self.stats.unexpected += 1
        self._record_error(
            "collector_task_error",
            exc,
            {"symbol": symbol, "endpoint": endpoint},
            "ERROR",
            name=BREAKER_OF.get(endpoint, "collector"),
        )


def _journaled_by_client(exc: BaseException) -> bool:
    """Errors the hardened client (or its breaker/retry) has already journaled."""
    from journal.errors import CircuitBreakerError, RetryError

    if isinstance(exc, (CircuitBreakerError, RetryError)):
        return True
    if getattr(exc, "journaled", False):
        return True
    module = type(exc).__module__
    return module.startswith(("ccxt", "journal.collector", "collector"))
