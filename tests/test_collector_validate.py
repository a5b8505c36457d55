"""The collector's checks on what ccxt parsed (`collector/_validate.py`): pure functions, no IO.

Long/short ratios have a fast loop for the usual shapes and an explicit one for the rest; these
tests hold both to one contract: the records they make, and the first problem they name.
"""

from __future__ import annotations

from typing import Any

import pytest

from journal.collector._validate import trader_ratios
from journal.collector.binance import BadResponse
from journal.collector.records import TraderRatio

NOW = 1_800_000_000_000
T0 = NOW - 3_600_000
STEP = 300_000
UNIFIED = "SOL/USDT:USDT"
MARKET_ID = "SOLUSDT"


def raw_row(i: int, **changes: Any) -> dict[str, Any]:
    """A row as Binance sends it (strings, the market id, an int timestamp)."""
    row: dict[str, Any] = {
        "symbol": MARKET_ID,
        "longShortRatio": "1.5000",
        "longAccount": "0.6000",
        "shortAccount": "0.4000",
        "timestamp": T0 + i * STEP,
    }
    row.update(changes)
    return row


def unified_row(i: int, **changes: Any) -> dict[str, Any]:
    """A row as ccxt's fetch_long_short_ratio_history gives it (the shares only in ``info``)."""
    row: dict[str, Any] = {
        "info": raw_row(i),
        "symbol": UNIFIED,
        "timestamp": T0 + i * STEP,
        "datetime": None,
        "timeframe": None,
        "longShortRatio": 1.5,
    }
    row.update(changes)
    return row


def ratios(raw: Any, unified: bool = False, required: bool = True) -> list[TraderRatio]:
    return trader_ratios(
        raw,
        UNIFIED,
        MARKET_ID,
        "top_account",
        "5m",
        unified=unified,
        required=required,
        now_ms=NOW,
        what="fetch_trader_ratio(SOL/USDT:USDT, top_account, 5m)",
    )


def record(
    i: int, ratio: float = 1.5, long: float | None = 0.6, short: float | None = 0.4
) -> TraderRatio:
    return TraderRatio(UNIFIED, "top_account", "5m", T0 + i * STEP, ratio, long, short)


@pytest.mark.parametrize("unified", [False, True], ids=["raw", "unified"])
def test_usual_rows_become_records_with_the_unified_symbol(unified: bool) -> None:
    make = unified_row if unified else raw_row
    got = ratios([make(0), make(1), make(2)], unified=unified)
    assert got == [record(0), record(1), record(2)]
    assert all(type(r) is TraderRatio for r in got)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # Shapes the fast loop leaves to the explicit one, which accepts them.
        (raw_row(1, timestamp=str(T0 + STEP)), record(1)),
        (raw_row(1, longAccount=None, shortAccount=None), record(1, long=None, short=None)),
        (raw_row(1, longShortRatio=2, longAccount=1, shortAccount=0), record(1, 2.0, 1.0, 0.0)),
        (raw_row(1, longShortRatio=0.25), record(1, ratio=0.25)),
        (raw_row(1, longAccount=" 0.5", shortAccount="5e-1"), record(1, long=0.5, short=0.5)),
    ],
    ids=["timestamp-as-string", "no-shares", "ints", "float-ratio", "odd-spellings"],
)
def test_unusual_but_valid_rows_are_accepted(row: dict[str, Any], expected: TraderRatio) -> None:
    assert ratios([raw_row(0), row]) == [record(0), expected]


def test_unified_rows_without_info_have_no_shares() -> None:
    assert ratios([unified_row(0, info=None)], unified=True) == [record(0, long=None, short=None)]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("a string", "row 1: expected an object, got str"),
        (raw_row(1, symbol="BTCUSDT"), "symbol 'BTCUSDT', expected 'SOLUSDT'"),
        (raw_row(1, timestamp=None), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, timestamp=True), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, timestamp=NOW + 2 * 86_400_000), "row 1: missing or bad timestamp"),
        (raw_row(1, timestamp=T0), f"row 1: timestamp {T0} not after {T0}"),
        (raw_row(1, longShortRatio="-0.1"), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longShortRatio="nan"), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longShortRatio="inf"), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longShortRatio=True), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longShortRatio="<html>"), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longShortRatio=b"1.5"), "row 1: missing or bad timestamp/longShortRatio"),
        (raw_row(1, longAccount="1.0001"), "row 1: bad longAccount '1.0001'"),
        (raw_row(1, shortAccount="-0.0001"), "row 1: bad shortAccount '-0.0001'"),
        (raw_row(1, shortAccount="nan"), "row 1: bad shortAccount 'nan'"),
        (raw_row(1, longAccount=False), "row 1: bad longAccount False"),
    ],
)
def test_a_bad_row_is_a_bad_response_naming_it(row: Any, problem: str) -> None:
    with pytest.raises(BadResponse) as info:
        ratios([raw_row(0), row])
    assert str(info.value).startswith("bad response from fetch_trader_ratio(")
    assert problem in str(info.value)


def test_unified_rows_are_checked_against_the_unified_symbol() -> None:
    with pytest.raises(BadResponse, match="symbol 'SOLUSDT', expected 'SOL/USDT:USDT'"):
        ratios([unified_row(0, symbol=MARKET_ID)], unified=True)
    with pytest.raises(BadResponse, match="row 0: bad longAccount '2'"):
        ratios([unified_row(0, info=raw_row(0, longAccount="2"))], unified=True)


@pytest.mark.parametrize(
    ("raw", "required", "problem"),
    [(None, True, "expected a list, got NoneType"), ({}, True, "expected a list, got dict"),
     ([], True, "empty list where rows must exist")],
)  # fmt: skip
def test_not_a_list_or_an_empty_one_where_rows_must_exist(
    raw: Any, required: bool, problem: str
) -> None:
    with pytest.raises(BadResponse, match=problem):
        ratios(raw, required=required)
    assert ratios([], required=False) == []
