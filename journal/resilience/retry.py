"""Retries with exponential backoff, on tenacity, every failed attempt journaled.

Semantics:
- ``max_retries`` counts retries after the first attempt: ``max_retries=5`` makes up to
  6 attempts. Delay before retry n: ``min(max_delay, initial_delay * exponential_base**(n-1))``,
  so the defaults sleep 1, 2, 4, 8, 16 s (the seed's schedule).
- ``jitter=True`` uses "equal jitter": a delay d becomes ``d/2 + uniform(0, d/2)``, so
  retries spread out (no thundering herd) yet never wait less than half the schedule.
- A server's Retry-After (an exception attribute ``retry_after`` in seconds, or a
  ``headers`` / ``response.headers`` mapping with ``Retry-After`` in seconds or as an HTTP
  date) makes the next delay at least that long; it wins over ``max_delay``, not over
  ``deadline``.
- ``deadline``: an overall budget in seconds from the first attempt. No sleep may end past it.
- ``give_up_on`` exception types, exceptions that are not ``retry_on``, `CircuitBreakerError`,
  and the failure that just opened a circuit breaker are re-raised at once, never retried. All attempts failing raises
  `RetryError` (``attempts``, ``last_exception``, ``__cause__``).

Stacking with a breaker (the seed's Scenario 1):
- retry outside, breaker inside (``@retry_api_call`` over ``@circuit_breaker``): each failed
  attempt counts as a breaker failure. The failure that opens the breaker is marked by it,
  and the retrying stops right there (re-raising that failure) instead of sleeping before an
  attempt that could only be rejected; later calls get `CircuitBreakerError` at once. A
  `CircuitBreakerError` met while retrying also stops it, unwrapped: the breaker has said
  "fail fast".
- breaker outside, retry inside: the breaker sees one call per retry sequence, and one
  failure (`RetryError`) when a whole sequence fails.

Cost: the first attempt is a plain call in a ``try``; tenacity's machinery (a state object
and a Future per call) is entered only after a failure, and a zero delay never sleeps.

Typing: every decorator here keeps the decorated function's signature under ``mypy --strict``
(``ParamSpec``), in the bare (``@retry_with_backoff``) and the called
(``@retry_with_backoff(max_retries=3)``) form; the ``async_`` variants accept only functions
returning an awaitable. ``tests/typing/`` holds the samples ``make lint`` checks.

The caller's exception is never replaced by one of ours: an exception whose ``__str__``
raises is journaled as ``<unprintable Type>``, and giving up still raises `RetryError`
(whose message, like every journaled message, is redacted of secrets).
"""

from __future__ import annotations

import functools
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast, overload

from journal.errors import CircuitBreakerError, RetryError
from journal.events import Event, retry_event
from journal.process import emitter
from journal.sanitizing.safetext import safe_str

if TYPE_CHECKING:  # tenacity is loaded by the first failure: a success never needs it
    from tenacity import RetryCallState
    from tenacity import RetryError as TenacityRetryError

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")
ExcTypes = tuple[type[BaseException], ...]


def retry_after_of(exc: BaseException | None, now: float | None = None) -> float | None:
    """The server's requested wait carried by an exception, in seconds (None if none)."""
    if exc is None:
        return None
    try:
        value: Any = getattr(exc, "retry_after", None)
        if value is None:
            headers = getattr(exc, "headers", None)
            if headers is None:
                headers = getattr(getattr(exc, "response", None), "headers", None)
            if isinstance(headers, Mapping) or hasattr(headers, "get"):
                value = headers.get("Retry-After") or headers.get("retry-after")  # type: ignore[union-attr]
    except Exception:  # the caller's exception type computes these: a broken one means "none"
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        import email.utils  # only for an HTTP-date Retry-After

        when = email.utils.parsedate_to_datetime(safe_str(value, 100))
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """A retry configuration (pure: `delay` is a function of its inputs)."""

    max_retries: int = 5
    initial_delay: float = 1.0
    max_delay: float = 60.0
    exponential_base: float = 2.0
    jitter: bool = True
    retry_on: ExcTypes = (Exception,)
    give_up_on: ExcTypes = ()
    deadline: float | None = None
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("initial_delay and max_delay must be >= 0")
        if self.exponential_base < 1:
            raise ValueError("exponential_base must be >= 1")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be > 0 seconds")

    def retryable(self, exc: BaseException) -> bool:
        """Should a failure with ``exc`` be retried?"""
        return (
            isinstance(exc, self.retry_on)
            and not isinstance(exc, self.give_up_on)
            and not isinstance(exc, CircuitBreakerError)
            and _opened_breaker(exc) is None
        )

    def delay(self, retry: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        d = min(self.max_delay, self.initial_delay * self.exponential_base ** (retry - 1))
        if self.jitter and d > 0:
            d = d / 2 + self.rng.uniform(0, d / 2)
        ra = retry_after_of(exc)
        if ra is not None and ra > d:
            d = ra
        return d


def _opened_breaker(exc: BaseException) -> str | None:
    """The breaker this failure opened (it marks the exception), if any."""
    try:
        marks = getattr(exc, "__dict__", None)
        return None if not marks else marks.get("journal_opened_breaker")
    except Exception:
        return None


class _Run:
    """One retry sequence: tenacity strategies bound to a policy, a name and an emitter."""

    def __init__(
        self,
        policy: RetryPolicy,
        name: str,
        emit: Callable[[Event], None] | None,
        clock: Callable[[], float],
        start: float,
    ) -> None:
        self.policy = policy
        self.name = name
        self.emit = emit or emitter.emit
        self.clock = clock
        self.start = start
        self.attempts = 0  # failed attempts that were retried
        self.gave_up_reason = "retries exhausted"

    def wait(self, rs: RetryCallState) -> float:
        exc = rs.outcome.exception() if rs.outcome else None
        return self.policy.delay(rs.attempt_number, exc)

    def stop(self, rs: RetryCallState) -> bool:
        if rs.attempt_number > self.policy.max_retries:
            self.gave_up_reason = "retries exhausted"
            return True
        if self.policy.deadline is not None:
            elapsed = self.clock() - self.start
            if elapsed + (rs.upcoming_sleep or 0.0) > self.policy.deadline:
                self.gave_up_reason = f"deadline of {self.policy.deadline:g}s would pass"
                return True
        return False

    def record(
        self, attempt: int, delay: float, exc: BaseException | None, gave_up: bool = False
    ) -> None:
        ctx: dict[str, Any] = {"retries": self.policy.max_retries}
        if gave_up:
            ctx.update(gave_up=True, reason=self.gave_up_reason)
        try:
            self.emit(
                retry_event(
                    self.name,
                    attempt,
                    delay,
                    error_type=type(exc).__name__ if exc is not None else None,
                    message=safe_str(exc) if exc is not None else None,
                    context=ctx,
                )
            )
        except Exception:  # journaling must never break the caller
            pass

    def stopped(self, exc: BaseException) -> None:
        """A non-retryable failure ended the sequence after retrying began: journal why."""
        opened = _opened_breaker(exc)
        if opened is not None:
            self.gave_up_reason = f"circuit breaker {opened} opened"
        elif isinstance(exc, CircuitBreakerError):
            self.gave_up_reason = f"circuit breaker {exc.name} is {exc.state}"
        elif isinstance(exc, Exception):
            self.gave_up_reason = f"{type(exc).__name__} is not retried"
        else:
            return  # cancellation, KeyboardInterrupt: not a failure
        self.record(self.attempts + 1, 0.0, exc, gave_up=True)

    def before_sleep(self, rs: RetryCallState) -> None:
        self.attempts = rs.attempt_number
        self.record(
            rs.attempt_number, rs.upcoming_sleep, rs.outcome.exception() if rs.outcome else None
        )

    def exhausted(self, err: TenacityRetryError) -> RetryError:
        last = err.last_attempt.exception()
        attempts = err.last_attempt.attempt_number
        self.record(attempts, 0.0, last, gave_up=True)
        out = RetryError(self.name, attempts, last)
        out.__cause__ = last
        return out

    def kwargs(self) -> dict[str, Any]:
        from tenacity import retry_if_exception

        return {
            "stop": self.stop,
            "wait": self.wait,
            "retry": retry_if_exception(self.policy.retryable),
            "before_sleep": self.before_sleep,
            "reraise": False,
        }


def _sync_sleep(sleep: Callable[[float], None]) -> Callable[[float], None]:
    def _sleep(seconds: float) -> None:
        if seconds > 0:  # a zero delay never sleeps (time.sleep(0) costs ~56 us here)
            sleep(seconds)

    return _sleep


def _async_sleep(sleep: Callable[[float], Awaitable[None]]) -> Callable[[float], Awaitable[None]]:
    async def _sleep(seconds: float) -> None:
        if seconds > 0:
            await sleep(seconds)

    return _sleep


def _make(
    policy: RetryPolicy,
    name: str | None,
    sleep: Callable[[float], Any] | None,
    clock: Callable[[], float] | None,
    emit: Callable[[Event], None] | None,
    force_async: bool | None,
) -> Callable[[F], F]:
    tick = clock or time.monotonic
    has_deadline = policy.deadline is not None

    def decorate(fn: F) -> F:
        label = name or _callable_name(fn)
        is_async = inspect.iscoroutinefunction(fn) if force_async is None else force_async
        if is_async:
            if sleep is not None:
                asleep = _async_sleep(sleep)
            else:
                import asyncio

                asleep = _async_sleep(asyncio.sleep)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                t0 = tick() if has_deadline else 0.0
                try:
                    return await fn(*args, **kwargs)
                except BaseException as exc:
                    if not policy.retryable(exc):
                        raise
                    first: BaseException | None = exc
                from tenacity import AsyncRetrying
                from tenacity import RetryError as TenacityRetryError

                run = _Run(policy, label, emit, tick, t0)
                try:
                    async for attempt in AsyncRetrying(sleep=asleep, **run.kwargs()):
                        with attempt:
                            if first is not None:
                                replay_exc, first = first, None
                                raise replay_exc
                            result = await fn(*args, **kwargs)
                        if (
                            not attempt.retry_state.outcome
                            or not attempt.retry_state.outcome.failed
                        ):
                            return result
                except TenacityRetryError as err:
                    raise run.exhausted(err) from err.last_attempt.exception()
                except BaseException as exc:
                    run.stopped(exc)
                    raise
                raise AssertionError("unreachable")  # pragma: no cover

            return cast(F, async_wrapper)

        ssleep = _sync_sleep(sleep or time.sleep)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = tick() if has_deadline else 0.0
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                if not policy.retryable(exc):
                    raise
                first: BaseException | None = exc
            from tenacity import RetryError as TenacityRetryError
            from tenacity import Retrying

            run = _Run(policy, label, emit, tick, t0)
            try:
                for attempt in Retrying(sleep=ssleep, **run.kwargs()):
                    with attempt:
                        if first is not None:
                            replay_exc, first = first, None
                            raise replay_exc
                        result = fn(*args, **kwargs)
                    if not attempt.retry_state.outcome or not attempt.retry_state.outcome.failed:
                        return result
            except TenacityRetryError as err:
                raise run.exhausted(err) from err.last_attempt.exception()
            except BaseException as exc:
                run.stopped(exc)
                raise
            raise AssertionError("unreachable")  # pragma: no cover

        return cast(F, wrapper)

    return decorate


def _callable_name(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, or of a callable object's type."""
    target: Any = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


def _as_types(value: type[BaseException] | ExcTypes) -> ExcTypes:
    return value if isinstance(value, tuple) else (value,)


ExcSpec = type[BaseException] | ExcTypes


class RetryDecorator(Protocol):
    """The called form's result: a decorator that keeps the decorated function's signature."""

    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...


class AsyncRetryDecorator(Protocol):
    """The called form's result for coroutine functions: keeps the signature, stays awaitable."""

    def __call__(self, fn: Callable[P, Awaitable[R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...


class RetryFactory(Protocol):
    """`retry_with_backoff` and its presets: ``@retry`` (bare) or ``@retry(max_retries=3)``."""

    @overload
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def __call__(
        self,
        max_retries: int = ...,
        initial_delay: float = ...,
        max_delay: float = ...,
        exponential_base: float = ...,
        jitter: bool = ...,
        *,
        retry_on: ExcSpec = ...,
        give_up_on: ExcSpec = ...,
        deadline: float | None = ...,
        name: str | None = ...,
        sleep: Callable[[float], Any] | None = ...,
        clock: Callable[[], float] | None = ...,
        emit: Callable[[Event], None] | None = ...,
        rng: random.Random | None = ...,
    ) -> RetryDecorator: ...


class AsyncRetryFactory(Protocol):
    """The ``async_`` variants: the same arguments, coroutine functions only."""

    @overload
    def __call__(self, fn: Callable[P, Awaitable[R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(
        self,
        max_retries: int = ...,
        initial_delay: float = ...,
        max_delay: float = ...,
        exponential_base: float = ...,
        jitter: bool = ...,
        *,
        retry_on: ExcSpec = ...,
        give_up_on: ExcSpec = ...,
        deadline: float | None = ...,
        name: str | None = ...,
        sleep: Callable[[float], Any] | None = ...,
        clock: Callable[[], float] | None = ...,
        emit: Callable[[Event], None] | None = ...,
        rng: random.Random | None = ...,
    ) -> AsyncRetryDecorator: ...


def _factory(
    label: str, retries: int, initial: float, cap: float, is_async: bool | None, doc: str
) -> Callable[..., Any]:
    """One retry decorator factory: `retry_with_backoff` or a seed preset with other defaults."""

    def factory(
        max_retries: int | Callable[..., Any] = retries,
        initial_delay: float = initial,
        max_delay: float = cap,
        exponential_base: float = 2.0,
        jitter: bool = True,
        *,
        retry_on: ExcSpec = (Exception,),
        give_up_on: ExcSpec = (),
        deadline: float | None = None,
        name: str | None = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] | None = None,
        emit: Callable[[Event], None] | None = None,
        rng: random.Random | None = None,
    ) -> Any:
        if callable(max_retries):  # used bare: @retry_with_backoff
            return factory()(max_retries)
        policy = RetryPolicy(
            max_retries=int(max_retries),
            initial_delay=float(initial_delay),
            max_delay=float(max_delay),
            exponential_base=float(exponential_base),
            jitter=jitter,
            retry_on=_as_types(retry_on),
            give_up_on=_as_types(give_up_on),
            deadline=deadline,
            rng=rng or random.Random(),
        )
        return _make(policy, name, sleep, clock, emit, is_async)

    factory.__name__ = factory.__qualname__ = label
    factory.__doc__ = doc
    return factory


# The runtime is one factory; the Protocol types give mypy the overloads (bare and called
# form, signature kept). tests/typing/check_decorators.py checks they hold.
retry_with_backoff = cast(
    RetryFactory,
    _factory(
        "retry_with_backoff",
        5,
        1.0,
        60.0,
        None,
        "Decorator: retry a sync or async function with exponential backoff (see the module doc).",
    ),
)
async_retry_with_backoff = cast(
    AsyncRetryFactory,
    _factory(
        "async_retry_with_backoff",
        5,
        1.0,
        60.0,
        True,
        "`retry_with_backoff` for coroutine functions (sleeps with ``asyncio.sleep``).",
    ),
)
retry_api_call = cast(
    RetryFactory,
    _factory(
        "retry_api_call",
        5,
        2.0,
        120.0,
        None,
        "The seed's API preset: 5 retries, 2 s initial delay, 120 s cap.",
    ),
)
async_retry_api_call = cast(
    AsyncRetryFactory,
    _factory(
        "async_retry_api_call",
        5,
        2.0,
        120.0,
        True,
        "`retry_api_call` for coroutine functions.",
    ),
)
retry_db_operation = cast(
    RetryFactory,
    _factory(
        "retry_db_operation",
        3,
        0.5,
        10.0,
        None,
        "The seed's database preset: 3 retries, 0.5 s initial delay, 10 s cap.",
    ),
)
async_retry_db_operation = cast(
    AsyncRetryFactory,
    _factory(
        "async_retry_db_operation",
        3,
        0.5,
        10.0,
        True,
        "`retry_db_operation` for coroutine functions.",
    ),
)
