"""Market data storage: upserts on natural keys on both dialects, the buffered writer under real
faults (a cut PostgreSQL, a locked SQLite file, kill -9), dead letters, migration up and down."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, pool
from sqlalchemy.engine import make_url

from journal.collector import _market_sql
from journal.collector._market_codec import MARKET_CODEC, normalise
from journal.collector.records import Candle, FundingRate, MarketRecord, OpenInterest, TraderRatio
from journal.collector.storage import TABLES, MarketStore, MarketWriter
from journal.errors import SchemaNotReady, StoreDataError
from journal.events import Event
from journal.store.event_store import EventStore
from journal.store.migrate import check_migrated, current_revision, downgrade, upgrade
from journal.writing.deadletter import FILENAME, read_dead_letters
from journal.writing.spool import frame
from journal.writing.writer import BufferedWriter
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/nothing"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
SOL = "SOL/USDT:USDT"


def candles(
    n: int, *, symbol: str = SOL, tf: str = "1m", start: int = 0, close: float = 1.5
) -> list[Candle]:
    return [
        Candle(symbol, tf, T0 + 60_000 * i, 1.0 + i, 2.0 + i, 0.5, close + i, 10.0 * i)
        for i in range(start, start + n)
    ]  # fmt: skip


def writer_for(url: str, spool: Path, seen: list[Event] | None = None, **kw: Any) -> MarketWriter:
    kw.setdefault("flush_interval", 0.05)
    kw.setdefault("retry_initial", 0.05)
    events: list[Event] = seen if seen is not None else []
    return MarketWriter(url, spool, emit=events.append, **kw)


# ---------------------------------------------------------------- the store


def test_the_same_5000_candles_twice_are_5000_rows(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        batch = candles(5000)
        assert store.upsert(batch) == 5000
        assert store.upsert(batch) == 0  # nothing changed: nothing written
        assert store.count("candles") == 5000 == store.distinct_keys("candles")
        assert store.read_candles(SOL, "1m") == batch
        assert store.latest_ts("candles", symbol=SOL, timeframe="1m") == T0 + 60_000 * 4999


def test_a_candle_fetched_again_while_open_is_updated(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        store.upsert(candles(10))
        live = candles(1, start=9)[0]
        assert store.upsert([live._replace(close=42.5, volume=7.25)]) == 1
        got = store.read_candles(SOL, "1m", since=live.ts)
        assert got == [live._replace(close=42.5, volume=7.25)]
        assert store.count("candles") == 10


def test_duplicates_in_one_batch_keep_the_last(migrated_url: str) -> None:
    # PostgreSQL's ON CONFLICT refuses to touch one row twice in a statement: folded first.
    with MarketStore(migrated_url) as store:
        first = candles(3)
        batch = [*first, first[1]._replace(close=7.0), first[1]._replace(close=8.0), first[0]]
        assert store.upsert(batch) == 3
        assert [c.close for c in store.read_candles(SOL, "1m")] == [1.5, 8.0, 3.5]


def test_series_are_kept_apart_and_read_by_range(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        store.upsert(candles(5) + candles(5, tf="5m") + candles(5, symbol="BTC/USDT:USDT"))
        assert store.count("candles") == 15
        got = store.read_candles(SOL, "5m", since=T0 + 60_000, until=T0 + 3 * 60_000)
        assert [c.ts for c in got] == [T0 + 60_000, T0 + 120_000]
        assert store.latest_ts("candles", symbol="ETH/USDT:USDT", timeframe="1m") is None


def _records(table: str, n: int, v: float) -> list[MarketRecord]:
    out: list[MarketRecord] = []
    for i in range(n):
        ts = T0 + 300_000 * i
        if table == "candles":
            out.append(Candle(SOL, "5m", ts, v, v + 1, v - 1, v, 100.0))
        elif table == "open_interest":
            out.append(OpenInterest(SOL, "5m" if i % 2 else "", ts, v * 1000, None if i % 3 else v))
        elif table == "funding_rates":
            nxt = ts + 28_800_000 if i % 2 else None
            out.append(FundingRate(SOL, ts, v / 1e4, None if i % 2 == 0 else 150.25, nxt))
        else:
            kind = ("global_account", "top_account", "top_position")[i % 3]
            out.append(TraderRatio(SOL, kind, "5m", ts, v, 0.5 if i % 2 else None, 0.5))
    return out


@pytest.mark.parametrize("table", TABLES)
def test_every_table_upserts_on_its_natural_key(migrated_url: str, table: str) -> None:
    with MarketStore(migrated_url) as store:
        first = _records(table, 300, 1.5)
        assert store.upsert(first) == 300
        assert store.upsert(first) == 0
        changed = _records(table, 300, 2.5)
        # the changed values, each twice in the batch (the later wins), and the old ones again
        assert store.upsert([*changed[:100], *first[:100], *changed[:100]]) == 100
        assert store.count(table) == 300 == store.distinct_keys(table)
        got = sorted(store.read(table), key=lambda r: r.key())
        assert got == sorted([*changed[:100], *first[100:]], key=lambda r: r.key())
        for t in TABLES:
            if t != table:
                assert store.count(t) == 0


@pytest.mark.parametrize("table", TABLES)
def test_a_batch_of_many_statements_counts_only_what_changed(migrated_url: str, table: str) -> None:
    # 1234 rows: on SQLite two statements of 500 rows, then 234 rows one by one.
    with MarketStore(migrated_url) as store:
        first = _records(table, 1234, 1.5)
        assert store.upsert(first) == 1234
        assert store.upsert(first) == 0
        changed = _records(table, 1234, 2.5)
        mixed = [changed[i] if i % 3 == 0 else first[i] for i in range(1234)]
        assert store.upsert(mixed) == 412  # i % 3 == 0 for 0..1233
        assert store.count(table) == 1234 == store.distinct_keys(table)
        assert sorted(store.read(table), key=lambda r: r.key()) == sorted(
            mixed, key=lambda r: r.key()
        )


def test_sqlite_statements_stay_within_the_builds_variable_limit(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A SQLite built with the old default of 999 variables: 124 candles a statement.
    upgrade(sqlite_url)
    monkeypatch.setattr(_market_sql, "_sqlite_variable_limit", lambda conn: 999)
    with MarketStore(sqlite_url) as store:
        batch = candles(1000)
        assert store.upsert(batch) == 1000
        assert store._upserts._multi["candles"][0] == 124  # type: ignore[union-attr]
        assert store.read_candles(SOL, "1m") == batch


def test_a_mixed_batch_goes_to_each_table(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        batch = [r for t in TABLES for r in _records(t, 7, 3.0)]
        assert store.upsert(batch) == 28
        assert [store.count(t) for t in TABLES] == [7, 7, 7, 7]


def test_an_interleaved_batch_keeps_each_keys_last_record_per_table(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        old = {t: _records(t, 4, 3.0) for t in TABLES}
        new = {t: _records(t, 4, 4.0) for t in TABLES}
        # Tables take turns, and every table sees key 1 twice: old first, then new.
        batch = [r for i in (0, 1, 2, 3) for t in TABLES for r in (old[t][i], new[t][1])]
        assert store.upsert(batch) == 4 * len(TABLES)
        for t in TABLES:
            got = sorted(store.read(t), key=lambda r: r.key())
            assert got == sorted(
                [old[t][0], new[t][1], old[t][2], old[t][3]], key=lambda r: r.key()
            )


def test_append_refuses_what_is_not_a_market_record(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        with pytest.raises(StoreDataError, match="not a market record: tuple"):
            store.append([*candles(2), (SOL, "1m", T0, 1.0, 1.0, 1.0, 1.0, 1.0)])  # type: ignore[list-item]
        assert store.count("candles") == 0


def test_an_invalid_record_refuses_the_upsert_and_writes_nothing(migrated_url: str) -> None:
    with MarketStore(migrated_url) as store:
        with pytest.raises(StoreDataError, match="close is nan"):
            store.upsert([*candles(3), candles(1, start=3)[0]._replace(close=math.nan)])
        assert store.count("candles") == 0
        with pytest.raises(ValueError, match="unknown market table"):
            store.count("events")
        with pytest.raises(ValueError, match="keyed by symbol, ts"):
            store.latest_ts("funding_rates", timeframe="1m")


# ---------------------------------------------------------------- normalisation


BAD: list[tuple[object, str]] = [
    (Candle(SOL, "1m", T0, 1.0, 2.0, 0.5, math.nan, 1.0), "close is nan"),
    (Candle(SOL, "1m", T0, 1.0, math.inf, 0.5, 1.0, 1.0), "high is inf"),
    (Candle("X" * 65, "1m", T0, 1.0, 2.0, 0.5, 1.0, 1.0), "symbol is 65 characters long"),
    (Candle(SOL, "", T0, 1.0, 2.0, 0.5, 1.0, 1.0), "timeframe is empty"),
    (Candle("SOL\tUSDT", "1m", T0, 1.0, 2.0, 0.5, 1.0, 1.0), "control character"),
    (Candle(SOL, "1m", -1, 1.0, 2.0, 0.5, 1.0, 1.0), "ts -1 is out of range"),
    (Candle(SOL, "1m", True, 1.0, 2.0, 0.5, 1.0, 1.0), "not a bool"),
    (Candle(SOL, "1m", T0 + 0.5, 1.0, 2.0, 0.5, 1.0, 1.0), "not a whole number"),
    (Candle(SOL, "1m", T0, "1.0", 2.0, 0.5, 1.0, 1.0), "open must be a number, not str"),  # type: ignore[arg-type]
    (Candle(SOL, "1m", T0, 1.0, 2.0, 0.5, 1.0, None), "volume must be a number"),  # type: ignore[arg-type]
    (OpenInterest(SOL, "5m", T0, 10**400, None), "amount must be a number"),  # type: ignore[arg-type]
    (FundingRate(SOL, T0, 0.0001, None, 2**63), "next_funding_ts"),
    (TraderRatio(SOL, "whales", "5m", T0, 1.0, None, None), "kind 'whales' is not one of"),
    ({"symbol": SOL}, "not a market record: dict"),
    (None, "not a market record: NoneType"),
]  # fmt: skip


@pytest.mark.parametrize(("record", "reason"), BAD)
def test_normalise_refuses_with_a_reason(record: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        normalise(record)


def test_normalise_gives_exact_types() -> None:
    got = normalise(Candle(SOL, "1m", float(T0), 1, 2, 0, 1, 0))  # type: ignore[arg-type]
    assert got == Candle(SOL, "1m", T0, 1.0, 2.0, 0.0, 1.0, 0.0)
    assert [type(v) for v in got] == [str, str, int, float, float, float, float, float]
    same = Candle(SOL, "1m", T0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert normalise(normalise(same)) is normalise(same)  # the exact case is passed through
    assert normalise(OpenInterest(SOL, "", T0, 5, None)) == OpenInterest(SOL, "", T0, 5.0, None)


def test_the_codec_round_trips_every_record_type() -> None:
    for table in TABLES:
        for r in _records(table, 6, 1.25):
            line = MARKET_CODEC.encode(r)
            assert line.endswith(b"\n") and line.count(b"\n") == 1
            assert MARKET_CODEC.decode(line[9:-1]) == r
    with pytest.raises(ValueError):
        MARKET_CODEC.decode(b'["candles", "SOL", "1m", 1, NaN, 1.0, 1.0, 1.0, 1.0]')
    with pytest.raises(ValueError):
        MARKET_CODEC.decode(b'["events", 1]')


# ---------------------------------------------------------------- the buffered writer


def test_the_writer_stores_everything_once(migrated_url: str, tmp_path: Path) -> None:
    w = writer_for(migrated_url, tmp_path / "spool")
    batch = candles(6000)
    assert w.submit_many(batch) == 6000
    assert w.submit_many(batch[:1000]) == 1000  # re-fetched: unchanged
    assert w.flush(30) and w.close(10)
    st = w.stats()
    assert (st.stored, st.unchanged, st.spooled, st.dropped, st.outages) == (6000, 1000, 0, 0, 0)
    with MarketStore(migrated_url) as store:
        assert store.count("candles") == 6000 == store.distinct_keys("candles")


def test_bad_records_amid_good_ones_are_dead_lettered(migrated_url: str, tmp_path: Path) -> None:
    w = writer_for(migrated_url, tmp_path / "spool")
    good = candles(5000)
    bad = [r for r, _ in BAD]
    for i, c in enumerate(good):
        if i % 300 == 0 and bad:
            assert w.submit(bad.pop()) is False  # type: ignore[arg-type]
        assert w.submit(c) is True
    assert not bad
    assert w.flush(30) and w.close(10)
    with MarketStore(migrated_url) as store:
        assert store.count("candles") == 5000
    st = w.stats()
    assert st.invalid == len(BAD) == st.dead_lettered and st.stored == 5000 and st.dropped == 0
    letters = list(read_dead_letters(tmp_path / "spool" / "market" / "deadletter" / FILENAME))
    reasons = sorted(r["reason"] for r in letters)
    assert len(letters) == len(BAD)
    for _, expected in BAD:
        assert any(expected in r for r in reasons), expected
    nan = next(r for r in letters if "close is nan" in r["reason"])
    assert nan["type"] == "Candle" and nan["record"]["symbol"] == SOL
    assert nan["record"]["close"] == "nan"


def proxied(pg_url: str) -> tuple[TcpProxy, str]:
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    return proxy, u.set(port=proxy.port).render_as_string(hide_password=False)


@pytest.mark.slow
def test_postgres_cut_while_20000_candles_stream_in_loses_none(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    proxy, url = proxied(pg_url)
    seen: list[Event] = []
    w = writer_for(url, tmp_path / "spool", seen, batch_size=500)
    batch = candles(20_000)
    start = time.monotonic()
    cut = restored = False
    for i, c in enumerate(batch):
        target = start + i / 2000  # 2,000 candles/s for 10 s: cut from 2 s to 7 s
        while (now := time.monotonic()) < target:
            time.sleep(min(0.002, target - now))
        if not cut and now - start >= 2:
            proxy.cut()
            cut = True
        if cut and not restored and now - start >= 7:
            proxy.restore()
            restored = True
        w.submit(c)
    proxy.restore()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not w.flush(1):
        pass
    assert w.close(20)
    proxy.close()
    st = w.stats()
    assert st.outages == 1 and st.spooled > 0 and st.drained == st.spooled and st.dropped == 0
    assert (
        st.quarantined == 0
        and st.spool_pending == 0
        and list((tmp_path / "spool" / "market").glob("*.spool")) == []
    )
    with MarketStore(pg_url) as store:
        assert store.count("candles") == 20_000 == store.distinct_keys("candles")
        assert store.read_candles(SOL, "1m") == batch
    names = [e.name for e in seen]
    assert "market_store_unavailable" in names and "market_store_recovered" in names


@pytest.mark.slow
def test_sqlite_locked_by_another_process_loses_no_candle(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    batch = candles(20_000)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # Short waits so the lock becomes an outage in about a second (not ~10 s).
        w = writer_for(url, tmp_path / "spool", write_busy_timeout=0.2, retry_attempts=2)
        w.submit_many(batch[:10_000])
        deadline = time.monotonic() + 30
        while not (w.stats().outage and w.stats().spooled) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert w.stats().outage and holder.poll() is None
        w.submit_many(batch[10_000:])
    finally:
        holder.kill()  # the lock goes with its process
        holder.wait(10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not w.flush(1):
        pass
    assert w.close(10)
    st = w.stats()
    assert st.spooled > 0 and st.drained == st.spooled and st.spool_pending == 0 and st.dropped == 0
    with MarketStore(url) as store:
        assert store.count("candles") == 20_000 == store.distinct_keys("candles")
        assert store.read_candles(SOL, "1m") == batch


CHILD = """
import sys, time
from journal.collector.records import Candle
from journal.collector.storage import MarketWriter
url, spool, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = MarketWriter(url, spool, flush_interval=0.05, retry_attempts=1, auto_migrate=False,
                 emit=lambda e: None)
w.submit_many(Candle("BTC/USDT:USDT", "1m", 1_767_225_600_000 + 60_000 * i, 1.0, 2.0, 0.5,
                     1.5, float(i)) for i in range(n))
while w.stats().spooled < n:
    time.sleep(0.01)
print("spooled", w.stats().spooled, flush=True)
time.sleep(60)
"""


def test_kill_9_after_spooling_then_a_new_writer_drains_the_spool(
    migrated_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, DOWN, str(spool), "7000"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline().split() == ["spooled", "7000"]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    assert len(list((spool / "market").glob("market-*.spool"))) == 1
    assert list(spool.glob("*.spool")) == []  # nothing in the event writer's folder
    w = writer_for(migrated_url, spool)
    deadline = time.monotonic() + 30
    while w.stats().orphans_drained < 7000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert w.flush(10) and w.close(10)
    with MarketStore(migrated_url) as store:
        assert store.count("candles") == 7000 == store.distinct_keys("candles")
        assert [c.volume for c in store.read_candles("BTC/USDT:USDT", "1m")] == list(range(7000))
    assert list((spool / "market").glob("*.spool")) == []


def test_a_damaged_market_spool_delivers_the_valid_records(
    migrated_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "spool" / "market"
    folder.mkdir(parents=True)
    good = candles(4)
    forged = frame(b'["candles","SOL/USDT:USDT","1m",1,1.0,1.0,1.0,1.0,-Infinity]')  # valid crc
    (folder / "market-old-1-1.spool").write_bytes(
        MARKET_CODEC.encode(good[0]) + b"garbage\n" + forged + MARKET_CODEC.encode(good[1])
        + MARKET_CODEC.encode(good[2]) + MARKET_CODEC.encode(good[3])[:20]
    )  # fmt: skip
    w = writer_for(migrated_url, tmp_path / "spool")
    deadline = time.monotonic() + 10
    while w.stats().orphans_drained < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.flush(10) and w.close(10)
    assert w.stats().quarantined == 3
    with MarketStore(migrated_url) as store:
        assert store.read_candles(SOL, "1m") == good[:3]
    quarantined = (folder / "market-old-1-1.spool.quarantine").read_bytes().splitlines()
    assert len(quarantined) == 3 and forged.rstrip(b"\n") in quarantined


def test_event_and_market_spools_never_mix(migrated_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    events_down = BufferedWriter(EventStore(DOWN), spool_dir=spool, flush_interval=0.02,
                                 retry_attempts=1, emit=lambda e: None)  # fmt: skip
    market_down = MarketWriter(DOWN, spool, flush_interval=0.02, retry_attempts=1,
                               auto_migrate=False, emit=lambda e: None)  # fmt: skip
    from journal.events import error_event

    for i in range(50):
        events_down.submit(error_event("x", f"e{i}", source="mix:1"))
    market_down.submit_many(candles(50))
    deadline = time.monotonic() + 10
    while (events_down.stats().spooled < 50 or market_down.stats().spooled < 50) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    events_down.close(1)
    market_down.close(1)
    assert [p.name.split("-")[0] for p in spool.glob("*.spool")] == ["journal"]
    assert [p.name.split("-")[0] for p in (spool / "market").glob("*.spool")] == ["market"]
    # Each kind of writer drains only its own folder.
    events = BufferedWriter(EventStore(migrated_url), spool_dir=spool, emit=lambda e: None)
    market = writer_for(migrated_url, spool)
    assert events.flush(20) and market.flush(20)
    deadline = time.monotonic() + 10
    while (events.stats().orphans_drained < 50 or market.stats().orphans_drained < 50) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    assert events.stats().orphans_drained == 50 and market.stats().orphans_drained == 50
    assert events.close(10) and market.close(10)
    with MarketStore(migrated_url) as store:
        assert store.count("candles") == 50
    with EventStore(migrated_url) as ev:
        assert ev.count(sources=["mix:1"]) == 50


# ---------------------------------------------------------------- migrations


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0003_up_and_down(db_url: str) -> None:
    upgrade(db_url)
    assert set(TABLES) <= _tables(db_url)
    with MarketStore(db_url) as store:
        store.upsert(candles(3))
    with EventStore(db_url) as ev:
        from journal.events import error_event

        ev.append([error_event("x", "kept")])
    downgrade(db_url, "0002_snapshots")
    assert current_revision(db_url) == "0002_snapshots"
    assert not set(TABLES) & _tables(db_url) and {"events", "snapshots"} <= _tables(db_url)
    with pytest.raises(SchemaNotReady, match="0002_snapshots"):
        check_migrated(db_url)  # a journal at 0002 is not migrated
    with MarketStore(db_url) as store, pytest.raises(SchemaNotReady):
        store.count("candles")
    upgrade(db_url)
    with MarketStore(db_url) as store:
        assert store.count("candles") == 0
    with EventStore(db_url) as ev:
        assert ev.count() == 1


def test_dead_letter_lines_are_json(tmp_path: Path, migrated_url: str) -> None:
    w = writer_for(migrated_url, tmp_path / "spool")
    assert w.submit(Candle(SOL, "1m", T0, 1.0, 2.0, 0.5, 1.0, math.inf)) is False
    assert w.flush(10) and w.close(10)
    line = (tmp_path / "spool" / "market" / "deadletter" / FILENAME).read_text()
    record = json.loads(line)
    assert record["record"]["volume"] == "inf" and "volume is inf" in record["reason"]


def _child_writes(url: str, spool: str) -> None:
    w = _FORKED[0]  # the parent's writer, re-made for this child by the fork hook
    ok = w.submit_many(candles(300, symbol="CHILD/USDT:USDT")) == 300 and w.flush(30)
    os._exit(0 if ok and w.close(10) else 1)


_FORKED: list[MarketWriter] = []


def test_a_forked_child_gets_a_writer_of_its_own(sqlite_url: str, tmp_path: Path) -> None:
    import multiprocessing

    upgrade(sqlite_url)
    w = writer_for(sqlite_url, tmp_path / "spool")
    _FORKED[:] = [w]
    try:
        w.submit_many(candles(300))
        child = multiprocessing.get_context("fork").Process(
            target=_child_writes, args=(sqlite_url, str(tmp_path / "spool"))
        )
        child.start()
        w.submit_many(candles(300, start=300))
        child.join(60)
        assert child.exitcode == 0
        assert w.flush(30) and w.close(10)
    finally:
        _FORKED.clear()
    with MarketStore(sqlite_url) as store:
        assert len(store.read_candles(SOL, "1m")) == 600
        assert len(store.read_candles("CHILD/USDT:USDT", "1m")) == 300
