"""The seed's circuit breaker examples, with journal imports, asserting what the seed says."""

from __future__ import annotations

import itertools
import uuid

import pytest

from journal.errors import CircuitBreakerError
from journal.resilience.breaker import circuit_breaker, get_circuit_breaker_manager

_n = itertools.count()


def unique(name: str) -> str:
    return f"{name}_{next(_n)}_{uuid.uuid4().hex[:6]}"  # the manager is process-wide


def test_seed_test_circuit_breaker_block() -> None:
    manager = get_circuit_breaker_manager()
    breaker = manager.get_breaker(unique("test_circuit"), failure_threshold=3)

    # Trigger failures
    for _i in range(5):
        try:
            breaker.call(lambda: 1 / 0)  # Always fails
        except Exception:
            pass

    stats = breaker.get_stats()
    assert stats["state"] == "OPEN"  # Should be OPEN
    assert (stats["failures"], stats["rejected"]) == (3, 2)


def test_seed_usage_block() -> None:
    calls = {"n": 0}
    api_name = unique("binance_api")

    @circuit_breaker(name=api_name, failure_threshold=5, recovery_timeout=60)
    def fetch_from_api() -> str:
        calls["n"] += 1
        raise ConnectionError("exchange unreachable")

    for _ in range(5):
        with pytest.raises(ConnectionError):
            fetch_from_api()
    with pytest.raises(CircuitBreakerError):
        fetch_from_api()
    assert calls["n"] == 5  # the sixth call never reached the API

    manager = get_circuit_breaker_manager()
    breaker = manager.get_breaker(unique("my_service"))

    def risky_function(a: int, b: int) -> int:
        raise TimeoutError("slow")

    def fallback_function() -> int:
        return -1

    results = []
    for _ in range(7):
        try:
            result = breaker.call(risky_function, 1, 2)
        except CircuitBreakerError:
            result = fallback_function()
        except TimeoutError:
            result = 0
        results.append(result)
    assert results == [0, 0, 0, 0, 0, -1, -1]  # default threshold 5, then fallback

    stats = breaker.get_stats()
    assert stats["state"] == "OPEN"
    assert stats["success_rate"] == 0.0
    assert manager.get_breaker(api_name).get_stats()["state"] == "OPEN"
