"""Typing samples, checked by ``mypy --strict`` in ``make lint`` (never run by pytest).

``assert_type`` lines say what must hold; ``# type: ignore[...]`` lines are calls that must be
rejected: with ``warn_unused_ignores`` an ignore that is not needed (because a decorator
returned ``Any`` and erased the signature) fails the check.
"""

from __future__ import annotations

from collections.abc import Coroutine

# typing.assert_type is Python 3.11+; this file is only read by mypy (python_version 3.11).
from typing import Any, assert_type

from journal import (
    CircuitBreaker,
    async_retry_api_call,
    async_retry_db_operation,
    async_retry_with_backoff,
    circuit_breaker,
    retry_api_call,
    retry_db_operation,
    retry_with_backoff,
)

# ---------------------------------------------------------------- retry, bare form


@retry_with_backoff
def bare(x: int, *, label: str = "") -> str:
    return f"{label}{x}"


assert_type(bare(1), str)
assert_type(bare(1, label="a"), str)
bare("one")  # type: ignore[arg-type]
bare(1, label=2)  # type: ignore[arg-type]
bare(1, colour="red")  # type: ignore[call-arg]


@retry_api_call
def bare_api(x: int) -> list[int]:
    return [x]


@retry_db_operation
def bare_db(x: int) -> bytes:
    return b""


assert_type(bare_api(1), list[int])
assert_type(bare_db(1), bytes)
bare_api("x")  # type: ignore[arg-type]
bare_db()  # type: ignore[call-arg]


@async_retry_with_backoff
async def abare(x: int) -> str:
    return str(x)


@async_retry_api_call
async def abare_api(x: int) -> float:
    return 1.0


@async_retry_db_operation
async def abare_db(x: int) -> None:
    return None


# (kept in `_`: mypy flags a coroutine that is neither awaited nor kept)
_: object
_ = assert_type(abare(1), Coroutine[Any, Any, str])
_ = assert_type(abare_api(1), Coroutine[Any, Any, float])
_ = assert_type(abare_db(1), Coroutine[Any, Any, None])
_ = abare("x")  # type: ignore[arg-type]
_ = abare_db(1, 2)  # type: ignore[call-arg]

# ---------------------------------------------------------------- retry, called form


@retry_with_backoff(max_retries=3, initial_delay=0.1, name="fetch")
def called(symbol: str, limit: int = 100) -> dict[str, int]:
    return {symbol: limit}


@retry_api_call(max_retries=2)
def called_api(symbol: str) -> tuple[str, int]:
    return (symbol, 1)


@retry_db_operation()
def called_db(rows: list[int]) -> int:
    return len(rows)


assert_type(called("BTC"), dict[str, int])
assert_type(called_api("BTC"), tuple[str, int])
assert_type(called_db([1]), int)
called(1)  # type: ignore[arg-type]
called("BTC", limit="many")  # type: ignore[arg-type]
called_api()  # type: ignore[call-arg]
called_db([1], 2)  # type: ignore[call-arg]


@async_retry_with_backoff(max_retries=2, deadline=5.0)
async def acalled(symbol: str) -> bytes:
    return b""


@async_retry_api_call(initial_delay=0.5)
async def acalled_api(symbol: str) -> int:
    return 1


@async_retry_db_operation(max_retries=1)
async def acalled_db(n: int) -> str:
    return ""


async def use_async() -> None:
    assert_type(await acalled("x"), bytes)
    assert_type(await acalled_api("x"), int)
    assert_type(await acalled_db(1), str)
    await acalled(1)  # type: ignore[arg-type]
    await acalled_api()  # type: ignore[call-arg]


# The sync factory also takes coroutine functions (it detects them): the result stays a
# coroutine function with the same signature.
@retry_with_backoff(max_retries=1)
async def sync_factory_on_async(x: int) -> str:
    return ""


_ = assert_type(sync_factory_on_async(1), Coroutine[Any, Any, str])


# The async variants refuse a function that returns no awaitable.
def not_async(x: int) -> int:
    return x


async_retry_with_backoff(not_async)  # type: ignore[arg-type]
async_retry_api_call(max_retries=1)(not_async)  # type: ignore[arg-type]

retry_with_backoff(max_retries="5")  # type: ignore[call-overload]
retry_api_call(unknown_option=True)  # type: ignore[call-overload]

# ---------------------------------------------------------------- circuit breaker

breaker = CircuitBreaker("typing_sample")


@breaker
def guarded(x: int) -> str:
    return str(x)


@breaker
async def aguarded(x: int) -> str:
    return str(x)


@circuit_breaker(name="typing_named", failure_threshold=3)
def named(x: int) -> float:
    return 1.0


@circuit_breaker()
async def anamed(x: int) -> float:
    return 1.0


assert_type(guarded(1), str)
_ = assert_type(aguarded(1), Coroutine[Any, Any, str])
assert_type(named(1), float)
_ = assert_type(anamed(1), Coroutine[Any, Any, float])
guarded("x")  # type: ignore[arg-type]
named(1, 2)  # type: ignore[call-arg]
assert_type(breaker.call(guarded, 1), str)
breaker.call(guarded, "x")  # type: ignore[arg-type]


async def use_breaker() -> None:
    assert_type(await breaker.call_async(aguarded, 1), str)
    await breaker.call_async(aguarded, "x")  # type: ignore[arg-type]


# ---------------------------------------------------------------- stacked (the seed's Scenario 1)


@retry_api_call(max_retries=2)
@circuit_breaker(name="typing_stacked")
def stacked(symbol: str, limit: int) -> list[float]:
    return []


assert_type(stacked("BTC", 10), list[float])
stacked("BTC")  # type: ignore[call-arg]
