"""The seed's "Error Scenarios" that run without an exchange client (1 and 4)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

import journal
from journal import CircuitBreakerError, EventStore, async_retry_api_call, circuit_breaker


def test_scenario_1_rate_limit_retry_then_breaker_opens_then_fails_fast(configured: Any) -> None:
    now = [0.0]
    sleeps: list[float] = []
    calls = {"n": 0}

    async def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    name = f"scenario1_binance_api_{uuid.uuid4().hex[:8]}"  # the manager is process-wide

    @async_retry_api_call(max_retries=5, jitter=False, sleep=sleep)
    @circuit_breaker(name=name, clock=lambda: now[0])  # seed defaults: 5 failures, 60 s
    async def fetch_data() -> str:
        calls["n"] += 1
        raise ConnectionError("429 Too Many Requests")

    with pytest.raises(ConnectionError):
        asyncio.run(fetch_data())
    # five failures (2, 4, 8, 16 s apart) open the circuit; the failure that opened it ends the
    # retrying at once: no sleep before an attempt that could only be rejected
    assert calls["n"] == 5 and sleeps == [2, 4, 8, 16]
    # subsequent calls fail immediately, without sleeping or calling the API
    with pytest.raises(CircuitBreakerError) as info:
        asyncio.run(fetch_data())
    assert info.value.name == name
    assert calls["n"] == 5 and sleeps == [2, 4, 8, 16]
    # the circuit lets a trial through after 60 s
    now[0] += 60
    with pytest.raises(ConnectionError):
        asyncio.run(fetch_data())
    assert calls["n"] == 6  # one trial reached the API, failed, and re-opened the circuit
    assert sleeps == [2, 4, 8, 16]
    assert journal.flush(10)
    with EventStore(configured.url) as store:
        transitions = [
            (e.state_from, e.state_to) for e in store.read(kinds=["breaker"], names=[name])
        ]
    assert transitions == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "OPEN")]


def test_scenario_4_database_connection_lost_data_buffered_until_restored(tmp_path: Any) -> None:
    """The journal's own database goes away: recording goes on, nothing is lost (see test_writer)."""
    url = f"sqlite:///{tmp_path}/gone/deeper/j.db"
    spool = tmp_path / "spool"
    blocker = tmp_path / "gone"
    blocker.write_text("not a directory")  # the database cannot be opened: an outage
    j = journal.configure(url, spool_dir=spool, flush_interval=0.05)
    try:
        for i in range(20):
            journal.record_error("db_error", f"lost connection #{i}")
        assert not journal.flush(1)  # not in the database: spooled
        assert (
            journal.get_error_tracker().get_error_summary()["total_errors"] == 20
        )  # live view unaffected
    finally:
        journal.shutdown(2)
    blocker.unlink()  # the database comes back
    j = journal.configure(url, spool_dir=spool, flush_interval=0.05)
    try:
        deadline = 100
        while j.writer.stats().orphans_drained < 20 and deadline:
            import time

            time.sleep(0.05)
            deadline -= 1
        assert journal.flush(10)
        with EventStore(url) as store:
            assert store.count(kinds=["error"]) == 20
            names = [e.name for e in store.read(kinds=["journal"])]
        assert "store_unavailable" in names
    finally:
        journal.shutdown(5)
