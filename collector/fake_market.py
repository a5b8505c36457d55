"""The fake exchange's market data: Binance USD-M REST answers as a pure function of symbol and time.

``FakeMarket.answer(path, query, now_ms)`` returns the JSON body Binance would send for a public
market-data request, or raises ``ApiError`` with Binance's status, code and message. No IO and no
randomness beyond seeding by (symbol, interval, time): the same candle always has the same
numbers, whoever asks and whenever. Prices follow smooth week/day/hour waves around a typical
level per symbol; OHLC is consistent (low <= open, close <= high), volumes are positive, times
are aligned (weeks start on Monday), and only closed candles up to ``now`` are served.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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


class ApiError(Exception):
    """A Binance-style JSON error answer (status + code + msg)."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One symbol's typical price level, tick and step sizes, and open interest."""

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


def market_spec(symbol: str) -> MarketSpec:
    if not symbol.endswith("USDT") or not symbol.isalnum() or not symbol.isupper():
        raise ValueError(f"fake symbols are Binance ids ending in USDT, got {symbol!r}")
    crc = zlib.crc32(symbol.encode())
    price, tick, step, oi = _KNOWN.get(
        symbol, (1.0 + crc % 97, "0.0001", "1", 5e7 / (1 + crc % 97))
    )
    return MarketSpec(symbol, symbol[:-4], price, tick, step, oi, (crc % 6283) / 1000.0)


def _wave(spec: MarketSpec, t_ms: int, salt: float = 0.0) -> float:
    """A smooth deterministic signal in about [-1, 1] (week, day and hour components)."""
    p = spec.phase + salt
    return (
        0.6 * math.sin(2 * math.pi * t_ms / (7 * DAY_MS) + p)
        + 0.3 * math.sin(2 * math.pi * t_ms / DAY_MS + 2 * p)
        + 0.1 * math.sin(2 * math.pi * t_ms / HOUR_MS + 3 * p)
    )


def _price(spec: MarketSpec, t_ms: int) -> float:
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


def _kline(spec: MarketSpec, interval: str, t: int) -> list[Any]:
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


def _open_interest(spec: MarketSpec, t_ms: int) -> Decimal:
    steps = int(spec.oi * (1 + 0.15 * _wave(spec, t_ms, salt=1.7)) / float(spec.step))
    return Decimal(max(1, steps)) * Decimal(spec.step)


def _funding_rate(spec: MarketSpec, t_ms: int) -> str:
    return f"{0.0001 + 0.00015 * _wave(spec, t_ms, salt=0.9):.8f}"


def _ratio_row(spec: MarketSpec, t: int, salt: float) -> dict[str, Any]:
    long_share = 0.5 + 0.2 * _wave(spec, t, salt=salt)
    return {
        "symbol": spec.symbol,
        "longShortRatio": f"{long_share / (1 - long_share):.4f}",
        "longAccount": f"{long_share:.4f}",
        "shortAccount": f"{1 - long_share:.4f}",
        "timestamp": t,
    }


def _exchange_info_symbol(spec: MarketSpec) -> dict[str, Any]:
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


Endpoint = Callable[[dict[str, str], int], Any]


class FakeMarket:
    """Answers the public market-data endpoints for a fixed set of symbols."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self.specs: dict[str, MarketSpec] = {s: market_spec(s) for s in symbols}
        self.routes: dict[str, Endpoint] = {
            "/fapi/v1/time": self._time,
            "/fapi/v1/exchangeInfo": self._exchange_info,
            "/fapi/v1/klines": self._klines,
            "/fapi/v1/openInterest": self._open_interest,
            "/fapi/v1/premiumIndex": self._premium_index,
            "/fapi/v1/fundingRate": self._funding_rate,
            "/futures/data/openInterestHist": self._open_interest_hist,
            "/futures/data/globalLongShortAccountRatio": self._ratio_endpoint(0.3),
            "/futures/data/topLongShortAccountRatio": self._ratio_endpoint(2.1),
            "/futures/data/topLongShortPositionRatio": self._ratio_endpoint(4.4),
        }

    def answer(self, path: str, query: dict[str, str], now_ms: int) -> Any:
        """The JSON-able body for ``path``; KeyError for an unknown path, ApiError for bad input."""
        return self.routes[path](query, now_ms)

    def _symbol(self, query: dict[str, str], required: bool = True) -> MarketSpec | None:
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

    def _history(self, query: dict[str, str], now: int) -> tuple[MarketSpec, list[int]]:
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

    def _ratio_endpoint(self, salt: float) -> Endpoint:
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
