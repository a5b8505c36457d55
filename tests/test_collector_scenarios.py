"""The seed's "Error Scenarios" 2 and 3 with the hardened client, the real ccxt and the fake.

Scenario 2 (network timeout): ``except TimeoutError`` catches it, it was logged and retried
automatically, and the caller falls back to cached data.
Scenario 3 (invalid data): validation is built in; it raises ValueError if empty, the error is
tracked automatically, and a retry is attempted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import ccxt
import pytest

import journal
from journal.collector.binance import BadResponse
from journal.collector.fake_exchange import FakeBinance
from journal.errors import RetryError
from tests.collector_support import SYMBOL, FakeTime, events, make_client


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as f:
        yield f


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    journal.configure(db_url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    yield db_url
    journal.shutdown(10)


async def test_scenario_2_network_timeout_caught_as_timeout_error_logged_and_retried(
    url: str, fake: FakeBinance
) -> None:
    t = FakeTime()
    cache = {"last_ohlcv": ["cached candles"]}
    fake.inject("/fapi/v1/klines", "stall", times=None, arg=5)
    async with make_client(fake, t, timeout_ms=200) as client:  # the seed's 5 retries, 2 s doubling
        try:
            data = await client.fetch_ohlcv("SOL/USDT", "5m")
        except TimeoutError as exc:
            data = cache.get("last_ohlcv")
            caught = exc
    assert data == ["cached candles"]
    # what was caught: every attempt failed, the last one on a timeout
    assert isinstance(caught, RetryError) and caught.attempts == 6
    assert isinstance(caught.last_exception, ccxt.RequestTimeout)
    assert fake.count("/fapi/v1/klines") == 6  # "Retry attempted automatically"
    assert t.sleeps == [2, 4, 8, 16, 32]
    # "Logged automatically": six errors, five retries and the give-up, all named binance_ohlcv
    assert journal.flush(10)
    errors = events(url, ["error"], ["binance_ohlcv"])
    assert [e.error_type for e in errors] == ["api_ohlcv_error"] * 6
    assert {e.context["exception"] for e in errors} == {"journal.collector._faults.RequestTimedOut"}
    assert all(e.message.startswith("RequestTimedOut: binanceusdm GET ") for e in errors)
    retries = events(url, ["retry"], ["binance_ohlcv"])
    assert [e.attempt for e in retries] == [1, 2, 3, 4, 5, 6]
    assert retries[-1].context["gave_up"] is True
    assert {e.error_type for e in retries} == {"RequestTimedOut"}


async def test_scenario_2_a_timeout_that_opens_the_breaker_is_still_a_timeout_error(
    fake: FakeBinance,
) -> None:
    t = FakeTime()
    fake.inject("/fapi/v1/klines", "stall", times=None, arg=5)
    async with make_client(fake, t, timeout_ms=200, failure_threshold=3) as client:
        with pytest.raises(TimeoutError) as info:
            await client.fetch_ohlcv(SYMBOL, "5m")
    assert isinstance(info.value, ccxt.RequestTimeout)  # re-raised as it was: the breaker opened
    assert not isinstance(info.value, RetryError)
    assert client.breakers["binance_ohlcv"].state == "OPEN"
    assert fake.count("/fapi/v1/klines") == 3


@pytest.mark.parametrize("kind", ["empty-array", "empty-object", "null", "empty-body", "html200"])
async def test_scenario_3_empty_response_raises_value_error_is_tracked_and_retried(
    url: str, fake: FakeBinance, kind: str
) -> None:
    t = FakeTime()
    fake.inject("/fapi/v1/klines", kind)  # once: the retry gets good data
    async with make_client(fake, t) as client:
        candles = await client.fetch_ohlcv("SOL/USDT", "5m")
    assert len(candles) == 500
    assert fake.count("/fapi/v1/klines") == 2 and t.sleeps == [2]  # "Retry attempted"
    assert journal.flush(10)
    (error,) = events(url, ["error"], ["binance_ohlcv"])  # "Error tracked automatically"
    assert error.error_type == "api_ohlcv_error"
    assert error.context["exception"] == "journal.collector._faults.BadResponse"
    assert error.message.startswith("BadResponse: bad response from fetch_ohlcv(SOL/USDT:USDT, 5m)")
    (retry,) = events(url, ["retry"], ["binance_ohlcv"])
    assert retry.error_type == "BadResponse" and retry.delay == 2


async def test_scenario_3_data_that_stays_empty_raises_value_error(fake: FakeBinance) -> None:
    t = FakeTime()
    fake.inject("/fapi/v1/klines", "empty-array", times=None)
    async with make_client(fake, t) as client:
        with pytest.raises(ValueError) as info:  # "Raises ValueError if empty"
            await client.fetch_ohlcv("SOL/USDT", "5m")
    assert isinstance(info.value, RetryError) and info.value.attempts == 6
    assert isinstance(info.value.last_exception, BadResponse)
    assert isinstance(info.value.last_exception, ValueError)
    assert "empty list where rows must exist" in str(info.value)
    assert fake.count("/fapi/v1/klines") == 6


async def test_scenario_3_an_empty_range_that_has_not_begun_is_not_an_error(
    fake: FakeBinance,
) -> None:
    t = FakeTime()
    async with make_client(fake, t) as client:
        future = int(fake.clock() * 1000) + 3_600_000
        assert await client.fetch_ohlcv("SOL/USDT", "5m", since=future) == []
        assert await client.fetch_funding_rate_history("SOL/USDT", since=future) == []
    assert fake.count("/fapi/v1/klines") == 1 and t.sleeps == []
