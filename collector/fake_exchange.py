"""A local, fault-injecting fake of the Binance USD-M REST API, for driving the real ccxt client.

``FakeBinance`` is an aiohttp server that runs in the caller's event loop (no threads) on
127.0.0.1. It serves the public market-data endpoints the collector uses with deterministic,
plausible data (a pure function of symbol and time: the same candle always has the same numbers),
and injects faults on demand, on a time schedule, or from a named profile::

    async with FakeBinance() as fake:
        ex = make_exchange(base_url=fake.base_url, enable_rate_limit=False, timeout_ms=500)
        fake.inject("/fapi/v1/klines", "http429", times=2, arg=3)
        ...

What each fault kind does, and what ccxt 4.5.90 raises for it (client built by
``journal.collector.exchange.make_exchange``; see tests/test_fake_exchange.py):

======================  ====================================================  ======================
kind                    response                                              ccxt raises
======================  ====================================================  ======================
http429                 429, ``Retry-After: arg`` (7), ``{"code":-1003}``     DDoSProtection
http418                 418, ``Retry-After: arg`` (120), ``{"code":-1003}``   DDoSProtection
http500/502/503         that status, HTML page                                ExchangeNotAvailable
http504                 504, HTML page                                        RequestTimeout
err-1003                400 ``{"code":-1003}`` (the in-body shape)            RateLimitExceeded
err-1021                400 ``{"code":-1021}`` (timestamp outside recvWindow)  InvalidNonce
err-1000                500 ``{"code":-1000}`` (unknown error)                OperationFailed
err-1001                503 ``{"code":-1001}`` (internal disconnect)          OperationFailed
err-1008                503 ``{"code":-1008}`` (server overloaded)            OperationFailed
stall                   sleeps ``arg`` s (30) before the headers              RequestTimeout
stall-body              headers, then sleeps ``arg`` s (30) before the body   RequestTimeout
reset                   TCP RST (SO_LINGER 0) without a response              ExchangeNotAvailable*
close                   closes the connection without a response              ExchangeNotAvailable*
malformed               200 application/json, the real body truncated         nothing: garbage result
html200                 200 text/html page                                    nothing: garbage result
empty-body              200 application/json, no bytes                        nothing: empty result
empty-array/-object     200 ``[]`` / ``{}``                                   nothing: empty result
null                    200 ``null``                                          nothing: empty result
======================  ====================================================  ======================

\\* aiohttp transparently retries an idempotent GET once when the connection drops before a
response, so a single ``reset`` or ``close`` never surfaces (the fake records two requests).
Inject it with ``times=2`` or more (or ``None``) to see the exception.

Real Binance sends -1003 with a 429 or 418 status, which ccxt maps by status before the code;
``err-1003`` is the 400-with-code shape ccxt maps by code. -1008 maps to ``OperationFailed`` only
through the ``get_exceptions_by_url`` seam in ``make_exchange`` (production's linear table).

Faults are chosen per request in this order: injected (``inject``; the path's own, then ``"*"``),
time windows (``add_window``), then the profile (``set_profile``). Windows and the profile use
the fake's ``clock`` relative to ``start()``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import signal
import socket
import struct
import sys
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, NamedTuple

from aiohttp import web

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
FUNDING_MS = 8 * HOUR_MS

KLINE_INTERVALS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}
# The /futures/data/* endpoints accept fewer periods than klines.
DATA_PERIODS: dict[str, int] = {
    k: KLINE_INTERVALS[k] for k in ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
}
_WEEK_OFFSET_MS = 4 * DAY_MS  # Binance's weeks start on Monday; 1970-01-01 was a Thursday

FAULT_KINDS: tuple[str, ...] = (
    "http429",
    "http418",
    "http500",
    "http502",
    "http503",
    "http504",
    "err-1003",
    "err-1021",
    "err-1000",
    "err-1001",
    "err-1008",
    "stall",
    "stall-body",
    "reset",
    "close",
    "malformed",
    "html200",
    "empty-body",
    "empty-array",
    "empty-object",
    "null",
)

PROFILES: dict[str, str] = {
    "calm": "no faults",
    "chaos": "seeded random faults of every kind on every endpoint (rate 0.2, stalls 1.5 s)",
    "demo": (
        "occasional 429s (Retry-After 1) and malformed bodies on every endpoint (rate 0.05), and "
        "/fapi/v1/openInterest answers 503 HTML for seconds 8-22 of every minute after start"
    ),
}

# status, body for the JSON error kinds
_ERROR_BODIES: dict[str, tuple[int, int, str]] = {
    "err-1003": (
        400,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.",
    ),
    "err-1021": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "err-1000": (500, -1000, "An unknown error occured while processing the request."),
    "err-1001": (503, -1001, "Internal error; unable to process your request. Please try again."),
    "err-1008": (
        503,
        -1008,
        "Server is currently overloaded with other requests. Please try again in a few minutes.",
    ),
}
_HTML_STATUS = {"http500": 500, "http502": 502, "http503": 503, "http504": 504}
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class RecordedRequest(NamedTuple):
    """One request the fake received, and the fault it got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float  # the fake's clock, seconds
    fault: str | None = None  # the fault kind this request got, if any


@dataclass(slots=True)
class _Injection:
    path: str
    kind: str
    remaining: int | None  # None = until cleared
    arg: float | int | str | None


@dataclass(frozen=True, slots=True)
class Window:
    """A fault that fires on ``path`` while ``start_s <= t < end_s`` (t = seconds since start)."""

    path: str
    kind: str
    start_s: float
    end_s: float
    every_s: float | None = None  # repeat period; None = once
    arg: float | int | str | None = None

    def active(self, elapsed_s: float) -> bool:
        t = elapsed_s % self.every_s if self.every_s else elapsed_s
        return self.start_s <= t < self.end_s


class ApiError(Exception):
    """A Binance-style JSON error answer (status + code + msg)."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")


# ---------------------------------------------------------------------------------------------
# Deterministic market data: a pure function of (symbol, time)


@dataclass(frozen=True, slots=True)
class _Spec:
    symbol: str
    base: str
    price: float
    tick: str  # price tick, e.g. "0.10"
    step: str  # quantity step
    oi: float  # typical open interest, contracts
    phase: float

    @property
    def price_precision(self) -> int:
        return max(0, -Decimal(self.tick).normalize().as_tuple().exponent)  # type: ignore[operator]

    @property
    def qty_precision(self) -> int:
        return max(0, -Decimal(self.step).normalize().as_tuple().exponent)  # type: ignore[operator]


_KNOWN: dict[str, tuple[float, str, str, float]] = {
    "BTCUSDT": (65_000.0, "0.10", "0.001", 80_000.0),
    "ETHUSDT": (3_200.0, "0.01", "0.001", 2_000_000.0),
    "SOLUSDT": (150.0, "0.0100", "1", 9_000_000.0),
}


def _spec(symbol: str) -> _Spec:
    if not symbol.endswith("USDT") or not symbol.isalnum() or not symbol.isupper():
        raise ValueError(f"fake symbols are Binance ids ending in USDT, got {symbol!r}")
    crc = zlib.crc32(symbol.encode())
    price, tick, step, oi = _KNOWN.get(
        symbol, (1.0 + crc % 97, "0.0001", "1", 5e7 / (1 + crc % 97))
    )
    return _Spec(symbol, symbol[:-4], price, tick, step, oi, (crc % 6283) / 1000.0)


def _wave(spec: _Spec, t_ms: int, salt: float = 0.0) -> float:
    """A smooth deterministic signal in about [-1, 1] (week, day and hour components)."""
    p = spec.phase + salt
    return (
        0.6 * math.sin(2 * math.pi * t_ms / (7 * DAY_MS) + p)
        + 0.3 * math.sin(2 * math.pi * t_ms / DAY_MS + 2 * p)
        + 0.1 * math.sin(2 * math.pi * t_ms / HOUR_MS + 3 * p)
    )


def _price(spec: _Spec, t_ms: int) -> float:
    return spec.price * math.exp(0.08 * _wave(spec, t_ms))


def _fmt(ticks: int, unit: str) -> str:
    return str(Decimal(ticks) * Decimal(unit))


def _align_down(t_ms: int, step_ms: int) -> int:
    offset = _WEEK_OFFSET_MS if step_ms == KLINE_INTERVALS["1w"] else 0
    return t_ms - (t_ms - offset) % step_ms


def _series(step_ms: int, last: int, start: int | None, end: int | None, limit: int) -> list[int]:
    """Aligned times no later than ``last``/``end``: from ``start`` forward, else the latest."""
    if end is not None:
        last = min(last, _align_down(end, step_ms))
    if start is not None:
        first = _align_down(start, step_ms)
        if first < start:
            first += step_ms
        return list(range(first, last + 1, step_ms))[:limit] if first <= last else []
    return [last - i * step_ms for i in range(limit - 1, -1, -1)]


def _kline(spec: _Spec, interval: str, t: int) -> list[Any]:
    iv = KLINE_INTERVALS[interval]
    rng = random.Random(f"{spec.symbol}|{interval}|{t}")
    tick = float(spec.tick)
    o = max(1, round(_price(spec, t) / tick))
    c = max(1, round(_price(spec, t + iv) / tick))
    wiggle = spec.price * 0.0015 * math.sqrt(iv / MINUTE_MS) / tick
    h = max(o, c) + int(rng.random() * wiggle)
    lo = max(1, min(o, c) - int(rng.random() * wiggle))
    step = Decimal(spec.step)
    base_vol = spec.oi * 0.002 * (iv / MINUTE_MS) * (0.5 + rng.random())
    vol_steps = max(1, int(Decimal(repr(base_vol)) / step))
    volume = Decimal(vol_steps) * step
    avg = (Decimal(o) + Decimal(c)) / 2 * Decimal(spec.tick)
    quote = (volume * avg).quantize(Decimal("0.00001"))
    taker = Decimal(int(vol_steps * (0.3 + 0.4 * rng.random()))) * step
    return [
        t,
        _fmt(o, spec.tick),
        _fmt(h, spec.tick),
        _fmt(lo, spec.tick),
        _fmt(c, spec.tick),
        str(volume),
        t + iv - 1,
        str(quote),
        int(vol_steps // 3) + 1,
        str(taker),
        str((taker * avg).quantize(Decimal("0.00001"))),
        "0",
    ]


def _open_interest(spec: _Spec, t_ms: int) -> Decimal:
    steps = int(spec.oi * (1 + 0.15 * _wave(spec, t_ms, salt=1.7)) / float(spec.step))
    return Decimal(max(1, steps)) * Decimal(spec.step)


def _funding_rate(spec: _Spec, t_ms: int) -> str:
    return f"{0.0001 + 0.00015 * _wave(spec, t_ms, salt=0.9):.8f}"


def _ratio_row(spec: _Spec, t: int, salt: float) -> dict[str, Any]:
    long_share = 0.5 + 0.2 * _wave(spec, t, salt=salt)
    return {
        "symbol": spec.symbol,
        "longShortRatio": f"{long_share / (1 - long_share):.4f}",
        "longAccount": f"{long_share:.4f}",
        "shortAccount": f"{1 - long_share:.4f}",
        "timestamp": t,
    }


def _exchange_info_symbol(spec: _Spec) -> dict[str, Any]:
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.qty_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": spec.tick,
                "maxPrice": str(Decimal(spec.tick) * 10**7),
                "tickSize": spec.tick,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": spec.step,
                "maxQty": "1000000",
                "stepSize": spec.step,
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": spec.step,
                "maxQty": "100000",
                "stepSize": spec.step,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
    }


# ---------------------------------------------------------------------------------------------
# The server


Handler = Callable[[dict[str, str], int], Any]


class FakeBinance:
    """The fake exchange: ``async with FakeBinance() as fake: ... fake.base_url``."""

    def __init__(
        self,
        symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"),
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        profile: str | None = None,
    ) -> None:
        self.specs: dict[str, _Spec] = {s: _spec(s) for s in symbols}
        self.seed = seed
        self.clock = clock
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self.started_at: float | None = None
        self.cancelled_handlers = 0  # handlers cancelled mid-stall (client gone or shutdown)
        self.stalls_finished = 0  # stalls that slept their full time
        self._injections: list[_Injection] = []
        self._windows: list[Window] = []
        self._profile = "calm"
        self._profile_rate = 0.0
        self._profile_kinds: tuple[str, ...] = ()
        self._stall_s = 1.5
        self._rngs: dict[str, random.Random] = {}
        self._runner: web.AppRunner | None = None
        self._routes: dict[str, Handler] = {
            "/fapi/v1/time": self._time,
            "/fapi/v1/exchangeInfo": self._exchange_info,
            "/fapi/v1/klines": self._klines,
            "/fapi/v1/openInterest": self._open_interest,
            "/fapi/v1/premiumIndex": self._premium_index,
            "/fapi/v1/fundingRate": self._funding_rate,
            "/futures/data/openInterestHist": self._open_interest_hist,
            "/futures/data/globalLongShortAccountRatio": self._ratio_handler(0.3),
            "/futures/data/topLongShortAccountRatio": self._ratio_handler(2.1),
            "/futures/data/topLongShortPositionRatio": self._ratio_handler(4.4),
        }
        self.set_profile(profile or "calm")

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("FakeBinance already started")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(
            app, handle_signals=False, handler_cancellation=True, shutdown_timeout=0.25
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()
        self.base_url = f"http://{host}:{bound[1]}"
        self.started_at = self.clock()
        return self.base_url

    async def stop(self) -> None:
        """Stop listening; handlers still stalled are cancelled after a short grace period."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBinance:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- introspection -----------------------------------------------------------------------

    def count(self, path: str | None = None) -> int:
        """How many requests reached ``path`` (all paths with None or "*")."""
        if path in (None, "*"):
            return len(self.requests)
        return sum(1 for r in self.requests if r.path == path)

    def elapsed(self) -> float:
        """Seconds since ``start()`` on the fake's clock (0 before start)."""
        return 0.0 if self.started_at is None else self.clock() - self.started_at

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        path: str,
        kind: str,
        times: int | None = 1,
        arg: float | int | str | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` ("*" = any; None = until cleared) get ``kind``."""
        _check_kind(kind)
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        self._injections.append(_Injection(path, kind, times, arg))

    def clear_faults(self, path: str | None = None) -> None:
        """Drop injected faults and windows for ``path`` (all of them with None)."""
        if path is None:
            self._injections.clear()
            self._windows.clear()
        else:
            self._injections = [i for i in self._injections if i.path != path]
            self._windows = [w for w in self._windows if w.path != path]

    def add_window(
        self,
        path: str,
        kind: str,
        start_s: float,
        end_s: float,
        every_s: float | None = None,
        arg: float | int | str | None = None,
    ) -> Window:
        """Fault ``kind`` on ``path`` for seconds [start_s, end_s) after start, every ``every_s``."""
        _check_kind(kind)
        if not 0 <= start_s < end_s or (every_s is not None and every_s < end_s):
            raise ValueError(f"bad window [{start_s}, {end_s}) every {every_s}")
        window = Window(path, kind, start_s, end_s, every_s, arg)
        self._windows.append(window)
        return window

    @property
    def windows(self) -> tuple[Window, ...]:
        return tuple(self._windows)

    @property
    def profile(self) -> str:
        return self._profile

    def set_profile(
        self, name: str, *, rate: float | None = None, stall_s: float | None = None
    ) -> None:
        """Switch to profile ``name`` (see PROFILES); ``rate``/``stall_s`` tune "chaos"/"demo"."""
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        self._windows = [w for w in self._windows if w not in _demo_windows()]
        self._rngs.clear()
        self._profile = name
        if name == "calm":
            self._profile_rate, self._profile_kinds = 0.0, ()
        elif name == "chaos":
            self._profile_rate, self._profile_kinds = 0.2, FAULT_KINDS
        else:
            self._profile_rate, self._profile_kinds = 0.05, ("http429", "malformed")
            self._windows.extend(_demo_windows())
        if rate is not None:
            self._profile_rate = rate
        if stall_s is not None:
            self._stall_s = stall_s

    def _pick_fault(self, path: str) -> tuple[str, float | int | str | None] | None:
        for want in (path, "*"):
            for inj in self._injections:
                if inj.path == want:
                    if inj.remaining is not None:
                        inj.remaining -= 1
                        if inj.remaining == 0:
                            self._injections.remove(inj)
                    return inj.kind, inj.arg
        elapsed = self.elapsed()
        for w in self._windows:
            if w.path in (path, "*") and w.active(elapsed):
                return w.kind, w.arg
        if self._profile_rate > 0 and self._profile_kinds:
            # One generator per path: the sequence a path sees depends only on the seed and how
            # many requests that path had, not on how requests to different paths interleave.
            rng = self._rngs.setdefault(path, random.Random(f"{self.seed}|{path}"))
            if rng.random() < self._profile_rate:
                kind = rng.choice(self._profile_kinds)
                if kind in ("stall", "stall-body"):
                    return kind, self._stall_s
                if kind in ("http429", "http418"):
                    return kind, 1
                return kind, None
        return None

    # -- request handling --------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        fault = self._pick_fault(request.path)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                query,
                dict(request.headers),
                self.clock(),
                None if fault is None else fault[0],
            )
        )
        if fault is None:
            return self._answer(request.path, query)
        kind, arg = fault
        return await self._fault(request, kind, arg)

    def _answer(self, path: str, query: dict[str, str]) -> web.Response:
        handler = self._routes.get(path)
        if handler is None:
            return web.Response(
                status=404,
                text="<html><body><h2>404 Not found</h2></body></html>",
                content_type="text/html",
            )
        try:
            body = handler(query, int(self.clock() * 1000))
        except ApiError as err:
            return _json_error(err.status, err.code, err.msg)
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def _fault(
        self, request: web.Request, kind: str, arg: float | int | str | None
    ) -> web.StreamResponse:
        if kind in ("http429", "http418"):
            status = 429 if kind == "http429" else 418
            retry_after = str(arg if arg is not None else (7 if status == 429 else 120))
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."
                if status == 429
                else "Way too many requests; IP(127.0.0.1) banned. Please use the websocket."
            )
            resp = _json_error(status, -1003, msg)
            resp.headers["Retry-After"] = retry_after
            return resp
        if kind in _HTML_STATUS:
            status = _HTML_STATUS[kind]
            return web.Response(status=status, text=_html(status), content_type="text/html")
        if kind in _ERROR_BODIES:
            status, code, msg = _ERROR_BODIES[kind]
            return _json_error(status, code, msg)
        if kind == "stall":
            await self._stall(float(arg) if arg is not None else 30.0)
            return self._answer(request.path, dict(request.query))
        if kind == "stall-body":
            stream = web.StreamResponse(headers={"Content-Type": "application/json"})
            await stream.prepare(request)
            await self._stall(float(arg) if arg is not None else 30.0)
            await stream.write(_body_bytes(self._answer(request.path, dict(request.query))))
            await stream.write_eof()
            return stream
        if kind in ("reset", "close"):
            _drop(request, rst=kind == "reset")
            # aiohttp sends nothing on a closed transport; the response below is never written.
            return web.Response(status=500)
        return self._garbage(request, kind)

    async def _stall(self, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.cancelled_handlers += 1
            raise
        self.stalls_finished += 1

    def _garbage(self, request: web.Request, kind: str) -> web.Response:
        if kind == "malformed":
            text = _body_bytes(self._answer(request.path, dict(request.query))).decode()
            return web.Response(
                text=text[: max(1, len(text) // 2)], content_type="application/json"
            )
        if kind == "html200":
            return web.Response(
                text="<html><head><title>Binance</title></head><body>Welcome</body></html>",
                content_type="text/html",
            )
        bodies = {"empty-body": "", "empty-array": "[]", "empty-object": "{}", "null": "null"}
        return web.Response(text=bodies[kind], content_type="application/json")

    # -- endpoints (pure: query + now in ms -> JSON-able body, or ApiError) --------------------

    def _symbol(self, query: dict[str, str], required: bool = True) -> _Spec | None:
        symbol = query.get("symbol")
        if not symbol:
            if required:
                raise ApiError(
                    400,
                    -1102,
                    "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                )
            return None
        spec = self.specs.get(symbol)
        if spec is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return spec

    def _time(self, query: dict[str, str], now: int) -> Any:
        return {"serverTime": now}

    def _exchange_info(self, query: dict[str, str], now: int) -> Any:
        return {
            "timezone": "UTC",
            "serverTime": now,
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {
                    "rateLimitType": "ORDERS",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 1200,
                },
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [_exchange_info_symbol(s) for s in self.specs.values()],
        }

    def _klines(self, query: dict[str, str], now: int) -> Any:
        spec = self._symbol(query)
        assert spec is not None
        interval = query.get("interval", "")
        if interval not in KLINE_INTERVALS:
            raise ApiError(400, -1120, "Invalid interval.")
        limit = _int_param(query, "limit", 500, 1500)
        iv = KLINE_INTERVALS[interval]
        last_closed = _align_down(now - iv, iv)
        times = _series(
            iv, last_closed, _opt_int(query, "startTime"), _opt_int(query, "endTime"), limit
        )
        return [_kline(spec, interval, t) for t in times]

    def _open_interest(self, query: dict[str, str], now: int) -> Any:
        spec = self._symbol(query)
        assert spec is not None
        return {"symbol": spec.symbol, "openInterest": str(_open_interest(spec, now)), "time": now}

    def _history(self, query: dict[str, str], now: int) -> tuple[_Spec, list[int]]:
        spec = self._symbol(query)
        assert spec is not None
        period = query.get("period", "")
        if period not in DATA_PERIODS:
            raise ApiError(400, -1120, "Invalid period.")
        limit = _int_param(query, "limit", 30, 500)
        step = DATA_PERIODS[period]
        times = _series(
            step,
            _align_down(now, step),
            _opt_int(query, "startTime"),
            _opt_int(query, "endTime"),
            limit,
        )
        return spec, times

    def _open_interest_hist(self, query: dict[str, str], now: int) -> Any:
        spec, times = self._history(query, now)
        rows = []
        for t in times:
            oi = _open_interest(spec, t)
            rows.append(
                {
                    "symbol": spec.symbol,
                    "sumOpenInterest": f"{oi:.8f}",
                    "sumOpenInterestValue": f"{oi * Decimal(repr(_price(spec, t))):.8f}",
                    "CMCCirculatingSupply": "0",
                    "timestamp": t,
                }
            )
        return rows

    def _ratio_handler(self, salt: float) -> Handler:
        def handler(query: dict[str, str], now: int) -> Any:
            spec, times = self._history(query, now)
            return [_ratio_row(spec, t, salt) for t in times]

        return handler

    def _premium_index(self, query: dict[str, str], now: int) -> Any:
        spec = self._symbol(query, required=False)
        specs = [spec] if spec is not None else list(self.specs.values())
        rows = []
        for s in specs:
            mark = _price(s, now)
            digits = s.price_precision + 2
            next_funding = _align_down(now, FUNDING_MS) + FUNDING_MS
            rows.append(
                {
                    "symbol": s.symbol,
                    "markPrice": f"{mark:.{digits}f}",
                    "indexPrice": f"{mark * 0.9998:.{digits}f}",
                    "estimatedSettlePrice": f"{mark * 0.9999:.{digits}f}",
                    "lastFundingRate": _funding_rate(s, next_funding),
                    "interestRate": "0.00010000",
                    "nextFundingTime": next_funding,
                    "time": now,
                }
            )
        return rows[0] if spec is not None else rows

    def _funding_rate(self, query: dict[str, str], now: int) -> Any:
        spec = self._symbol(query, required=False)
        specs = [spec] if spec is not None else list(self.specs.values())
        limit = _int_param(query, "limit", 100, 1000)
        times = _series(
            FUNDING_MS,
            _align_down(now, FUNDING_MS),
            _opt_int(query, "startTime"),
            _opt_int(query, "endTime"),
            limit,
        )
        rows = [
            {
                "symbol": s.symbol,
                "fundingTime": t,
                "fundingRate": _funding_rate(s, t),
                "markPrice": f"{_price(s, t):.{s.price_precision + 2}f}",
            }
            for t in times
            for s in specs
        ]
        return rows[-limit:] if spec is None else rows


def _demo_windows() -> list[Window]:
    return [Window("/fapi/v1/openInterest", "http503", 8.0, 22.0, 60.0)]


def _opt_int(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        ) from None


def _int_param(query: dict[str, str], name: str, default: int, maximum: int) -> int:
    value = _opt_int(query, name)
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise ApiError(400, -1130, f"Data sent for parameter '{name}' is not valid.")
    return value


def _body_bytes(response: web.Response) -> bytes:
    body = response.body
    return body if isinstance(body, bytes) else b"{}"


def _json_error(status: int, code: int, msg: str) -> web.Response:
    return web.Response(
        status=status, text=json.dumps({"code": code, "msg": msg}), content_type="application/json"
    )


def _html(status: int) -> str:
    reason = _REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )


def _drop(request: web.Request, *, rst: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    if rst:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


# ---------------------------------------------------------------------------------------------
# CLI: python -m journal.collector.fake_exchange --port 0 --profile demo


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m journal.collector.fake_exchange",
        description="Run the fault-injecting fake Binance USD-M exchange on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--profile", default="calm", choices=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--symbols", default="BTCUSDT,ETHUSDT,SOLUSDT", help="comma-separated Binance ids"
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace, ready: Callable[[str], Awaitable[None] | None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    fake = FakeBinance(
        [s for s in args.symbols.split(",") if s], seed=args.seed, profile=args.profile
    )
    await fake.start(args.host, args.port)
    try:
        result = ready(fake.base_url)
        if result is not None:
            await result
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; print the base URL as the first line of stdout."""
    args = _parse_args(argv)

    def ready(url: str) -> None:
        print(url, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())
