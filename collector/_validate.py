"""Checking what ccxt parsed, and turning it into records: pure functions, no IO.

ccxt does not raise for a malformed JSON body, an HTML page, an empty body, ``[]``, ``{}`` or
``null`` with status 200: it returns dicts of ``None`` or empty lists. Everything below checks
types, finite numbers, strictly increasing timestamps, OHLC sanity and the symbol, and raises
`BadResponse` (a ``ValueError``) naming the first problem.

When is an empty list wrong? (`rows_required`)
- without ``since`` the endpoint answers its latest rows: a listed symbol always has some;
- with ``since``, rows must exist once one whole period has passed since ``since``
  (candles, open-interest history, trader ratios: the period; funding history: 8 h, Binance's
  longest funding interval), unless ``since`` is older than the endpoint keeps
  (``/futures/data/*``: 30 days).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._faults import BadResponse
from .records import Candle, FundingRate, OpenInterest, TraderRatio

MINUTE_MS = 60_000
FUNDING_PERIOD_MS = 8 * 60 * MINUTE_MS
DATA_RETENTION_MS = 30 * 24 * 60 * MINUTE_MS  # /futures/data/* keep 30 days
_EARLIEST_MS = 1_500_000_000_000  # 2017-07: before any Binance futures data
_FUTURE_SLACK_MS = 24 * 60 * MINUTE_MS
_INF = math.inf

_UNITS = {
    "m": MINUTE_MS,
    "h": 60 * MINUTE_MS,
    "d": 24 * 60 * MINUTE_MS,
    "w": 7 * 24 * 60 * MINUTE_MS,
}


def period_ms(period: str) -> int:
    """Milliseconds of a ccxt timeframe such as "5m", "1h", "1d", "1w" (ValueError if not one)."""
    if len(period) >= 2 and period[:-1].isdigit() and period[-1] in _UNITS:
        n = int(period[:-1])
        if n > 0:
            return n * _UNITS[period[-1]]
    raise ValueError(f"not a timeframe: {period!r} (expected e.g. '5m', '1h', '1d')")


def rows_required(
    since: int | None, step_ms: int, now_ms: int, retention_ms: int | None = None
) -> bool:
    """Must a history request starting at ``since`` (None: the latest rows) return rows?"""
    if since is None:
        return True
    if retention_ms is not None and since < now_ms - retention_ms:
        return False
    return since + step_ms <= now_ms


def _bad(what: str, detail: str) -> BadResponse:
    return BadResponse(f"bad response from {what}: {detail}")


def _number(value: Any) -> float | None:
    """A finite float from a number or a numeric string, else None (bools are not numbers)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        return float(value)
    if isinstance(value, str):
        try:
            f = float(value)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _ts(value: Any, now_ms: int) -> int | None:
    """A plausible millisecond timestamp from an int (or a string of digits), else None."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if type(value) is not int:
        return None
    return value if _EARLIEST_MS <= value <= now_ms + _FUTURE_SLACK_MS else None


def _as_list(raw: Any, what: str, required: bool) -> Sequence[Any]:
    if not isinstance(raw, list):
        raise _bad(what, f"expected a list, got {type(raw).__name__}")
    if not raw and required:
        raise _bad(what, "empty list where rows must exist")
    return raw


def _increasing(ts: int, prev: int | None, what: str, i: int) -> None:
    if prev is not None and ts <= prev:
        raise _bad(what, f"row {i}: timestamp {ts} not after {prev}")


def candles(
    raw: Any, symbol: str, timeframe: str, *, required: bool, now_ms: int, what: str
) -> list[Candle]:
    """ccxt OHLCV rows ``[ts, o, h, l, c, v]`` -> candles, oldest first."""
    rows = _as_list(raw, what, required)
    out: list[Candle] = []
    append = out.append
    new = tuple.__new__  # a NamedTuple without its __new__'s argument handling: ~2x cheaper
    isfinite = math.isfinite
    latest = now_ms + _FUTURE_SLACK_MS
    prev = _EARLIEST_MS - 1
    for row in rows:
        # The hot loop (1,000 rows a call): ccxt gives int and float; anything else, or any
        # failed check, goes to `_candle_problem` for the message.
        try:
            ts, o, h, lo, c, v = row[:6]
            if not (
                type(ts) is int
                and prev < ts <= latest
                and type(o) is type(h) is type(lo) is type(c) is type(v) is float
                and isfinite(o + h + lo + c + v)
                and 0 < lo <= o <= h
                and lo <= c <= h
                and v >= 0
            ):
                raise ValueError
        except (TypeError, ValueError):
            raise _bad(what, _candle_problem(rows, now_ms)) from None
        prev = ts
        append(new(Candle, (symbol, timeframe, ts, o, h, lo, c, v)))
    return out


def _candle_problem(rows: Sequence[Any], now_ms: int) -> str:
    """Why a candle list failed the fast check (the slow, explicit way)."""
    prev: int | None = None
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) < 6:
            return f"row {i} is not [ts, open, high, low, close, volume]"
        ts = _ts(row[0], now_ms)
        if ts is None:
            return f"row {i}: bad timestamp {row[0]!r}"
        o, h, lo, c, v = (_number(x) for x in row[1:6])
        if o is None or h is None or lo is None or c is None or v is None:
            return f"row {i}: missing or non-finite OHLCV value"
        if type(row[1]) is not type(row[2]) or not all(type(x) is float for x in row[1:6]):
            return f"row {i}: OHLCV values are not floats: {row[1:6]!r}"
        if not (0 < lo <= min(o, c) and max(o, c) <= h) or v < 0:
            return f"row {i}: inconsistent candle o={o} h={h} l={lo} c={c} v={v}"
        if prev is not None and ts <= prev:
            return f"row {i}: timestamp {ts} not after {prev}"
        prev = ts
    return "unrecognised row"


def _check_symbol(item: Mapping[str, Any], symbol: str, what: str, key: str = "symbol") -> None:
    got = item.get(key)
    if got != symbol:
        raise _bad(what, f"symbol {got!r}, expected {symbol!r}")


def _dict(item: Any, what: str, i: int | None = None) -> Mapping[str, Any]:
    if type(item) is dict:  # what ccxt gives; the ABC check below costs ~10x more
        return item
    if not isinstance(item, Mapping):
        where = "" if i is None else f"row {i}: "
        raise _bad(what, f"{where}expected an object, got {type(item).__name__}")
    return item


def open_interest(raw: Any, symbol: str, period: str, *, now_ms: int, what: str) -> OpenInterest:
    """One ccxt open-interest structure -> record (``period`` "" for the current value)."""
    item = _dict(raw, what)
    _check_symbol(item, symbol, what)
    return _oi_record(item, symbol, period, now_ms, what, None)


def _oi_record(
    item: Mapping[str, Any], symbol: str, period: str, now_ms: int, what: str, i: int | None
) -> OpenInterest:
    where = "" if i is None else f"row {i}: "
    ts = _ts(item.get("timestamp"), now_ms)
    amount = _number(item.get("openInterestAmount"))
    if ts is None or amount is None or amount < 0:
        raise _bad(what, f"{where}missing or bad timestamp/openInterestAmount")
    raw_value = item.get("openInterestValue")
    value = _number(raw_value)
    if raw_value is not None and (value is None or value < 0):
        raise _bad(what, f"{where}bad openInterestValue {raw_value!r}")
    return OpenInterest(symbol, period, ts, amount, value)


def open_interest_history(
    raw: Any, symbol: str, period: str, *, required: bool, now_ms: int, what: str
) -> list[OpenInterest]:
    """ccxt open-interest history -> records, oldest first."""
    out: list[OpenInterest] = []
    prev: int | None = None
    for i, row in enumerate(_as_list(raw, what, required)):
        item = _dict(row, what, i)
        _check_symbol(item, symbol, what)
        rec = _oi_record(item, symbol, period, now_ms, what, i)
        _increasing(rec.ts, prev, what, i)
        prev = rec.ts
        out.append(rec)
    return out


def funding_rate(raw: Any, symbol: str, *, now_ms: int, what: str) -> FundingRate:
    """ccxt's funding-rate structure (premium index) -> record."""
    item = _dict(raw, what)
    _check_symbol(item, symbol, what)
    ts = _ts(item.get("timestamp"), now_ms)
    rate = _number(item.get("fundingRate"))
    if ts is None or rate is None:
        raise _bad(what, "missing or bad timestamp/fundingRate")
    raw_mark, raw_next = item.get("markPrice"), item.get("fundingTimestamp")
    mark = _number(raw_mark)
    if raw_mark is not None and (mark is None or mark <= 0):
        raise _bad(what, f"bad markPrice {raw_mark!r}")
    nxt = None if raw_next is None else _ts(raw_next, now_ms + FUNDING_PERIOD_MS)
    if raw_next is not None and nxt is None:
        raise _bad(what, f"bad fundingTimestamp {raw_next!r}")
    return FundingRate(symbol, ts, rate, mark, nxt)


def funding_rate_history(
    raw: Any, symbol: str, *, required: bool, now_ms: int, what: str
) -> list[FundingRate]:
    """ccxt funding-rate history -> records, oldest first."""
    out: list[FundingRate] = []
    prev: int | None = None
    for i, row in enumerate(_as_list(raw, what, required)):
        item = _dict(row, what, i)
        _check_symbol(item, symbol, what)
        ts = _ts(item.get("timestamp"), now_ms)
        rate = _number(item.get("fundingRate"))
        if ts is None or rate is None:
            raise _bad(what, f"row {i}: missing or bad timestamp/fundingRate")
        _increasing(ts, prev, what, i)
        prev = ts
        out.append(FundingRate(symbol, ts, rate, None, None))
    return out


def _share(value: Any, what: str, i: int, key: str) -> float | None:
    if value is None:
        return None
    share = _number(value)
    if share is None or not 0.0 <= share <= 1.0:
        raise _bad(what, f"row {i}: bad {key} {value!r}")
    return share


def trader_ratios(
    raw: Any,
    symbol: str,
    market_id: str,
    kind: str,
    period: str,
    *,
    unified: bool,
    required: bool,
    now_ms: int,
    what: str,
) -> list[TraderRatio]:
    """Long/short ratios -> records, oldest first.

    ``unified``: ccxt's long-short-ratio structures (symbol is the unified one; the account
    shares survive only in ``info``); else Binance's raw rows (strings, the market id).
    """
    rows = _as_list(raw, what, required)
    try:
        return _ratios_fast(rows, symbol, market_id, kind, period, unified, now_ms)
    except (TypeError, ValueError, KeyError):
        # Anything unusual (a missing share, a timestamp as a string, a bad value) takes the
        # explicit path: the same records for what it accepts, else the first problem.
        return _ratios_checked(rows, symbol, market_id, kind, period, unified, now_ms, what)


def _ratios_fast(
    rows: Sequence[Any],
    symbol: str,
    market_id: str,
    kind: str,
    period: str,
    unified: bool,
    now_ms: int,
) -> list[TraderRatio]:
    """The hot loop for what Binance and ccxt give (a dict per row, an int timestamp, the
    shares as strings, the ratio as a string or a float): exactly the records
    `_ratios_checked` makes of such rows; any other shape or value raises for it to judge."""
    out: list[TraderRatio] = []
    append = out.append
    new = tuple.__new__  # a NamedTuple without its __new__'s argument handling
    expected = symbol if unified else market_id
    latest = now_ms + _FUTURE_SLACK_MS
    prev = _EARLIEST_MS - 1
    for item in rows:
        src = item["info"] if unified else item
        ts, r = item["timestamp"], item["longShortRatio"]
        la, sa = src["longAccount"], src["shortAccount"]
        if not (
            type(item) is dict
            and type(src) is dict
            and item["symbol"] == expected
            and type(ts) is int
            and prev < ts <= latest
            and (type(r) is str or type(r) is float)
            and type(la) is str
            and type(sa) is str
        ):
            raise ValueError
        ratio, long_share, short_share = float(r), float(la), float(sa)
        # Comparisons are False for NaN, and the bounds exclude the infinities.
        if not (0.0 <= ratio < _INF and 0.0 <= long_share <= 1.0 and 0.0 <= short_share <= 1.0):
            raise ValueError
        prev = ts
        append(new(TraderRatio, (symbol, kind, period, ts, ratio, long_share, short_share)))
    return out


def _ratios_checked(
    rows: Sequence[Any],
    symbol: str,
    market_id: str,
    kind: str,
    period: str,
    unified: bool,
    now_ms: int,
    what: str,
) -> list[TraderRatio]:
    """Long/short ratios the slow, explicit way (every accepted shape; the first problem)."""
    out: list[TraderRatio] = []
    prev: int | None = None
    for i, row in enumerate(rows):
        item = _dict(row, what, i)
        if unified:
            _check_symbol(item, symbol, what)
            info = item.get("info")
            src: Mapping[str, Any] = info if isinstance(info, Mapping) else {}
        else:
            _check_symbol(item, market_id, what)
            src = item
        ts = _ts(item.get("timestamp"), now_ms)
        ratio = _number(item.get("longShortRatio"))
        if ts is None or ratio is None or ratio < 0:
            raise _bad(what, f"row {i}: missing or bad timestamp/longShortRatio")
        long_share = _share(src.get("longAccount"), what, i, "longAccount")
        short_share = _share(src.get("shortAccount"), what, i, "shortAccount")
        _increasing(ts, prev, what, i)
        prev = ts
        out.append(TraderRatio(symbol, kind, period, ts, ratio, long_share, short_share))
    return out
