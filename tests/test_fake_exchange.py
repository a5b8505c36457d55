"""The fake Binance USD-M exchange, driven by the real ccxt async client over loopback HTTP.

Every test talks to a real aiohttp server on 127.0.0.1 through ``make_exchange(base_url=...)``
(or a plain aiohttp client where the raw status matters); nothing of ccxt is mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from journal.collector.exchange import make_exchange, production_url, validate_base_url
from journal.collector.fake_exchange import (
    DATA_PERIODS,
    FAULT_KINDS,
    KLINE_INTERVALS,
    PROFILES,
    FakeBinance,
)

# 2023-11-14 22:13:20 UTC: 1 min 40 s into a 5-minute candle (22:10), 6 h 13 min after funding.
NOW_S = 1_700_000_000.0
NOW_MS = 1_700_000_000_000
BTC, ETH, SOL = "BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"
FIVE_MIN = 300_000


class Clock:
    """A settable clock for the fake (seconds)."""

    def __init__(self, now: float = NOW_S) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(clock=Clock()) as f:
        yield f


@pytest.fixture
async def ex(fake: FakeBinance) -> AsyncIterator[Any]:
    e = make_exchange(base_url=fake.base_url, enable_rate_limit=False, timeout_ms=1000)
    try:
        await e.load_markets()
        yield e
    finally:
        await e.close()


async def _collect_everything(ex: Any) -> dict[str, Any]:
    """Call every method the collector uses, as the collector does."""
    return {
        "ohlcv": await ex.fetch_ohlcv(BTC, "5m", limit=10),
        "oi": await ex.fetch_open_interest(SOL),
        "oi_hist": await ex.fetch_open_interest_history(SOL, "5m", limit=5),
        "funding": await ex.fetch_funding_rate(ETH),
        "funding_hist": await ex.fetch_funding_rate_history(ETH, limit=6),
        "ls": await ex.fetch_long_short_ratio_history(BTC, "5m", limit=4),
        "top_acc": await ex.fapiDataGetTopLongShortAccountRatio(
            {"symbol": "BTCUSDT", "period": "5m", "limit": 3}
        ),
        "top_pos": await ex.fapiDataGetTopLongShortPositionRatio(
            {"symbol": "BTCUSDT", "period": "1h", "limit": 3}
        ),
    }


# --- data: every unified method parses plausible, deterministic data ---------------------------


async def test_load_markets_gives_complete_linear_markets(fake: FakeBinance, ex: Any) -> None:
    assert sorted(ex.markets) == [BTC, ETH, SOL]
    btc = ex.markets[BTC]
    assert (btc["id"], btc["base"], btc["quote"], btc["settle"]) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        "USDT",
    )
    assert btc["linear"] and btc["swap"] and btc["active"]
    assert btc["precision"]["price"] == 0.1 and btc["precision"]["amount"] == 0.001
    assert ex.markets[SOL]["precision"]["amount"] == 1
    assert [r.path for r in fake.requests] == ["/fapi/v1/exchangeInfo"]


async def test_unified_methods_parse_plausible_data(fake: FakeBinance, ex: Any) -> None:
    got = await _collect_everything(ex)

    ohlcv = got["ohlcv"]
    last_closed = NOW_MS - NOW_MS % FIVE_MIN - FIVE_MIN  # the 22:05 candle; 22:10 is still open
    assert [row[0] for row in ohlcv] == [last_closed - i * FIVE_MIN for i in range(9, -1, -1)]
    for _ts, o, h, low, c, v in ohlcv:
        assert low <= min(o, c) <= max(o, c) <= h and v > 0
        assert low > 30_000 and h < 130_000
    assert all(a[4] == b[1] for a, b in itertools.pairwise(ohlcv))  # close -> next open

    oi = got["oi"]
    assert oi["symbol"] == SOL and oi["openInterestAmount"] > 0 and oi["timestamp"] == NOW_MS
    hist = got["oi_hist"]
    assert [h["timestamp"] for h in hist] == [
        NOW_MS - NOW_MS % FIVE_MIN - i * FIVE_MIN for i in range(4, -1, -1)
    ]
    assert all(h["openInterestAmount"] > 0 and h["openInterestValue"] > 0 for h in hist)

    funding = got["funding"]
    assert funding["symbol"] == ETH and abs(funding["fundingRate"]) < 0.001
    assert funding["markPrice"] > 0 and funding["timestamp"] == NOW_MS
    eight_h = 8 * 3_600_000
    assert funding["fundingTimestamp"] == NOW_MS - NOW_MS % eight_h + eight_h
    fh = got["funding_hist"]
    assert [f["timestamp"] for f in fh] == [
        NOW_MS - NOW_MS % eight_h - i * eight_h for i in range(5, -1, -1)
    ]

    ls = got["ls"]
    assert len(ls) == 4 and all(r["symbol"] == BTC and r["longShortRatio"] > 0 for r in ls)
    for raw in (*got["top_acc"], *got["top_pos"]):  # implicit methods return raw JSON strings
        long_, short = float(raw["longAccount"]), float(raw["shortAccount"])
        assert abs(long_ + short - 1) < 1e-3
        assert abs(float(raw["longShortRatio"]) - long_ / short) < 1e-3
    assert got["top_pos"][-1]["timestamp"] == NOW_MS - NOW_MS % 3_600_000
    assert got["top_acc"] != got["ls"]  # the three ratio endpoints are different series

    paths = {r.path for r in fake.requests}
    assert paths == {
        "/fapi/v1/exchangeInfo",
        "/fapi/v1/klines",
        "/fapi/v1/openInterest",
        "/futures/data/openInterestHist",
        "/fapi/v1/premiumIndex",
        "/fapi/v1/fundingRate",
        "/futures/data/globalLongShortAccountRatio",
        "/futures/data/topLongShortAccountRatio",
        "/futures/data/topLongShortPositionRatio",
    }
    klines = next(r for r in fake.requests if r.path == "/fapi/v1/klines")
    assert klines.query == {"symbol": "BTCUSDT", "interval": "5m", "limit": "10"}
    assert klines.fault is None and klines.time == NOW_S


async def test_two_fakes_serve_identical_data() -> None:
    results = []
    for _ in range(2):
        async with FakeBinance(clock=Clock()) as f:
            e = make_exchange(base_url=f.base_url, enable_rate_limit=False, timeout_ms=500)
            try:
                results.append(await _collect_everything(e))
            finally:
                await e.close()
    assert results[0] == results[1]


async def test_a_candle_is_the_same_whenever_it_is_asked_for(fake: FakeBinance, ex: Any) -> None:
    clock = fake.clock
    assert isinstance(clock, Clock)
    since = NOW_MS - NOW_MS % FIVE_MIN - 20 * FIVE_MIN
    before = await ex.fetch_ohlcv(BTC, "5m", since=since, limit=5)
    clock.now += 86_400
    after = await ex.fetch_ohlcv(BTC, "5m", since=since, limit=5)
    assert before == after and before[0][0] == since


async def test_klines_window_limit_and_only_closed_candles(fake: FakeBinance, ex: Any) -> None:
    start = NOW_MS - NOW_MS % FIVE_MIN - 3 * FIVE_MIN
    rows = await ex.fapiPublicGetKlines(
        {"symbol": "ETHUSDT", "interval": "5m", "startTime": start + 1, "limit": 100}
    )
    # startTime rounds up to the next candle; the open 22:10 candle is left out.
    assert [r[0] for r in rows] == [start + FIVE_MIN, start + 2 * FIVE_MIN]
    assert all(len(r) == 12 and r[6] == r[0] + FIVE_MIN - 1 for r in rows)
    rows = await ex.fapiPublicGetKlines(
        {"symbol": "ETHUSDT", "interval": "1h", "endTime": NOW_MS - 86_400_000, "limit": 1500}
    )
    assert len(rows) == 1500 and rows[-1][0] == NOW_MS - 86_400_000 - NOW_MS % 3_600_000
    default = await ex.fapiPublicGetKlines({"symbol": "ETHUSDT", "interval": "1m"})
    assert len(default) == 500
    weekly = await ex.fapiPublicGetKlines({"symbol": "ETHUSDT", "interval": "1w", "limit": 2})
    monday_2023_11_06 = 1_699_228_800_000
    assert [r[0] for r in weekly] == [monday_2023_11_06 - 7 * 86_400_000, monday_2023_11_06]
    with pytest.raises(ccxt_async.BadRequest, match="-1130"):
        await ex.fapiPublicGetKlines({"symbol": "ETHUSDT", "interval": "1m", "limit": 1501})


async def test_bad_symbol_interval_and_period_answer_like_binance(ex: Any) -> None:
    with pytest.raises(ccxt_async.BadSymbol, match="-1121"):
        await ex.fapiPublicGetKlines({"symbol": "NOPEUSDT", "interval": "5m"})
    with pytest.raises(ccxt_async.BadRequest, match="-1120"):
        await ex.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    with pytest.raises(ccxt_async.BadRequest, match="-1120"):
        await ex.fapiDataGetOpenInterestHist({"symbol": "BTCUSDT", "period": "1m"})
    with pytest.raises(ccxt_async.BadRequest, match="-1102"):
        await ex.fapiPublicGetOpenInterest({})


def test_interval_tables_match_binance() -> None:
    assert set(DATA_PERIODS) < set(KLINE_INTERVALS)
    assert "1m" in KLINE_INTERVALS and "1m" not in DATA_PERIODS


# --- faults: each kind gives the exact ccxt exception ------------------------------------------

EXPECTED: dict[str, type[Exception]] = {
    "http429": ccxt_async.DDoSProtection,
    "http418": ccxt_async.DDoSProtection,
    "http500": ccxt_async.ExchangeNotAvailable,
    "http502": ccxt_async.ExchangeNotAvailable,
    "http503": ccxt_async.ExchangeNotAvailable,
    "http504": ccxt_async.RequestTimeout,
    "err-1003": ccxt_async.RateLimitExceeded,
    "err-1021": ccxt_async.InvalidNonce,
    "err-1000": ccxt_async.OperationFailed,
    "err-1001": ccxt_async.OperationFailed,
    "err-1008": ccxt_async.OperationFailed,
    "stall": ccxt_async.RequestTimeout,
    "stall-body": ccxt_async.RequestTimeout,
    "reset": ccxt_async.ExchangeNotAvailable,
    "close": ccxt_async.ExchangeNotAvailable,
}
GARBAGE = ("malformed", "html200", "empty-body", "empty-array", "empty-object", "null")


def test_every_fault_kind_is_covered() -> None:
    assert set(EXPECTED) | set(GARBAGE) == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
async def test_fault_raises_the_exact_ccxt_exception(kind: str, fake: FakeBinance, ex: Any) -> None:
    # Two in a row: aiohttp silently retries a dropped connection once (see reset/close).
    fake.inject("/fapi/v1/openInterest", kind, times=2, arg=30 if "stall" in kind else None)
    with pytest.raises(ccxt_async.BaseError) as info:
        await ex.fetch_open_interest(BTC)
    assert type(info.value) is EXPECTED[kind]
    assert fake.requests[-1].fault == kind
    fake.clear_faults()
    assert (await ex.fetch_open_interest(BTC))["openInterestAmount"] > 0


async def test_retry_after_header_and_status_are_readable(fake: FakeBinance, ex: Any) -> None:
    fake.inject("/fapi/v1/klines", "http429", arg=3)
    with pytest.raises(ccxt_async.DDoSProtection, match=r"^binanceusdm 429 "):
        await ex.fetch_ohlcv(BTC, "1m")
    assert ex.last_response_headers["Retry-After"] == "3"
    fake.inject("/fapi/v1/klines", "http418")
    with pytest.raises(ccxt_async.DDoSProtection, match=r"^binanceusdm 418 "):
        await ex.fetch_ohlcv(BTC, "1m")
    assert ex.last_response_headers["Retry-After"] == "120"


async def test_minus_1008_needs_the_production_url_seam(fake: FakeBinance, ex: Any) -> None:
    del ex.get_exceptions_by_url  # back to ccxt's own method: the local URL has no linear table
    fake.inject("/fapi/v1/openInterest", "err-1008")
    with pytest.raises(ccxt_async.ExchangeError) as info:
        await ex.fetch_open_interest(BTC)
    assert type(info.value) is ccxt_async.ExchangeError


@pytest.mark.parametrize("kind", ["reset", "close"])
async def test_a_single_dropped_connection_is_retried_by_aiohttp(
    kind: str, fake: FakeBinance, ex: Any
) -> None:
    fake.inject("/fapi/v1/openInterest", kind, times=1)
    assert (await ex.fetch_open_interest(BTC))["openInterestAmount"] > 0
    assert [r.fault for r in fake.requests if r.path == "/fapi/v1/openInterest"] == [kind, None]


@pytest.mark.parametrize("kind", GARBAGE)
async def test_garbage_bodies_raise_nothing_and_parse_to_nones(
    kind: str, fake: FakeBinance, ex: Any
) -> None:
    fake.inject("*", kind, times=None)
    oi = await ex.fetch_open_interest(BTC)
    assert oi["symbol"] == BTC
    assert (oi["openInterestAmount"], oi["timestamp"]) == (None, None)
    funding = await ex.fetch_funding_rate(BTC)
    assert (funding["fundingRate"], funding["markPrice"], funding["timestamp"]) == (None,) * 3
    candles = await ex.fetch_ohlcv(BTC, "5m", limit=2)
    if kind.startswith("empty"):
        assert candles == []
    else:  # ccxt iterates over the characters of the unparsed text
        assert len(candles) == 2 and all(row[1:] == [None] * 5 for row in candles)
    assert {r.fault for r in fake.requests[1:]} == {kind}


async def test_stalled_handlers_time_out_fast_and_do_not_hold_stop() -> None:
    f = FakeBinance(clock=Clock())
    await f.start()
    e = make_exchange(base_url=f.base_url, enable_rate_limit=False, timeout_ms=300)
    try:
        await e.load_markets()
        f.inject("/fapi/v1/klines", "stall", arg=3600)
        f.inject("/fapi/v1/openInterest", "stall-body", arg=3600)
        with pytest.raises(ccxt_async.RequestTimeout):
            await e.fetch_ohlcv(BTC, "5m")
        with pytest.raises(ccxt_async.RequestTimeout):
            await e.fetch_open_interest(BTC)
    finally:
        await e.close()
    await asyncio.wait_for(f.stop(), timeout=30)  # returns although both sleeps had an hour left
    assert (f.cancelled_handlers, f.stalls_finished) == (2, 0)


# --- injection bookkeeping ---------------------------------------------------------------------


async def test_inject_counts_down_persists_and_clears(fake: FakeBinance, ex: Any) -> None:
    fake.inject("/fapi/v1/openInterest", "err-1000", times=2)
    fake.inject("/fapi/v1/openInterest", "err-1021", times=1)  # queued after the first
    outcomes = []
    for _ in range(4):
        try:
            await ex.fetch_open_interest(BTC)
            outcomes.append("ok")
        except ccxt_async.BaseError as err:
            outcomes.append(type(err).__name__)
    assert outcomes == ["OperationFailed", "OperationFailed", "InvalidNonce", "ok"]

    fake.inject("*", "http503", times=None)
    for _ in range(3):
        with pytest.raises(ccxt_async.ExchangeNotAvailable):
            await ex.fetch_funding_rate(BTC)
    fake.clear_faults("/fapi/v1/openInterest")  # another path: the "*" fault stays
    with pytest.raises(ccxt_async.ExchangeNotAvailable):
        await ex.fetch_open_interest(BTC)
    fake.clear_faults("*")
    assert (await ex.fetch_funding_rate(BTC))["fundingRate"] is not None
    assert fake.count("/fapi/v1/premiumIndex") == 4 and fake.count() == len(fake.requests)


def test_unknown_fault_kind_or_profile_is_a_value_error() -> None:
    f = FakeBinance()
    with pytest.raises(ValueError, match="unknown fault kind 'http999'"):
        f.inject("/fapi/v1/klines", "http999")
    with pytest.raises(ValueError, match="unknown fault kind"):
        f.add_window("/fapi/v1/klines", "nope", 0, 1)
    with pytest.raises(ValueError, match="times"):
        f.inject("/fapi/v1/klines", "http503", times=0)
    with pytest.raises(ValueError, match="unknown profile"):
        f.set_profile("stormy")
    with pytest.raises(ValueError, match="USDT"):
        FakeBinance(["btc/usdt"])


# --- profiles ----------------------------------------------------------------------------------


async def _statuses(
    fake: FakeBinance, path: str, query: dict[str, str], clock: Clock, at: list[float]
) -> list[int]:
    out = []
    async with aiohttp.ClientSession() as s:
        for t in at:
            clock.now = NOW_S + t
            async with s.get(fake.base_url + path, params=query) as resp:
                out.append(resp.status)
    return out


async def test_demo_outage_window_fires_at_the_stated_times() -> None:
    clock = Clock()
    async with FakeBinance(clock=clock, profile="demo") as f:
        f.set_profile("demo", rate=0.0)  # only the window, no random 429s
        f.clear_faults()  # clears injections and added windows, not the profile's
        at = [0, 7.9, 8, 15, 21.9, 22, 59, 68, 81.9, 82, 128]
        got = await _statuses(f, "/fapi/v1/openInterest", {"symbol": "BTCUSDT"}, clock, at)
        assert got == [200, 200, 503, 503, 503, 200, 200, 503, 503, 200, 503]
        klines = await _statuses(
            f, "/fapi/v1/klines", {"symbol": "BTCUSDT", "interval": "1m"}, clock, [10, 15]
        )
        assert klines == [200, 200]
        f.set_profile("demo", rate=0.0, outage=(8, 32, None))  # a longer, one-off outage
        oi = "/fapi/v1/openInterest"
        got = await _statuses(f, oi, {"symbol": "BTCUSDT"}, clock, [31, 32, 70])
        assert got == [503, 200, 200]
        f.set_profile("calm")
        assert await _statuses(f, oi, {"symbol": "BTCUSDT"}, clock, [10]) == [200]


async def test_added_windows_fire_once_or_repeat_and_clear() -> None:
    clock = Clock()
    async with FakeBinance(clock=clock) as f:
        f.add_window("/fapi/v1/time", "http502", 5, 10)
        f.add_window("*", "err-1001", 20, 21, every_s=30)
        got = await _statuses(f, "/fapi/v1/time", {}, clock, [4, 5, 9.5, 10, 20.5, 35, 50.5, 65])
        assert got == [200, 502, 502, 200, 503, 200, 503, 200]
        assert [r.fault for r in f.requests][4] == "err-1001"
        f.clear_faults("/fapi/v1/time")  # the "*" window stays
        assert await _statuses(f, "/fapi/v1/time", {}, clock, [5, 80.5]) == [200, 503]
        f.clear_faults()
        assert await _statuses(f, "/fapi/v1/time", {}, clock, [80.5]) == [200]
    with pytest.raises(ValueError, match="bad window"):
        FakeBinance().add_window("/fapi/v1/time", "http502", 10, 5)


async def test_demo_background_faults_are_rare_429s_and_malformed_bodies() -> None:
    clock = Clock()
    async with FakeBinance(clock=clock, profile="demo", seed=3) as f:
        await _statuses(f, "/fapi/v1/premiumIndex", {"symbol": "BTCUSDT"}, clock, [30] * 400)
        faults = [r.fault for r in f.requests]
        assert set(faults) == {None, "http429", "malformed"}
        assert 0 < faults.count("http429") + faults.count("malformed") < 60  # rate 0.05 of 400
        # open interest has its outage and nothing else: its breaker's trial call after the
        # outage always succeeds, so the demo's open -> half-open -> closed is not luck
        f.requests.clear()
        got = await _statuses(f, "/fapi/v1/openInterest", {"symbol": "BTCUSDT"}, clock, [30] * 400)
        assert got == [200] * 400 and {r.fault for r in f.requests} == {None}


async def _chaos_faults(seed: int) -> list[str | None]:
    async with FakeBinance(clock=Clock(), seed=seed, profile="chaos") as f:
        f.set_profile("chaos", rate=1.0, stall_s=0.01)
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            for _ in range(300):
                try:
                    async with s.get(f.base_url + "/fapi/v1/time") as resp:
                        await resp.read()
                except aiohttp.ClientError:
                    pass
        return [r.fault for r in f.requests][:300]


async def test_chaos_is_reproducible_by_seed_and_uses_every_kind() -> None:
    first, again, other = await _chaos_faults(7), await _chaos_faults(7), await _chaos_faults(8)
    assert len(first) == 300 and first == again and first != other
    assert set(first) == set(FAULT_KINDS)


def test_profiles_are_described() -> None:
    assert {"calm", "chaos", "demo"} <= set(PROFILES)
    assert FakeBinance().profile == "calm"


# --- make_exchange ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["127.0.0.1:8080", "ftp://127.0.0.1", "http://127.0.0.1:8080/fapi", "http://:80", "http://h:x"],
)
def test_make_exchange_rejects_a_base_url_that_is_not_scheme_host_port(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        validate_base_url(bad)


async def test_make_exchange_points_every_host_at_base_url() -> None:
    e = make_exchange(base_url="http://127.0.0.1:9/", api_key="k", api_secret="s")
    try:
        assert all(v.startswith("http://127.0.0.1:9/") for v in e.urls["api"].values())
        assert e.urls["api"]["fapiData"] == "http://127.0.0.1:9/futures/data"
        assert e.options["fetchCurrencies"] is False and e.options["maxRetriesOnFailure"] == 0
        assert (e.timeout, e.enableRateLimit, e.timeout_on_exit, e.verbose) == (
            10_000,
            True,
            0,
            False,
        )
        url = "http://127.0.0.1:9/fapi/v1/klines?symbol=X"
        assert (
            production_url(url, "http://127.0.0.1:9")
            == "https://fapi.binance.com/fapi/v1/klines?symbol=X"
        )
    finally:
        await e.close()
    prod, test = make_exchange(), make_exchange(testnet=True)
    try:
        assert prod.urls["api"]["fapiPublic"] == "https://fapi.binance.com/fapi/v1"
        assert "testnet" in test.urls["api"]["fapiPublic"]
    finally:
        await prod.close()
        await test.close()


# --- the CLI -----------------------------------------------------------------------------------


async def test_cli_prints_its_url_serves_ccxt_and_exits_0_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "journal.collector.fake_exchange",
        "--port",
        "0",
        "--profile",
        "demo",
        "--rate",
        "0",
        "--outage",
        "0:3600",
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        url = line.decode().strip()
        assert url.startswith("http://127.0.0.1:")
        e = make_exchange(base_url=url, enable_rate_limit=False, timeout_ms=2000)
        try:
            candles = await e.fetch_ohlcv(SOL, "1m", limit=3)
            with pytest.raises(ccxt_async.ExchangeNotAvailable):  # the --outage window
                await e.fetch_open_interest(SOL)
        finally:
            await e.close()
        assert len(candles) == 3
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
