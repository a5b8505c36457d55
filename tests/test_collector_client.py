"""HardenedBinanceFuturesClient against the real ccxt client and the fake exchange on 127.0.0.1.

Time is a fake clock that only the client's retry sleeps move (breakers and the 418 gate read
it), so backoffs of minutes cost nothing; timeouts are real (300 ms where a stall is injected).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import ccxt
import pytest

import journal
from journal.collector import _faults
from journal.collector._validate import rows_required
from journal.collector.binance import (
    BadResponse,
    HardenedBinanceFuturesClient,
    IPBanned,
    LiquidationsNotSupported,
    RequestTimedOut,
)
from journal.collector.fake_exchange import FakeBinance
from journal.collector.records import Candle, FundingRate, OpenInterest, TraderRatio
from journal.errors import CircuitBreakerError, RetryError
from tests.collector_support import (
    EXPECTED,
    FAULT_ARG,
    METHODS,
    REQUESTS_PER_ATTEMPT,
    SYMBOL,
    UNIFIED,
    FakeTime,
    events,
    make_client,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as f:
        yield f


@pytest.fixture
def t() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sqlite_journal(sqlite_url: str) -> Iterator[str]:
    journal.configure(sqlite_url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    yield sqlite_url
    journal.shutdown(10)


@pytest.fixture
def any_journal(migrated_url: str) -> Iterator[str]:
    """The process journal on SQLite and on PostgreSQL."""
    journal.configure(migrated_url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    yield migrated_url
    journal.shutdown(10)


# ------------------------------------------------------------------ the success path


async def test_every_method_returns_validated_records_oldest_first(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        candles = await c.fetch_ohlcv("SOL/USDT", "5m", limit=50)
        assert len(candles) == 50 and all(type(x) is Candle for x in candles)
        assert {x.symbol for x in candles} == {UNIFIED} and {x.timeframe for x in candles} == {"5m"}
        assert [x.ts for x in candles] == sorted({x.ts for x in candles})
        assert all(x.low <= min(x.open, x.close) <= max(x.open, x.close) <= x.high for x in candles)
        # the unified perpetual form is accepted as it is
        again = await c.fetch_ohlcv(UNIFIED, "5m", limit=50)
        assert again == candles
        oi = await c.fetch_open_interest(SYMBOL)
        assert (
            type(oi) is OpenInterest and oi.symbol == UNIFIED and oi.period == "" and oi.amount > 0
        )
        hist = await c.fetch_open_interest_history(SYMBOL, "5m", limit=30)
        assert len(hist) == 30 and {h.period for h in hist} == {"5m"}
        assert all(h.value is not None and h.value > 0 for h in hist)
        fr = await c.fetch_funding_rate(SYMBOL)
        assert type(fr) is FundingRate and fr.mark_price and fr.next_funding_ts
        assert fr.next_funding_ts > fr.ts
        frh = await c.fetch_funding_rate_history(SYMBOL, limit=20)
        assert len(frh) == 20 and all(r.mark_price is None for r in frh)
        assert [r.ts for r in frh] == sorted(r.ts for r in frh)
        for kind in ("global_account", "top_account", "top_position"):
            ratios = await c.fetch_trader_ratio(SYMBOL, "5m", kind, limit=30)
            assert len(ratios) == 30 and all(type(r) is TraderRatio for r in ratios)
            assert {r.kind for r in ratios} == {kind} and {r.symbol for r in ratios} == {UNIFIED}
            r = ratios[-1]
            assert r.long_share is not None and r.short_share is not None
            assert r.ratio == pytest.approx(r.long_share / r.short_share, rel=1e-2)
    # markets were loaded once; one request per call
    assert fake.count("/fapi/v1/exchangeInfo") == 1
    assert fake.count("/fapi/v1/klines") == 2
    assert t.sleeps == []


# ------------------------------------------------------------------ every method x every fault


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize(
    ("method", "path", "breaker", "etype", "call"), METHODS, ids=[m[0] for m in METHODS]
)
async def test_fault_surfaces_its_class_after_the_retries_then_the_endpoint_recovers(
    fake: FakeBinance,
    t: FakeTime,
    method: str,
    path: str,
    breaker: str,
    etype: str,
    call: Any,
    kind: str,
) -> None:
    fake.inject(path, kind, times=None, arg=FAULT_ARG.get(kind))
    timeout_ms = 300 if "stall" in kind else 2000
    async with make_client(fake, t, max_retries=2, initial_delay=1.0, timeout_ms=timeout_ms) as c:
        with pytest.raises(RetryError) as info:
            await call(c)
        last = info.value.last_exception
        assert isinstance(last, EXPECTED[kind]), repr(last)
        assert info.value.attempts == 3
        # three attempts reached the exchange (aiohttp repeats a dropped GET once by itself)
        assert fake.count(path) == 3 * REQUESTS_PER_ATTEMPT.get(kind, 1)
        waits = {"http429": [3.0, 3.0], "http418": [30.0, 30.0]}.get(kind, [1.0, 2.0])
        assert t.sleeps == waits  # Retry-After wins over the 1 s, 2 s schedule
        if kind == "err-1021":
            assert fake.count("/fapi/v1/time") == 3  # the clock resynchronised after each
        if isinstance(last, ccxt.RequestTimeout):
            assert isinstance(last, TimeoutError) and isinstance(info.value, TimeoutError)
        if isinstance(last, BadResponse):
            assert isinstance(info.value, ValueError)
        assert c.breakers[breaker].state == "CLOSED"  # 3 failures < 10
        fake.clear_faults()
        t.now += 60  # past any ban
        assert await call(c)
        assert fake.count(path) == 3 * REQUESTS_PER_ATTEMPT.get(kind, 1) + 1


@pytest.mark.parametrize("kind", ["http503", "stall", "empty-array", "err-1008", "http429"])
async def test_a_transient_fault_once_costs_one_retry(
    fake: FakeBinance, t: FakeTime, kind: str
) -> None:
    fake.inject("/fapi/v1/klines", kind, arg=FAULT_ARG.get(kind))
    async with make_client(fake, t, timeout_ms=300 if kind == "stall" else 2000) as c:
        candles = await c.fetch_ohlcv(SYMBOL, "1h", limit=10)
    assert len(candles) == 10
    assert fake.count("/fapi/v1/klines") == 2
    assert t.sleeps == [3.0 if kind == "http429" else 2.0]


# ------------------------------------------------------------------ never retried


async def test_unknown_symbol_is_bad_symbol_after_one_reload_and_never_retried(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        with pytest.raises(ccxt.BadSymbol):
            await c.fetch_ohlcv("DOGE/USDT", "5m")
        assert fake.count("/fapi/v1/exchangeInfo") == 2  # loaded, then reloaded once
        with pytest.raises(ccxt.BadSymbol):
            await c.fetch_open_interest("not a symbol")
        assert fake.count("/fapi/v1/exchangeInfo") == 2  # refused before any request
        assert fake.count("/fapi/v1/klines") == fake.count("/fapi/v1/openInterest") == 0
    assert t.sleeps == []
    assert all(b.get_stats()["failures"] == 0 for b in c.breakers.values())


async def test_a_market_gone_after_a_reload_is_bad_symbol_for_later_calls(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        assert await c.fetch_open_interest(SYMBOL)
        assert await c.fetch_open_interest(SYMBOL)  # no market lookup request either time
        assert fake.count("/fapi/v1/exchangeInfo") == 1
        del fake.market.specs["SOLUSDT"]  # delisted
        with pytest.raises(ccxt.BadSymbol):
            await c.fetch_open_interest("DOGE/USDT")  # reloads the markets: SOL is gone too
        assert fake.count("/fapi/v1/exchangeInfo") == 2
        with pytest.raises(ccxt.BadSymbol):
            await c.fetch_open_interest(SYMBOL)  # not the market found before the reload
        assert fake.count("/fapi/v1/openInterest") == 2


async def test_the_market_of_a_symbol_is_looked_up_again_after_a_reload(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        ex = c.exchange
        first = await c._market(ex, SYMBOL)
        assert await c._market(ex, SYMBOL) is first is ex.markets[UNIFIED]
        await ex.load_markets(reload=True)
        again = await c._market(ex, SYMBOL)
        assert again is ex.markets[UNIFIED] and again is not first


async def test_markets_that_came_back_garbage_are_reloaded_once(
    fake: FakeBinance, t: FakeTime
) -> None:
    fake.inject("/fapi/v1/exchangeInfo", "malformed")
    async with make_client(fake, t) as c:
        assert await c.fetch_open_interest(SYMBOL)
    assert fake.count("/fapi/v1/exchangeInfo") == 2 and t.sleeps == []


async def test_markets_that_stay_empty_are_a_bad_response_retried(
    fake: FakeBinance, t: FakeTime
) -> None:
    fake.inject("/fapi/v1/exchangeInfo", "empty-object", times=None)
    async with make_client(fake, t, max_retries=2, initial_delay=0.5) as c:
        with pytest.raises(RetryError) as info:
            await c.fetch_open_interest(SYMBOL)
    assert isinstance(info.value.last_exception, BadResponse)
    assert (
        fake.count("/fapi/v1/exchangeInfo") == 1 + 3
    )  # loaded once (cached), one reload per attempt
    assert fake.count("/fapi/v1/openInterest") == 0


@pytest.mark.parametrize(
    "bad_call",
    [
        lambda c: c.fetch_ohlcv(SYMBOL, "5x"),
        lambda c: c.fetch_ohlcv(SYMBOL, "5m", since=-1),
        lambda c: c.fetch_ohlcv(SYMBOL, "5m", limit=0),
        lambda c: c.fetch_trader_ratio(SYMBOL, "5m", kind="whales"),
        lambda c: c.fetch_open_interest_history(SYMBOL, "5m", since="yesterday"),
    ],
    ids=["timeframe", "since", "limit", "ratio-kind", "since-type"],
)
async def test_bad_arguments_are_bad_request_with_no_request(
    fake: FakeBinance, t: FakeTime, bad_call: Any
) -> None:
    async with make_client(fake, t) as c:
        with pytest.raises(ccxt.BadRequest):
            await bad_call(c)
    assert fake.count() == 0 and t.sleeps == []


async def test_liquidations_are_not_supported_over_rest_and_name_the_stream(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        with pytest.raises(ccxt.NotSupported) as info:
            await c.fetch_liquidations(SYMBOL)
    assert isinstance(info.value, LiquidationsNotSupported)
    assert "!forceOrder@arr" in str(info.value) and "watch_liquidations" in str(info.value)
    assert fake.count() == 0


async def test_signed_call_without_credentials_is_an_authentication_error_not_retried(
    fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        with pytest.raises(ccxt.AuthenticationError):
            await c.fetch_my_liquidations(SYMBOL)
    assert fake.count("/fapi/v1/forceOrders") == 0 and t.sleeps == []


# ------------------------------------------------------------------ breaker and journal


async def test_breaker_opens_after_ten_failures_rejects_fast_and_recovers_through_half_open(
    any_journal: str, t: FakeTime
) -> None:
    async with FakeBinance() as fake:
        fake.inject("/fapi/v1/klines", "http503", times=None)
        async with make_client(fake, t) as c:  # threshold 10, recovery 120 s, 5 retries
            breaker = c.breakers["binance_ohlcv"]
            with pytest.raises(RetryError) as first:  # 6 attempts: 6 failures
                await c.fetch_ohlcv(SYMBOL, "5m")
            assert first.value.attempts == 6 and breaker.state == "CLOSED"
            # the 10th failure opens it and ends that call's retrying at once, unwrapped
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await c.fetch_ohlcv(SYMBOL, "5m")
            assert breaker.state == "OPEN" and fake.count("/fapi/v1/klines") == 10
            sleeps = list(t.sleeps)
            assert sleeps == [2, 4, 8, 16, 32, 2, 4, 8]
            # rejected fast: no request at all, no sleep
            before = fake.count()
            with pytest.raises(CircuitBreakerError) as rejected:
                await c.fetch_ohlcv(SYMBOL, "5m")
            assert rejected.value.name == "binance_ohlcv"
            assert fake.count() == before and t.sleeps == sleeps
            # other endpoints are not affected
            assert await c.fetch_open_interest(SYMBOL)
            fake.clear_faults()
            t.now += 120
            assert await c.fetch_ohlcv(SYMBOL, "5m", limit=5)  # trial 1: HALF_OPEN
            assert breaker.state == "HALF_OPEN"
            assert await c.fetch_ohlcv(SYMBOL, "5m", limit=5)  # trial 2 closes it
            assert breaker.state == "CLOSED"
    assert journal.flush(10)
    transitions = [
        (e.state_from, e.state_to) for e in events(any_journal, ["breaker"], ["binance_ohlcv"])
    ]
    assert transitions == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    tallies = events(any_journal, ["calls"], ["binance_ohlcv"])
    assert sum(e.context["successes"] for e in tallies) == 2
    assert sum(e.context["failures"] for e in tallies) == 10
    assert sum(e.context["rejected"] for e in tallies) == 1
    errors = events(any_journal, ["error"], ["binance_ohlcv"])
    assert len(errors) == 10
    assert {e.error_type for e in errors} == {"api_ohlcv_error"}
    assert {e.context["exception"] for e in errors} == {"ccxt.base.errors.ExchangeNotAvailable"}
    assert [e.context["attempt"] for e in errors] == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4]
    assert {
        (e.context["symbol"], e.context["endpoint"], e.context["http_status"]) for e in errors
    } == {(SYMBOL, "fetch_ohlcv", 503)}
    retries = events(any_journal, ["retry"], ["binance_ohlcv"])
    # call 1: 5 sleeps + "gave up"; call 2: 3 sleeps + "gave up: breaker opened"
    assert [e.delay for e in retries if not e.context.get("gave_up")] == [2, 4, 8, 16, 32, 2, 4, 8]
    gave_up = [e.context["reason"] for e in retries if e.context.get("gave_up")]
    assert gave_up == ["retries exhausted", "circuit breaker binance_ohlcv opened"]


async def test_errors_are_journaled_with_the_seed_types_context_and_severity(
    sqlite_journal: str, fake: FakeBinance, t: FakeTime
) -> None:
    async with make_client(fake, t) as c:
        for _, path, _, _, call in METHODS:
            fake.inject(path, "http502")
            await call(c)
        with pytest.raises(ccxt.BadSymbol):
            await c.fetch_funding_rate("XYZ/USDT")
        fake.inject("/fapi/v1/klines", "http418", arg=60)
        await c.fetch_ohlcv(SYMBOL, "5m")
    assert journal.flush(10)
    errors = events(sqlite_journal, ["error"])
    got = [(e.error_type, e.name, e.severity, e.context["endpoint"]) for e in errors]
    assert got == [
        ("api_ohlcv_error", "binance_ohlcv", "ERROR", "fetch_ohlcv"),
        ("api_oi_error", "binance_oi", "ERROR", "fetch_open_interest"),
        ("api_oi_error", "binance_oi", "ERROR", "fetch_open_interest_history"),
        ("api_funding_error", "binance_funding", "ERROR", "fetch_funding_rate"),
        ("api_funding_error", "binance_funding", "ERROR", "fetch_funding_rate_history"),
        ("api_trader_ratio_error", "binance_trader_ratio", "ERROR", "fetch_trader_ratio"),
        ("api_trader_ratio_error", "binance_trader_ratio", "ERROR", "fetch_trader_ratio"),
        ("api_trader_ratio_error", "binance_trader_ratio", "ERROR", "fetch_trader_ratio"),
        ("api_funding_error", "binance_funding", "WARNING", "fetch_funding_rate"),
        ("api_ohlcv_error", "binance_ohlcv", "CRITICAL", "fetch_ohlcv"),
    ]
    assert errors[0].message.startswith("ExchangeNotAvailable: binanceusdm GET ")
    assert errors[-2].context["exception"] == "ccxt.base.errors.BadSymbol"
    assert errors[-1].context["retry_after"] == 60.0 and errors[-1].context["action"] == "ban"


# ------------------------------------------------------------------ Retry-After, 418, -1021


async def test_a_418_bans_every_endpoint_without_requests_until_its_retry_after(
    fake: FakeBinance, t: FakeTime
) -> None:
    fake.inject("/fapi/v1/klines", "http418", arg=300)
    async with make_client(fake, t, max_retries=0) as c:
        with pytest.raises(RetryError) as info:
            await c.fetch_ohlcv(SYMBOL, "5m")
        assert isinstance(info.value.last_exception, ccxt.DDoSProtection)
        before = fake.count()
        t.now += 100
        with pytest.raises(RetryError) as banned:
            await c.fetch_funding_rate(SYMBOL)
        assert isinstance(banned.value.last_exception, IPBanned)
        assert banned.value.last_exception.retry_after == pytest.approx(200)
        assert fake.count() == before  # no request during the ban
        # the gate's refusals are not breaker failures: the 418 was
        assert c.breakers["binance_funding"].get_stats()["failures"] == 0
        assert c.breakers["binance_ohlcv"].get_stats()["failures"] == 1
        t.now += 200
        assert await c.fetch_funding_rate(SYMBOL)


async def test_a_call_during_a_ban_waits_for_its_end_then_succeeds(
    fake: FakeBinance, t: FakeTime
) -> None:
    fake.inject("/fapi/v1/klines", "http418")  # no arg: Retry-After 120
    async with make_client(fake, t) as c:
        await c.fetch_ohlcv(SYMBOL, "5m")
        assert t.sleeps == [120.0]
        assert fake.count("/fapi/v1/klines") == 2


async def test_invalid_nonce_resynchronises_the_clock_then_retries(
    fake: FakeBinance, t: FakeTime
) -> None:
    fake.inject("/fapi/v1/openInterest", "err-1021")
    async with make_client(fake, t) as c:
        assert await c.fetch_open_interest(SYMBOL)
    paths = [r.path for r in fake.requests]
    assert paths == [
        "/fapi/v1/exchangeInfo",
        "/fapi/v1/openInterest",
        "/fapi/v1/time",
        "/fapi/v1/openInterest",
    ]


async def test_concurrent_calls_each_wait_their_own_retry_after(
    sqlite_journal: str, fake: FakeBinance, t: FakeTime
) -> None:
    # decreasing with the start order: a shared or "longest so far" pause would show
    waits = {m[0]: float(40 - 3 * i) for i, m in enumerate(METHODS)}
    async with make_client(fake, t) as c:
        await c.fetch_open_interest(SYMBOL)  # markets loaded: the calls below start together
        for name, path, *_ in METHODS:
            fake.inject(path, "http429", arg=int(waits[name]))
        tasks = [asyncio.create_task(call(c), name=name) for name, _, _, _, call in METHODS]
        results = await asyncio.gather(*tasks)
    assert all(results)
    assert sorted(t.by_task) == sorted(waits.items())


# ------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(
    ("exc", "status", "action"),
    [
        (ccxt.RequestTimeout("x"), None, _faults.Action.RETRY),
        (ccxt.ExchangeNotAvailable("x"), 503, _faults.Action.RETRY),
        (ccxt.DDoSProtection("binanceusdm 429 Too Many Requests {}"), 429, _faults.Action.RETRY),
        (ccxt.DDoSProtection("binanceusdm 418 I'm a Teapot {}"), 418, _faults.Action.BAN),
        (ccxt.DDoSProtection("binanceusdm 418 I'm a Teapot {}"), None, _faults.Action.BAN),
        (ccxt.RateLimitExceeded("x"), 400, _faults.Action.RETRY),
        (ccxt.OperationFailed("x"), 503, _faults.Action.RETRY),
        (ccxt.InvalidNonce("x"), 400, _faults.Action.RESYNC),
        (BadResponse("x"), 200, _faults.Action.RETRY),
        (IPBanned("x", 5.0), None, _faults.Action.RETRY),
        (ccxt.AuthenticationError("x"), 401, _faults.Action.GIVE_UP),
        (ccxt.PermissionDenied("x"), 401, _faults.Action.GIVE_UP),
        (ccxt.BadSymbol("x"), 400, _faults.Action.GIVE_UP),
        (ccxt.BadRequest("x"), 400, _faults.Action.GIVE_UP),
        (ccxt.NotSupported("x"), None, _faults.Action.GIVE_UP),
        (ccxt.ExchangeError("x"), 400, _faults.Action.GIVE_UP),
        (ValueError("x"), None, _faults.Action.GIVE_UP),
    ],
)
def test_classification_table(exc: BaseException, status: int | None, action: Any) -> None:
    assert _faults.classify(exc, status) is action


def test_when_an_empty_history_is_a_bad_response() -> None:
    now, five = 1_800_000_000_000, 300_000
    assert rows_required(None, five, now)  # the latest rows: always some
    assert rows_required(now - five, five, now)  # one whole period has passed
    assert not rows_required(now - five + 1, five, now)  # not yet
    assert not rows_required(now + five, five, now)  # the future
    thirty_days = 30 * 86_400_000
    assert not rows_required(now - thirty_days - 1, five, now, thirty_days)  # no longer kept


def test_request_timed_out_is_both_families() -> None:
    e = RequestTimedOut("binanceusdm GET http://x")
    assert isinstance(e, ccxt.RequestTimeout) and isinstance(e, TimeoutError)
    assert str(e) == "binanceusdm GET http://x"


async def test_closed_client_refuses_calls(fake: FakeBinance, t: FakeTime) -> None:
    c = make_client(fake, t)
    async with c:
        assert await c.fetch_open_interest(SYMBOL)
    with pytest.raises(ccxt.ExchangeClosedByUser):
        await c.fetch_open_interest(SYMBOL)
    assert isinstance(c, HardenedBinanceFuturesClient)


async def test_print_error_summary_shows_the_endpoint_errors_and_breakers(
    sqlite_journal: str, fake: FakeBinance, t: FakeTime
) -> None:
    from rich.console import Console

    fake.inject("/fapi/v1/fundingRate", "http503")
    async with make_client(fake, t) as c:
        await c.fetch_funding_rate_history(SYMBOL, limit=5)
        console = Console(record=True, width=160)
        c.print_error_summary(console)
    text = console.export_text()
    assert "api_funding_error" in text and "binance_funding" in text
