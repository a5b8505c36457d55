"""Retry schedules, give-up rules, Retry-After, deadlines and events; sleep injected."""

from __future__ import annotations

import email.utils
import random
import time
from typing import Any

import pytest

from journal.errors import CircuitBreakerError, RetryError
from journal.events import Event
from journal.resilience.retry import (
    async_retry_with_backoff,
    retry_after_of,
    retry_api_call,
    retry_db_operation,
    retry_with_backoff,
)


class Flaky:
    """Fails ``n`` times with ``exc``, then returns ``value``."""

    def __init__(self, n: int, exc: BaseException | None = None, value: Any = "ok") -> None:
        self.n, self.exc, self.value, self.calls = n, exc or ConnectionError("down"), value, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls <= self.n:
            raise self.exc
        return self.value


def deco(**kw: Any) -> tuple[Any, list[float], list[Event]]:
    sleeps: list[float] = []
    events: list[Event] = []
    kw.setdefault("jitter", False)
    return retry_with_backoff(sleep=sleeps.append, emit=events.append, **kw), sleeps, events


def test_default_schedule_is_1_2_4_8_16() -> None:
    d, sleeps, _ = deco()
    f = Flaky(5)
    assert d(f)() == "ok"
    assert sleeps == [1, 2, 4, 8, 16]
    assert f.calls == 6


def test_max_delay_caps_the_schedule() -> None:
    d, sleeps, _ = deco(max_retries=7, initial_delay=1.0, max_delay=10.0)
    d(Flaky(7))()
    assert sleeps == [1, 2, 4, 8, 10, 10, 10]


def test_presets_follow_the_seed() -> None:
    api_sleeps: list[float] = []
    retry_api_call(jitter=False, sleep=api_sleeps.append, emit=lambda e: None)(Flaky(5))()
    assert api_sleeps == [2, 4, 8, 16, 32]
    db_sleeps: list[float] = []
    retry_db_operation(jitter=False, sleep=db_sleeps.append, emit=lambda e: None)(Flaky(3))()
    assert db_sleeps == [0.5, 1, 2]
    capped: list[float] = []
    retry_api_call(8, jitter=False, sleep=capped.append, emit=lambda e: None)(Flaky(8))()
    assert capped == [2, 4, 8, 16, 32, 64, 120, 120]


def test_equal_jitter_stays_within_half_and_full_delay() -> None:
    sleeps: list[float] = []
    rng = random.Random(3)
    retry_with_backoff(5, sleep=sleeps.append, emit=lambda e: None, rng=rng)(Flaky(5))()
    for got, full in zip(sleeps, [1, 2, 4, 8, 16], strict=True):
        assert full / 2 <= got <= full
    assert len(set(sleeps)) == 5


def test_zero_delay_never_sleeps() -> None:
    d, sleeps, _ = deco(initial_delay=0.0)
    calls: list[float] = []
    d2 = retry_with_backoff(
        initial_delay=0.0, jitter=False, sleep=calls.append, emit=lambda e: None
    )
    assert d2(Flaky(3))() == "ok"
    assert calls == []
    assert d(Flaky(2))() == "ok" and sleeps == []


def test_exhausted_raises_retry_error_with_cause() -> None:
    d, sleeps, _ = deco(max_retries=2)
    f = Flaky(10, ValueError("bad payload"))
    with pytest.raises(RetryError) as info:
        d(f)()
    err = info.value
    assert err.attempts == 3 and isinstance(err.last_exception, ValueError)
    assert err.__cause__ is err.last_exception
    assert f.calls == 3 and sleeps == [1, 2]
    assert "gave up after 3 attempt(s)" in str(err)


def test_give_up_on_is_never_retried() -> None:
    d, sleeps, events = deco(give_up_on=(PermissionError,))
    f = Flaky(10, PermissionError("invalid api key"))
    with pytest.raises(PermissionError):
        d(f)()
    assert f.calls == 1 and sleeps == [] and events == []


def test_retry_on_narrows_what_is_retried() -> None:
    d, _, _ = deco(retry_on=(ConnectionError,))
    f = Flaky(10, KeyError("x"))
    with pytest.raises(KeyError):
        d(f)()
    assert f.calls == 1


def test_circuit_breaker_error_is_reraised_at_once() -> None:
    d, sleeps, _ = deco()
    f = Flaky(10, CircuitBreakerError("binance_api", "OPEN", 30.0))
    with pytest.raises(CircuitBreakerError):
        d(f)()
    assert f.calls == 1 and sleeps == []

    # a breaker that opens mid-sequence stops the retrying unwrapped
    class Seq:
        calls = 0

        def __call__(self) -> None:
            self.calls += 1
            if self.calls < 3:
                raise ConnectionError("down")
            raise CircuitBreakerError("binance_api", "OPEN", 60.0)

    s = Seq()
    with pytest.raises(CircuitBreakerError):
        d(s)()
    assert s.calls == 3


class RateLimited(Exception):
    def __init__(self, retry_after: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__("429 Too Many Requests")
        if retry_after is not None:
            self.retry_after = retry_after
        if headers is not None:
            self.headers = headers


def test_retry_after_attribute_and_headers_are_honoured() -> None:
    d, sleeps, _ = deco()
    d(Flaky(1, RateLimited(retry_after=7)))()
    assert sleeps == [7]  # more than the scheduled 1 s
    d2, sleeps2, _ = deco(max_delay=5)
    d2(Flaky(1, RateLimited(headers={"Retry-After": "30"})))()
    assert sleeps2 == [30]  # Retry-After wins over max_delay
    future = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 95 <= (retry_after_of(RateLimited(headers={"Retry-After": future})) or 0) <= 100
    assert retry_after_of(RateLimited(headers={"Retry-After": "garbage"})) is None
    assert retry_after_of(ValueError()) is None


def test_deadline_stops_before_a_sleep_would_pass_it() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    d = retry_with_backoff(
        deadline=10.0, jitter=False, sleep=sleep, clock=lambda: now[0], emit=lambda e: None
    )
    f = Flaky(10)
    with pytest.raises(RetryError) as info:
        d(f)()
    assert sleeps == [1, 2, 4]  # 7 s slept; the next 8 s would end at 15 > 10
    assert info.value.attempts == 4


def test_events_one_per_failed_attempt_and_the_give_up() -> None:
    d, sleeps, events = deco(max_retries=3, name="fetch_ohlcv")
    with pytest.raises(RetryError):
        d(Flaky(10, TimeoutError("read timeout")))()
    assert [(e.kind, e.name, e.attempt, e.delay, e.error_type) for e in events] == [
        ("retry", "fetch_ohlcv", 1, 1.0, "TimeoutError"),
        ("retry", "fetch_ohlcv", 2, 2.0, "TimeoutError"),
        ("retry", "fetch_ohlcv", 3, 4.0, "TimeoutError"),
        ("retry", "fetch_ohlcv", 4, 0.0, "TimeoutError"),
    ]
    assert (
        events[-1].context["gave_up"] is True
        and events[-1].context["reason"] == "retries exhausted"
    )
    assert [e.delay for e in events[:-1]] == sleeps


def test_success_first_time_emits_nothing() -> None:
    d, sleeps, events = deco()
    assert d(lambda x: x + 1)(1) == 2
    assert (sleeps, events) == ([], [])


def test_default_name_is_module_qualified() -> None:
    d, _, events = deco(max_retries=1)

    def fetch() -> None:
        raise ConnectionError("x")

    with pytest.raises(RetryError):
        d(fetch)()
    assert events[0].name == f"{__name__}.test_default_name_is_module_qualified.<locals>.fetch"


def test_bare_decorator_use() -> None:
    @retry_api_call
    def f() -> int:
        return 3

    assert f() == 3


def test_factories_keep_their_names_docs_and_the_wrapped_signature() -> None:
    import inspect

    from journal.resilience import retry as retry_module

    for label in (
        "retry_with_backoff",
        "async_retry_with_backoff",
        "retry_api_call",
        "async_retry_api_call",
        "retry_db_operation",
        "async_retry_db_operation",
    ):
        factory = getattr(retry_module, label)
        assert factory.__name__ == label and factory.__doc__

    @retry_db_operation(max_retries=1)
    def fetch(symbol: str, limit: int = 10) -> str:
        """Fetch."""
        return symbol

    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Fetch."
    assert list(inspect.signature(fetch).parameters) == ["symbol", "limit"]


async def test_async_factory_called_and_bare_forms() -> None:
    sleeps: list[float] = []

    async def asleep(s: float) -> None:
        sleeps.append(s)

    calls = Flaky(2)

    @async_retry_with_backoff(max_retries=3, jitter=False, sleep=asleep, emit=lambda e: None)
    async def flaky() -> str:
        return str(calls())

    assert await flaky() == "ok" and sleeps == [1.0, 2.0]

    @async_retry_with_backoff
    async def fine() -> int:
        return 7

    assert await fine() == 7


# ------------------------------------------------------------------ async


async def test_async_schedule_and_give_up() -> None:
    sleeps: list[float] = []
    events: list[Event] = []

    async def asleep(s: float) -> None:
        sleeps.append(s)

    calls = {"n": 0}

    @async_retry_with_backoff(max_retries=5, jitter=False, sleep=asleep, emit=events.append)
    async def fetch() -> str:
        calls["n"] += 1
        if calls["n"] <= 5:
            raise ConnectionError("down")
        return "data"

    assert await fetch() == "data"
    assert sleeps == [1, 2, 4, 8, 16]
    assert [e.attempt for e in events] == [1, 2, 3, 4, 5]

    @async_retry_with_backoff(max_retries=1, jitter=False, sleep=asleep, emit=events.append)
    async def never() -> None:
        raise TimeoutError("t")

    with pytest.raises(RetryError) as info:
        await never()
    assert info.value.attempts == 2


async def test_async_circuit_breaker_error_not_retried() -> None:
    calls = {"n": 0}

    async def asleep(s: float) -> None:
        raise AssertionError("must not sleep")

    @async_retry_with_backoff(sleep=asleep, emit=lambda e: None)
    async def guarded() -> None:
        calls["n"] += 1
        raise CircuitBreakerError("b", "OPEN", 30.0)

    with pytest.raises(CircuitBreakerError):
        await guarded()
    assert calls["n"] == 1
