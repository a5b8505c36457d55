"""The seed's retry examples with journal imports; sleep injected, schedules asserted."""

from __future__ import annotations

from typing import Any

import pytest

from journal.resilience.retry import (
    async_retry_api_call,
    async_retry_with_backoff,
    retry_api_call,
    retry_db_operation,
    retry_with_backoff,
)

sleeps: list[float] = []


def sleep(s: float) -> None:
    sleeps.append(s)


async def asleep(s: float) -> None:
    sleeps.append(s)


quiet: dict[str, Any] = {"sleep": sleep, "emit": lambda e: None}
aquiet: dict[str, Any] = {"sleep": asleep, "emit": lambda e: None}


def failing(n: int) -> Any:
    state = {"calls": 0}

    def body() -> str:
        state["calls"] += 1
        if state["calls"] <= n:
            raise ConnectionError("transient")
        return "ok"

    return body, state


@pytest.fixture(autouse=True)
def _clear() -> None:
    sleeps.clear()


def test_sync_retry_block() -> None:
    body, state = failing(5)

    @retry_with_backoff(
        max_retries=5,
        initial_delay=1.0,
        max_delay=60.0,
        exponential_base=2.0,
        jitter=False,
        **quiet,
    )
    def unstable_function() -> str:
        return body()

    assert unstable_function() == "ok"
    assert sleeps == [1, 2, 4, 8, 16]  # the seed's "Retry Delays"
    assert state["calls"] == 6


def test_jitter_true_as_in_the_seed_keeps_delays_within_the_schedule() -> None:
    body, _ = failing(5)

    @retry_with_backoff(
        max_retries=5, initial_delay=1.0, max_delay=60.0, exponential_base=2.0, jitter=True, **quiet
    )
    def unstable_function() -> str:
        return body()

    unstable_function()
    assert all(full / 2 <= s <= full for s, full in zip(sleeps, [1, 2, 4, 8, 16], strict=True))


async def test_async_retry_block() -> None:
    body, _ = failing(2)

    @async_retry_with_backoff(max_retries=5, jitter=False, **aquiet)
    async def async_unstable_function() -> str:
        return body()

    assert await async_unstable_function() == "ok"
    assert sleeps == [1, 2]


def test_api_and_db_strategies() -> None:
    body, _ = failing(5)

    @retry_api_call(max_retries=5, jitter=False, **quiet)  # For API calls
    def call_external_api() -> str:
        return body()

    call_external_api()
    assert sleeps == [2, 4, 8, 16, 32]  # initial 2.0 s, cap 120 s
    sleeps.clear()
    db_body, db_state = failing(3)

    @retry_db_operation(max_retries=3, jitter=False, **quiet)  # For DB operations
    def database_query() -> str:
        return db_body()

    database_query()
    assert sleeps == [0.5, 1, 2]  # initial 0.5 s, cap 10 s
    assert db_state["calls"] == 4


async def test_async_api_strategy() -> None:
    body, _ = failing(1)

    @async_retry_api_call(max_retries=5, jitter=False, **aquiet)
    async def fetch() -> str:
        return body()

    assert await fetch() == "ok"
    assert sleeps == [2]
