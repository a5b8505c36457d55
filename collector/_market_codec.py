"""Market records made safe to queue, spool and store: `normalise` and the spool codec.

`normalise` is the gate in front of the market writer's queue: a record comes out with exact
types (``str``, ``int`` ms, finite ``float`` or None where the table allows NULL), strings that
fit their columns and need no escaping (printable, no backslash), and times in range; anything
else raises `ValueError` with a reason a person can act on, and the writer sets the record
aside in the dead letters. The common case (a ccxt-parsed record, already exact) costs one
tuple unpack and a few type checks.

`MARKET_CODEC` spools a record as the JSON array ``[table, *fields]`` and decodes it back
through `normalise`, so a line that is not a valid record is quarantined, never stored.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

from journal.store.schema import KIND_LENGTH, PERIOD_LENGTH, SYMBOL_LENGTH
from journal.writing.spool import RecordCodec, frame

from .records import (
    TRADER_RATIO_KINDS,
    Candle,
    FundingRate,
    MarketRecord,
    OpenInterest,
    TraderRatio,
)

MAX_TS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z in ms: what a bigint ms column means
_KINDS = frozenset(TRADER_RATIO_KINDS)

# Strings already checked, one set per column width (symbols and periods are few): a set lookup
# instead of four checks. Never holds "" (checked every time). Bounded: cleared when full.
_good_symbols: set[str] = set()
_good_periods: set[str] = set()
_good_kinds: set[str] = set()
_GOOD_TEXT_MAX = 10_000


def _text(value: object, what: str, limit: int, good: set[str], *, empty: bool = False) -> str:
    if type(value) is not str:
        if isinstance(value, str):
            value = str.__str__(value)
        else:
            raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    assert isinstance(value, str)
    if value in good:
        return value
    if not value:
        if empty:
            return value
        raise ValueError(f"{what} is empty")
    if len(value) > limit:
        raise ValueError(f"{what} is {len(value)} characters long (at most {limit})")
    if not value.isprintable() or "\\" in value:
        raise ValueError(f"{what} {value!r} holds a control character or a backslash")
    if len(good) >= _GOOD_TEXT_MAX:
        good.clear()
    good.add(value)
    return value


def _ms(value: object, what: str) -> int:
    if type(value) is int:
        ms = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{what} {value!r} is not a whole number of milliseconds")
        ms = int(value)
    elif isinstance(value, bool):
        raise ValueError(f"{what} must be milliseconds, not a bool")
    else:
        try:
            ms = operator.index(value)  # type: ignore[arg-type]  # numpy ints and the like
        except TypeError:
            raise ValueError(
                f"{what} must be milliseconds (an int), not {type(value).__name__}"
            ) from None
    if not 0 <= ms <= MAX_TS:
        raise ValueError(f"{what} {ms} is out of range (0..{MAX_TS} ms)")
    return ms


def _num(value: object, what: str) -> float:
    if type(value) is float:
        f = value
    elif isinstance(value, bool | str | bytes) or value is None:
        raise ValueError(f"{what} must be a number, not {type(value).__name__}")
    else:
        try:
            f = float(value)  # type: ignore[arg-type]  # int, Decimal, numpy floats
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{what} must be a number, not {type(value).__name__}") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} is {f!r} (must be finite)")
    return f


def _opt_num(value: object, what: str) -> float | None:
    return None if value is None else _num(value, what)


def _candle(r: Candle) -> Candle:
    s, tf, ts, o, h, lo, c, v = r
    if (
        type(o) is float
        and type(h) is float
        and type(lo) is float
        and type(c) is float
        and type(v) is float
        and type(ts) is int
        and 0 <= ts <= MAX_TS
        and math.isfinite(o + h + lo + c + v)
        and s in _good_symbols
        and tf in _good_periods
    ):
        return r  # exact already (the common case)
    return tuple.__new__(
        Candle,
        (
            _text(s, "symbol", SYMBOL_LENGTH, _good_symbols),
            _text(tf, "timeframe", PERIOD_LENGTH, _good_periods),
            _ms(ts, "ts"),
            _num(o, "open"),
            _num(h, "high"),
            _num(lo, "low"),
            _num(c, "close"),
            _num(v, "volume"),
        ),
    )


def _open_interest(r: OpenInterest) -> OpenInterest:
    s, period, ts, amount, value = r
    return tuple.__new__(
        OpenInterest,
        (
            _text(s, "symbol", SYMBOL_LENGTH, _good_symbols),
            _text(period, "period", PERIOD_LENGTH, _good_periods, empty=True),
            _ms(ts, "ts"),
            _num(amount, "amount"),
            _opt_num(value, "value"),
        ),
    )


def _funding_rate(r: FundingRate) -> FundingRate:
    s, ts, rate, mark, next_ts = r
    return tuple.__new__(
        FundingRate,
        (
            _text(s, "symbol", SYMBOL_LENGTH, _good_symbols),
            _ms(ts, "ts"),
            _num(rate, "rate"),
            _opt_num(mark, "mark_price"),
            None if next_ts is None else _ms(next_ts, "next_funding_ts"),
        ),
    )


def _trader_ratio(r: TraderRatio) -> TraderRatio:
    s, kind, period, ts, ratio, long_share, short_share = r
    kind = _text(kind, "kind", KIND_LENGTH, _good_kinds)
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(TRADER_RATIO_KINDS)}")
    return tuple.__new__(
        TraderRatio,
        (
            _text(s, "symbol", SYMBOL_LENGTH, _good_symbols),
            kind,
            _text(period, "period", PERIOD_LENGTH, _good_periods),
            _ms(ts, "ts"),
            _num(ratio, "ratio"),
            _opt_num(long_share, "long_share"),
            _opt_num(short_share, "short_share"),
        ),
    )


_NORMALISERS: dict[type, Callable[[Any], MarketRecord]] = {
    Candle: _candle,
    OpenInterest: _open_interest,
    FundingRate: _funding_rate,
    TraderRatio: _trader_ratio,
}
TABLE_OF: dict[type, str] = {
    Candle: "candles",
    OpenInterest: "open_interest",
    FundingRate: "funding_rates",
    TraderRatio: "trader_ratios",
}
RECORD_OF: dict[str, type] = {t: cls for cls, t in TABLE_OF.items()}


def normalise(record: object) -> MarketRecord:
    """The record with exact types, checked against its table; `ValueError` says what is wrong."""
    fn = _NORMALISERS.get(type(record))
    if fn is None:
        for cls, f in _NORMALISERS.items():  # a subclass of a record type
            if isinstance(record, cls):
                return f(tuple.__new__(cls, record))  # type: ignore[arg-type]
        raise ValueError(f"not a market record: {type(record).__name__}")
    return fn(record)


# ASCII JSON: symbols may be any printable text. Normalised floats are finite.
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


def encode(record: MarketRecord) -> bytes:
    """One spool line: ``[table, *fields]``."""
    return frame(_dumps([TABLE_OF[type(record)], *record]).encode("ascii"))


def decode(payload: bytes) -> MarketRecord:
    """The record of a spool payload, normalised; `ValueError` if it is not one."""
    fields = json.loads(payload.decode("utf-8"))
    if type(fields) is not list or not fields or type(fields[0]) is not str:
        raise ValueError("not a spooled market record")
    cls = RECORD_OF.get(fields[0])
    if cls is None or len(fields) - 1 != len(cls._fields):  # type: ignore[attr-defined]
        raise ValueError("not a spooled market record")
    return normalise(tuple.__new__(cls, fields[1:]))


MARKET_CODEC: RecordCodec[MarketRecord] = RecordCodec("market", "market record", encode, decode)
