"""Market-data records: what the hardened client returns and what the market store keeps.

Plain, immutable, typed values with natural keys. Times are UTC milliseconds since the epoch
(Binance's and ccxt's unit); numbers are floats as ccxt parses them. Each record's ``key()``
is its natural key in the table that stores it, so a record written twice is stored once.
"""

from __future__ import annotations

from typing import NamedTuple


class Candle(NamedTuple):
    """One OHLCV candle: table ``candles``, key (symbol, timeframe, ts)."""

    symbol: str  # ccxt unified symbol, e.g. "SOL/USDT:USDT"
    timeframe: str  # "1m", "5m", ...
    ts: int  # open time, ms
    open: float
    high: float
    low: float
    close: float
    volume: float

    def key(self) -> tuple[str, str, int]:
        return (self.symbol, self.timeframe, self.ts)


class OpenInterest(NamedTuple):
    """Open interest: table ``open_interest``, key (symbol, period, ts).

    ``period`` is "" for the current value (``fetch_open_interest``) and the history's period
    ("5m", "1h", ...) for ``fetch_open_interest_history``.
    """

    symbol: str
    period: str
    ts: int
    amount: float  # contracts
    value: float | None  # quote value, when the endpoint gives it

    def key(self) -> tuple[str, str, int]:
        return (self.symbol, self.period, self.ts)


class FundingRate(NamedTuple):
    """A funding rate: table ``funding_rates``, key (symbol, ts).

    From ``fetch_funding_rate`` (premium index: ``ts`` is the server time of the reading,
    ``mark_price`` and ``next_funding_ts`` set) or ``fetch_funding_rate_history`` (``ts`` is the
    funding time, the others None).
    """

    symbol: str
    ts: int
    rate: float
    mark_price: float | None
    next_funding_ts: int | None

    def key(self) -> tuple[str, int]:
        return (self.symbol, self.ts)


class TraderRatio(NamedTuple):
    """A long/short ratio: table ``trader_ratios``, key (symbol, kind, period, ts).

    ``kind`` is "global_account" (globalLongShortAccountRatio), "top_account"
    (topLongShortAccountRatio) or "top_position" (topLongShortPositionRatio).
    """

    symbol: str
    kind: str
    period: str
    ts: int
    ratio: float
    long_share: float | None  # longAccount / longPosition, 0..1
    short_share: float | None

    def key(self) -> tuple[str, str, str, int]:
        return (self.symbol, self.kind, self.period, self.ts)


TRADER_RATIO_KINDS = ("global_account", "top_account", "top_position")

MarketRecord = Candle | OpenInterest | FundingRate | TraderRatio
