"""The whole hot path into a real store: what happened is exactly what is journaled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import journal
from journal import (
    CircuitBreakerError,
    EventStore,
    circuit_breaker,
    get_circuit_breaker_manager,
    get_error_tracker,
    record_error,
    replay,
    retry_with_backoff,
)


def test_seed_error_tracking_usage(configured: Any, tmp_path: Path) -> None:
    tracker = get_error_tracker()

    def risky_operation() -> None:
        raise ConnectionError("Failed to connect to Binance API")

    try:
        risky_operation()
    except Exception as e:
        record_error(
            error_type="api_error",
            error=e,
            context={"symbol": "SOL/USDT", "function": "fetch_data", "api_key": "AKIAxxxx1234"},
            severity="ERROR",
        )
    summary = tracker.get_error_summary()
    assert summary["total_errors"] == 1
    assert summary["error_counts"] == {"api_error": 1}
    assert (
        summary["recent_errors"][0]["message"]
        == "ConnectionError: Failed to connect to Binance API"
    )
    assert summary["recent_errors"][0]["context"]["api_key"] == "***REDACTED***"
    tracker.print_summary()
    out = tracker.export_errors(tmp_path / "errors_report.json")
    data = json.loads(out.read_text())
    assert data["summary"]["total_errors"] == 1 and len(data["errors"]) == 1
    odd = record_error("api_error", "x", severity="FATAL")  # never raises into the caller
    assert (odd.severity, odd.context["severity_given"]) == ("ERROR", "FATAL")


def test_seed_simulate_errors_block(configured: Any) -> None:
    for i in range(10):
        try:
            if i % 2 == 0:
                raise ValueError(f"Test error {i}")
        except Exception as e:
            record_error("test_error", e, {"iteration": i})
    assert journal.flush(10)
    with EventStore(configured.url) as store:
        errors = list(store.read(kinds=["error"]))
    assert [e.context["iteration"] for e in errors] == [0, 2, 4, 6, 8]
    assert get_error_tracker().get_error_summary()["error_counts"] == {"test_error": 5}


def test_clear_restarts_live_counts_but_history_stays(configured: Any) -> None:
    record_error("a", "x")
    get_error_tracker().clear_errors()
    record_error("b", "y")
    assert get_error_tracker().get_error_summary()["error_counts"] == {"b": 1}
    assert journal.flush(10)
    with EventStore(configured.url) as store:
        assert store.count(kinds=["error"]) == 2
        assert store.count(names=["tracker_cleared"]) == 1


def test_everything_that_happened_lands_in_the_store_and_replays_to_the_live_state(
    configured: Any,
) -> None:
    name = f"it_{id(configured)}"
    sleeps: list[float] = []
    state = {"n": 0}

    @retry_with_backoff(max_retries=2, jitter=False, sleep=sleeps.append, name="fetch")
    @circuit_breaker(name=name, failure_threshold=3, recovery_timeout=60)
    def fetch() -> str:
        state["n"] += 1
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        fetch()  # 3 attempts, 3 breaker failures -> OPEN; the opening failure ends the retrying
    with pytest.raises(CircuitBreakerError):
        fetch()  # rejected at once, not retried
    for i in range(12):
        record_error(
            "api_ohlcv_error", TimeoutError(f"t{i}"), severity="CRITICAL" if i == 0 else "ERROR"
        )
    assert journal.flush(10)
    live = configured.snapshot()
    with EventStore(configured.url) as store:
        events = list(store.read())
        retries = [e for e in events if e.kind == "retry"]
        assert [(e.attempt, e.delay) for e in retries] == [(1, 1.0), (2, 2.0), (3, 0.0)]
        assert retries[-1].context["reason"] == f"circuit breaker {name} opened"
        assert [(e.state_from, e.state_to) for e in events if e.kind == "breaker"] == [
            ("CLOSED", "OPEN")
        ]
        calls = [e.context for e in events if e.kind == "calls" and e.name == name]
        assert sum(c["failures"] for c in calls) == 3 and sum(c["rejected"] for c in calls) == 1
        rules = sorted(e.error_type or "" for e in events if e.kind == "alert")
        assert rules == ["breaker_opened", "critical_error", "error_count", "error_rate"]
        assert len({e.event_id for e in events}) == len(events)
        replayed = replay(store).snapshot(live.at)
    assert replayed.errors == live.errors
    assert replayed.breakers == live.breakers
    assert replayed.alerts.by_rule == live.alerts.by_rule
    assert replayed.health == live.health
    assert state["n"] == 3 and sleeps == [1, 2]
    assert get_circuit_breaker_manager().get_breaker(name).get_stats()["rejected"] == 1


def test_async_paths_journal_too(configured: Any) -> None:
    from journal import async_retry_api_call

    calls = {"n": 0}

    async def no_sleep(_: float) -> None:
        return None

    @async_retry_api_call(max_retries=2, sleep=no_sleep, name="afetch")
    async def afetch() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise TimeoutError("slow")
        return "ok"

    assert asyncio.run(afetch()) == "ok"
    assert journal.flush(10)
    with EventStore(configured.url) as store:
        assert [e.attempt for e in store.read(kinds=["retry"])] == [1, 2]
