"""Chaos soak: `journal collect` for over two minutes against the fake's chaos profile, with a
PostgreSQL cut in the middle. Pass: nothing escapes the loop, every candle is stored exactly
once with no hole, every outage (an exchange endpoint's, the database's) is an incident."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import journal
from journal.collector.cli_collect import collect
from journal.collector.fake_exchange import FakeBinance
from journal.collector.storage import MarketStore
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from tests.journal_cli import run_journal
from tests.tcp_proxy import TcpProxy

SOAK_S = 125.0
CUT_AT_S, CUT_FOR_S = 45.0, 25.0
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
MIN_MS = 60_000


@pytest.mark.slow
@pytest.mark.pg
async def test_chaos_soak_with_a_database_cut_loses_no_candle(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOURNAL_SPOOL_DIR", str(tmp_path / "spool"))
    upgrade(pg_url)
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    via_proxy = u.set(port=proxy.port).render_as_string(hide_password=False)

    async def cut_the_database() -> None:
        await asyncio.sleep(CUT_AT_S)
        proxy.cut()
        await asyncio.sleep(CUT_FOR_S)
        proxy.restore()

    started_ms = 0
    try:
        async with FakeBinance(seed=11) as fake:
            fake.set_profile("chaos", rate=0.1, stall_s=2.0)
            # a hard outage of the funding endpoint: its breaker must open (and close again)
            fake.add_window("/fapi/v1/premiumIndex", "http503", 15.0, 30.0)
            started_ms = int(fake.clock() * 1000)
            cutter = asyncio.create_task(cut_the_database())
            code = await collect(
                via_proxy,
                SYMBOLS,
                "1m",
                1.0,
                exchange_url=fake.base_url,
                duration=SOAK_S,
                backfill=30,
                client_options={
                    "max_retries": 2,
                    "initial_delay": 0.1,
                    "max_delay": 0.5,
                    "timeout_ms": 1000,
                    "recovery_timeout": 5.0,
                    "enable_rate_limit": False,
                },
                show_status=False,
                source="soak:1",
            )
            await cutter
            ended_ms = int(fake.clock() * 1000)
    finally:
        proxy.close()
        journal.shutdown(30)
    err = capsys.readouterr().err
    assert code == 0
    summary = re.search(
        r"collected (\d+) record.*; (\d+) failed, (\d+) gap.*market rows: (.*)", err
    )
    assert summary, err
    assert int(summary.group(2)) > 0  # the chaos did bite
    rows = dict(re.findall(r"(\w+) (\d+)", summary.group(4)))
    assert int(rows.get("spooled", 0)) > 0  # the cut sent records to the spool...
    assert int(rows.get("drained", 0)) == int(rows["spooled"])  # ...and all came back
    assert "dropped" not in rows and "dead_lettered" not in rows

    # every candle once, and no hole from the first backfilled one to the last closed one
    with MarketStore(pg_url) as market:
        assert market.count("candles") == market.distinct_keys("candles")
        by_symbol: dict[str, list[int]] = {}
        for c in market.read("candles"):
            by_symbol.setdefault(c.symbol, []).append(c.ts)
    assert set(by_symbol) == {f"{s}:USDT" for s in SYMBOLS}
    first = (started_ms // MIN_MS - 30) * MIN_MS
    last_closed = (ended_ms // MIN_MS - 1) * MIN_MS
    for symbol, ts in by_symbol.items():
        ts.sort()
        assert ts[0] == first, symbol
        assert ts[-1] >= last_closed - MIN_MS, symbol  # the final minute may close after the stop
        assert ts == list(range(ts[0], ts[-1] + MIN_MS, MIN_MS)), f"{symbol}: a hole"

    # every outage is an incident: each breaker opening, and the database cut
    with EventStore(pg_url) as store:
        openings = [
            (e.name, e.ts)
            for e in store.read(kinds=["breaker"], sources=["soak:1"])
            if e.state_to == "OPEN" and e.state_from == "CLOSED"
        ]
    assert any(name == "binance_funding" for name, _ in openings)
    listed = run_journal("incidents", "--json", "--since", "1h", "--db", pg_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    incidents = json.loads(listed.stdout)["incidents"]
    breaker_starts = {(i["name"], i["start"]) for i in incidents if i["kind"] == "breaker"}
    from journal.events import iso

    for name, ts in openings:
        assert (name, iso(ts)) in breaker_starts, (name, iso(ts), breaker_starts)
    assert [i for i in incidents if i["kind"] == "outage"], incidents
