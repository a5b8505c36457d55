"""The collection loop with the real client, the real ccxt and the fake exchange on 127.0.0.1.

Wall time (which candles have closed) is a clock the test moves; the client's retry sleeps
and breakers run on a fake monotonic clock, so an outage of minutes costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest

import journal
from journal.collector.collect import Collector
from journal.collector.fake_exchange import FakeBinance
from journal.collector.records import Candle, MarketRecord
from tests.collector_support import FakeTime, events, make_client

T0 = 1_795_000_000 // 60 * 60 + 30  # 30 s into a minute
MIN_MS = 60_000


class Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def clock(self) -> float:
        return self.t


@pytest.fixture
def wall() -> Wall:
    return Wall(T0)


@pytest.fixture
async def fake(wall: Wall) -> AsyncIterator[FakeBinance]:
    async with FakeBinance(clock=wall.clock) as f:
        yield f


@pytest.fixture
def sqlite_journal(sqlite_url: str) -> Iterator[str]:
    journal.configure(sqlite_url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    yield sqlite_url
    journal.shutdown(10)


class Sink:
    def __init__(self) -> None:
        self.records: list[MarketRecord] = []

    def __call__(self, records: Sequence[MarketRecord]) -> None:
        self.records.extend(records)

    def candles(self) -> list[Candle]:
        return [r for r in self.records if isinstance(r, Candle)]


async def test_candles_missed_in_an_outage_are_fetched_when_it_ends(
    fake: FakeBinance, wall: Wall, sqlite_journal: str
) -> None:
    sink, t = Sink(), FakeTime()
    async with make_client(fake, t, max_retries=2, initial_delay=1.0) as client:
        c = Collector(client, ["BTC/USDT:USDT"], "1m", 60, sink, endpoints=["ohlcv"],
                      backfill=10, clock=wall.clock)  # fmt: skip
        assert await c.turn("BTC/USDT:USDT", "ohlcv") == 10
        fake.inject("/fapi/v1/klines", "http503", times=None)
        for _ in range(5):  # five minutes of failed turns
            wall.t += 60
            assert await c.turn("BTC/USDT:USDT", "ohlcv") == 0
        assert client.breakers["binance_ohlcv"].state == "OPEN"  # 15 failed attempts
        fake.clear_faults()
        wall.t += 60
        assert await c.turn("BTC/USDT:USDT", "ohlcv") == 0  # still open: rejected, no request
        t.now += 121  # past the breaker's recovery timeout: the next turn is its trial
        wall.t += 60
        assert await c.turn("BTC/USDT:USDT", "ohlcv") == 7
        assert client.breakers["binance_ohlcv"].state == "HALF_OPEN"  # one good trial of two
        wall.t += 60
        assert await c.turn("BTC/USDT:USDT", "ohlcv") == 1
        assert client.breakers["binance_ohlcv"].state == "CLOSED"
    ts = [x.ts for x in sink.candles()]
    assert len(ts) == len(set(ts)) == 18
    assert ts == list(range(ts[0], ts[0] + 18 * MIN_MS, MIN_MS))  # contiguous: nothing lost
    last_closed = (int(wall.t * 1000) // MIN_MS - 1) * MIN_MS
    assert ts[-1] == last_closed
    assert c.stats.failures == 6 and c.stats.gaps == 0 and c.stats.unexpected == 0
    status = c.stats.status[("BTC/USDT:USDT", "ohlcv")]
    assert status.last_error is None and status.failures == 6 and status.records == 18
    assert journal.flush(10)
    errors = events(sqlite_journal, ["error"])
    assert {e.error_type for e in errors} == {"api_ohlcv_error"}
    assert not [e for e in errors if e.error_type == "candle_gap"]


async def test_a_hole_the_exchange_cannot_fill_is_journaled_once(
    fake: FakeBinance, wall: Wall, sqlite_journal: str
) -> None:
    route = fake.market.routes["/fapi/v1/klines"]
    first = (int(wall.t * 1000) // MIN_MS - 10) * MIN_MS  # the oldest of a 10-candle backfill
    hole = range(first + 4 * MIN_MS, first + 7 * MIN_MS)  # 3 candles the exchange lost

    def holed(query: dict[str, str], now_ms: int) -> Any:
        return [row for row in route(query, now_ms) if row[0] not in hole]

    fake.market.routes["/fapi/v1/klines"] = holed
    sink, t = Sink(), FakeTime()
    async with make_client(fake, t) as client:
        c = Collector(client, ["SOL/USDT"], "1m", 60, sink, endpoints=["ohlcv"], backfill=10,
                      clock=wall.clock)  # fmt: skip
        assert await c.turn("SOL/USDT", "ohlcv") == 7
        wall.t += 120
        assert await c.turn("SOL/USDT", "ohlcv") == 2  # goes on past the hole, no new gap
    assert c.stats.gaps == 1
    assert journal.flush(10)
    (gap,) = [e for e in events(sqlite_journal, ["error"]) if e.error_type == "candle_gap"]
    assert gap.severity == "WARNING" and gap.name == "binance_ohlcv"
    assert gap.context["from_ms"] == hole.start and gap.context["to_ms"] == hole.stop
    assert gap.context["missing"] == 3 and gap.context["symbol"] == "SOL/USDT"


async def test_a_failing_endpoint_or_symbol_never_stops_the_others(sqlite_journal: str) -> None:
    """Real time: open interest always fails, one symbol is unknown to the exchange; the
    other tasks keep collecting turn after turn and `run` ends cleanly on stop."""
    sink, t = Sink(), FakeTime()
    async with FakeBinance() as fake:
        fake.inject("/fapi/v1/openInterest", "http503", times=None)
        async with make_client(fake, t, max_retries=1) as client:
            c = Collector(client, ["BTC/USDT:USDT", "XRP/USDT:USDT"], "1m", 0.3, sink,
                          backfill=5)  # fmt: skip
            stop = asyncio.Event()
            runner = asyncio.create_task(c.run(stop))
            for _ in range(200):  # until every task has had a few turns
                await asyncio.sleep(0.1)
                if min(st.fetches + st.failures for st in c.stats.status.values()) >= 3:
                    break
            stop.set()
            await asyncio.wait_for(runner, 30)
    st = c.stats.status
    btc, xrp = "BTC/USDT:USDT", "XRP/USDT:USDT"
    for endpoint in ("ohlcv", "funding", "trader_ratio"):
        assert st[(btc, endpoint)].fetches >= 3 and st[(btc, endpoint)].last_error is None
        assert st[(xrp, endpoint)].failures >= 3 and st[(xrp, endpoint)].fetches == 0
    assert st[(btc, "oi")].failures >= 3 and st[(btc, "oi")].fetches == 0
    assert c.stats.unexpected == 0  # every failure was the client's, journaled by it
    assert {r.symbol for r in sink.records} == {btc}
    assert len({x.key() for x in sink.candles()}) >= 5
