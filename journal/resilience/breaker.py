"""Circuit breakers: CLOSED -> OPEN -> HALF_OPEN -> CLOSED, every transition journaled.

One `CircuitBreaker` is usable as ``breaker.call(fn, ...)``, ``await breaker.call_async(fn, ...)``,
a decorator on sync and async functions, and a (sync or async) context manager.

- CLOSED: consecutive failures (a success resets the run) reaching ``failure_threshold`` open it.
- OPEN: calls are rejected with `CircuitBreakerError` (which says how long until a trial)
  until ``recovery_timeout`` seconds have passed; the next call then moves it to HALF_OPEN.
- HALF_OPEN: at most ``half_open_max_calls`` trial calls at once (others are rejected);
  ``success_threshold`` successes close it, any failure opens it again (timer restarts).
- ``exclude`` exception types (business errors) and exceptions that are not
  ``expected_exception`` pass through and count as neither success nor failure.

The lock guards only counters and state: it is never held while the wrapped call runs (so
calls through one breaker run concurrently) nor across an ``await``. Events: a ``breaker``
event per transition, preceded by a ``calls`` tally of the calls since the previous tally;
tallies also go out every ``tally_interval`` seconds on the call path and on
`flush_tallies()`. Summing a breaker's tallies gives its stats exactly.

Order by construction: events are built and queued in the breaker's outbox while its lock is
held, so the outbox holds them in the order the transitions happened; they are published
from the outbox, oldest first, under a second, per-breaker publish lock. So the bus, and
through the writer the store, see one breaker's events in the order they happened. No bus
handler runs under the state lock. A thread with events to publish waits for another one
publishing (in-memory handlers: microseconds) so that it returns with its events on the bus,
but never longer than ``PUBLISH_WAIT``: past that it leaves them to the publishing thread,
which re-checks the outbox before it leaves. A handler that calls back into the breaker
cannot deadlock: its events are published by the loop already running on its thread, after
the event being handled.

Nothing the caller hands us hurts it: an exception whose ``__str__`` raises still counts as a
failure and is re-raised unchanged; failure text kept for `get_stats` is redacted.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast

from journal.errors import CircuitBreakerError
from journal.events import Event, breaker_event, calls_event, iso, journal_event, now_us
from journal.process import emitter
from journal.sanitizing.redaction import library_logger, redact_text
from journal.sanitizing.safetext import safe_str

log = library_logger("journal.breaker")

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

CLOSED, OPEN, HALF_OPEN = "CLOSED", "OPEN", "HALF_OPEN"
PUBLISH_WAIT = 0.05  # seconds a thread waits for another one publishing the same breaker
_CONFIG_KEYS = (
    "failure_threshold",
    "recovery_timeout",
    "success_threshold",
    "half_open_max_calls",
    "exclude",
    "expected_exception",
    "tally_interval",
)


class CircuitBreaker:
    """A thread- and asyncio-safe circuit breaker that journals its transitions."""

    # Slots: the call path reads a dozen attributes. Measured on CPython 3.11: two more instance
    # attributes in a plain __dict__ (the outbox) made every call ~60 ns slower; slots do not.
    __slots__ = (
        "__weakref__",
        "_clock",
        "_cm_trials",
        "_consecutive",
        "_emit",
        "_failures",
        "_half_open_successes",
        "_inflight_trials",
        "_last_failure",
        "_last_tally",
        "_lock",
        "_opened_at",
        "_opened_at_wall",
        "_opens",
        "_outbox",
        "_publisher",
        "_publishing",
        "_rejected",
        "_state",
        "_successes",
        "_t_bad",
        "_t_ok",
        "_t_rej",
        "_wall",
        "exclude",
        "expected_exception",
        "failure_threshold",
        "half_open_max_calls",
        "name",
        "recovery_timeout",
        "success_threshold",
        "tally_interval",
    )

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        success_threshold: int = 2,
        *,
        half_open_max_calls: int = 1,
        exclude: tuple[type[BaseException], ...] | type[BaseException] = (),
        expected_exception: tuple[type[BaseException], ...] | type[BaseException] = Exception,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], int] | None = None,
        emit: Callable[[Event], None] | None = None,
        tally_interval: float = 5.0,
    ) -> None:
        if not name:
            raise ValueError("a circuit breaker needs a name")
        if failure_threshold < 1 or success_threshold < 1 or half_open_max_calls < 1:
            raise ValueError(
                "failure_threshold, success_threshold and half_open_max_calls must be >= 1"
            )
        if recovery_timeout < 0 or tally_interval <= 0:
            raise ValueError("recovery_timeout must be >= 0 and tally_interval > 0")
        self.name = name
        self.failure_threshold = int(failure_threshold)
        self.recovery_timeout = float(recovery_timeout)
        self.success_threshold = int(success_threshold)
        self.half_open_max_calls = int(half_open_max_calls)
        self.exclude = exclude if isinstance(exclude, tuple) else (exclude,)
        self.expected_exception = (
            expected_exception if isinstance(expected_exception, tuple) else (expected_exception,)
        )
        self.tally_interval = float(tally_interval)
        self._clock = clock
        self._wall = wall_clock or now_us
        self._emit = emit
        self._lock = threading.Lock()
        self._state = CLOSED
        # totals
        self._successes = self._failures = self._rejected = self._opens = 0
        # the current cycle
        self._consecutive = 0
        self._half_open_successes = 0
        self._inflight_trials = 0
        self._opened_at = 0.0
        self._opened_at_wall: int | None = None
        self._last_failure: tuple[int, str, str] | None = None
        # since the previous tally
        self._t_ok = self._t_bad = self._t_rej = 0
        self._last_tally = clock()
        # events queued under the lock, published in that order (see the module doc)
        self._outbox: deque[Event] = deque()
        self._publishing = threading.Lock()
        self._publisher: int | None = None  # the thread publishing now
        self._cm_trials: ContextVar[tuple[bool, ...]] = ContextVar(
            f"breaker_{name}_trials", default=()
        )

    # ------------------------------------------------------------ state machine (lock held)

    @property
    def state(self) -> str:
        """CLOSED, OPEN or HALF_OPEN (an OPEN breaker past its timeout still reads OPEN until called)."""
        return self._state

    @property
    def config(self) -> dict[str, Any]:
        """The configuration this breaker was made with."""
        return {k: getattr(self, k) for k in _CONFIG_KEYS}

    def _tally(self) -> None:
        if self._t_ok or self._t_bad or self._t_rej:
            try:
                self._outbox.append(
                    calls_event(
                        self.name,
                        successes=self._t_ok,
                        failures=self._t_bad,
                        rejected=self._t_rej,
                        state=self._state,
                        ts=self._wall(),
                    )
                )
            except Exception:  # journaling must never break the caller (counts stay exact)
                log.exception("journal: breaker %r could not build a calls tally", self.name)
            self._t_ok = self._t_bad = self._t_rej = 0
        self._last_tally = self._clock()

    def _transition(self, to: str, reason: str) -> None:
        self._tally()
        ctx = {
            "failures": self._consecutive,
            "failure_threshold": self.failure_threshold,
            "recovery_timeout": self.recovery_timeout,
        }
        try:
            self._outbox.append(
                breaker_event(
                    self.name, self._state, to, message=reason, context=ctx, ts=self._wall()
                )
            )
        except Exception:  # the transition happens whether or not it could be journaled
            log.exception("journal: breaker %r could not build a transition event", self.name)
        self._state = to
        if to == OPEN:
            self._opens += 1
            self._opened_at = self._clock()
            self._opened_at_wall = self._wall()
            self._half_open_successes = 0
        elif to == HALF_OPEN:
            self._half_open_successes = 0
            self._inflight_trials = 0
        else:
            self._consecutive = 0
            self._half_open_successes = 0
            self._opened_at_wall = None

    def _drain(self) -> None:
        """Publish the outbox, oldest first, one thread at a time (never under the state lock)."""
        me = threading.get_ident()
        if self._publisher == me:
            # A handler called back into us: the loop below, further up this thread's stack,
            # publishes these after the event it is handing out (waiting would deadlock).
            return
        outbox = self._outbox
        while outbox:
            if not self._publishing.acquire(timeout=PUBLISH_WAIT):
                # A slow handler elsewhere (or handlers of two breakers calling each other from
                # two threads): never wedge. The holder re-checks the outbox after releasing.
                return
            self._publisher = me
            try:
                emit = self._emit or emitter.emit
                while outbox:
                    event = outbox.popleft()  # only the holder of _publishing pops
                    try:
                        emit(event)
                    except Exception:  # journaling must never break the caller
                        pass
            finally:
                self._publisher = None
                self._publishing.release()

    def _admit(self) -> bool:
        """Let a call through (returns whether it is a half-open trial) or raise."""
        state = self._state
        if state == CLOSED:  # unlocked read: a racing transition is no worse than a call in flight
            return False
        if state == OPEN:
            # The fast-fail: decide under the lock, raise after releasing it (an exception
            # leaving a `with` block costs more than the lock itself).
            reject = -1.0
            tallied = False
            with self._lock:
                if self._state == OPEN:
                    now = self._clock()
                    waited = now - self._opened_at
                    if waited < self.recovery_timeout:
                        self._rejected += 1
                        self._t_rej += 1
                        reject = self.recovery_timeout - waited
                        if now - self._last_tally >= self.tally_interval:
                            tallied = True
                            self._tally()  # rejections reach the journal during the outage
            if reject >= 0.0:
                if tallied:
                    self._drain()
                raise CircuitBreakerError(self.name, OPEN, reject)
        try:
            with self._lock:
                if self._state == CLOSED:
                    return False
                if self._state == OPEN:
                    waited = self._clock() - self._opened_at
                    if waited < self.recovery_timeout:
                        self._rejected += 1
                        self._t_rej += 1
                        raise CircuitBreakerError(self.name, OPEN, self.recovery_timeout - waited)
                    self._transition(
                        HALF_OPEN, f"recovery timeout of {self.recovery_timeout:g}s passed"
                    )
                if self._inflight_trials >= self.half_open_max_calls:
                    self._rejected += 1
                    self._t_rej += 1
                    raise CircuitBreakerError(self.name, HALF_OPEN, 0.0)
                self._inflight_trials += 1
                return True
        finally:
            if self._outbox:
                self._drain()

    def _succeeded(self, trial: bool) -> None:
        with self._lock:
            self._successes += 1
            self._t_ok += 1
            self._consecutive = 0
            if trial and self._trial_succeeded():
                pass
            elif self._clock() - self._last_tally >= self.tally_interval:
                self._tally()
            else:
                return  # the common case: nothing queued, nothing to publish
        self._drain()

    def _trial_succeeded(self) -> bool:
        """A half-open trial succeeded (lock held); True if that closed the breaker."""
        self._inflight_trials -= 1
        if self._state == HALF_OPEN:
            self._half_open_successes += 1
            if self._half_open_successes >= self.success_threshold:
                self._transition(CLOSED, f"{self._half_open_successes} trial call(s) succeeded")
                return True
        return False

    def _failed(self, trial: bool, exc: BaseException) -> None:
        # The caller's exception formats itself outside our lock (its __str__ is user code, and
        # may raise: the failure counts all the same).
        kind = type(exc).__name__
        text = safe_str(exc, 200)
        opened = False
        with self._lock:
            self._failures += 1
            self._t_bad += 1
            self._consecutive += 1
            self._last_failure = (self._wall(), kind, text)
            if trial:
                self._inflight_trials -= 1
                if self._state == HALF_OPEN:
                    opened = True
                    self._transition(OPEN, f"trial call failed: {kind}")
            elif self._state == CLOSED and self._consecutive >= self.failure_threshold:
                opened = True
                self._transition(OPEN, f"{self._consecutive} consecutive failures")
            if not opened and self._clock() - self._last_tally >= self.tally_interval:
                self._tally()
        if opened:
            # Tell a retry around us that this failure opened the circuit: sleeping before
            # an attempt that can only be rejected would be wasted (see journal.resilience.retry).
            try:
                exc.__dict__["journal_opened_breaker"] = self.name
            except Exception:
                pass
        if self._outbox:
            self._drain()

    def _released(self, trial: bool) -> None:
        """A call ended in an excluded exception: neither success nor failure."""
        if trial:
            with self._lock:
                self._inflight_trials -= 1

    def _ended_with(self, exc: BaseException, trial: bool) -> None:
        if isinstance(exc, self.exclude) or not isinstance(exc, self.expected_exception):
            self._released(trial)
        else:
            self._failed(trial, exc)

    # ------------------------------------------------------------ public API

    def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)`` through the breaker."""
        trial = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._ended_with(exc, trial)
            raise
        self._succeeded(trial)
        return result

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Await ``fn(*args, **kwargs)`` through the breaker."""
        trial = self._admit()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._ended_with(exc, trial)
            raise
        self._succeeded(trial)
        return result

    def __call__(self, fn: F) -> F:
        """Decorate a sync or async function."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(fn, *args, **kwargs)

            async_wrapper.breaker = self  # type: ignore[attr-defined]
            return cast(F, async_wrapper)

        admit, ended, succeeded = self._admit, self._ended_with, self._succeeded

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            trial = admit()  # inlined `call`: one frame less per call
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                ended(exc, trial)
                raise
            succeeded(trial)
            return result

        wrapper.breaker = self  # type: ignore[attr-defined]
        return cast(F, wrapper)

    def __enter__(self) -> CircuitBreaker:
        trial = self._admit()
        self._cm_trials.set((*self._cm_trials.get(), trial))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = self._cm_trials.get()
        trial = stack[-1] if stack else False
        self._cm_trials.set(stack[:-1])
        if exc is None:
            self._succeeded(trial)
        else:
            self._ended_with(exc, trial)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def get_stats(self) -> dict[str, Any]:
        """State and counts (the seed's stats dict)."""
        with self._lock:
            calls = self._successes + self._failures
            last = self._last_failure
            return {
                "name": self.name,
                "state": self._state,
                "calls": calls,
                "successes": self._successes,
                "failures": self._failures,
                "rejected": self._rejected,
                "success_rate": 100.0 if calls == 0 else round(100.0 * self._successes / calls, 2),
                "opens": self._opens,
                "consecutive_failures": self._consecutive,
                "opened_at": iso(self._opened_at_wall)
                if self._opened_at_wall is not None
                else None,
                "retry_after": (
                    max(0.0, self.recovery_timeout - (self._clock() - self._opened_at))
                    if self._state == OPEN
                    else 0.0
                ),
                "last_failure": iso(last[0]) if last else None,
                "last_failure_type": last[1] if last else None,
                "last_failure_message": redact_text(last[2]) if last else None,
                "config": self.config,
            }

    def reset(self) -> None:
        """Operator action: back to CLOSED, the cycle forgotten; journaled."""
        with self._lock:
            before = self._state
            self._tally()
            try:
                self._outbox.append(
                    journal_event(
                        "breaker_reset",
                        f"circuit breaker {self.name!r} reset by operator (was {before})",
                        context={"breaker": self.name, "state_from": before},
                        ts=self._wall(),
                    )
                )
            except Exception:
                log.exception("journal: breaker %r could not build a reset event", self.name)
            if before != CLOSED:
                self._transition(CLOSED, "reset by operator")
            self._consecutive = 0
            self._inflight_trials = 0
        self._drain()

    def flush_tallies(self) -> None:
        """Emit the calls since the previous tally now."""
        with self._lock:
            self._tally()
        if self._outbox:
            self._drain()

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self._state})"


class CircuitBreakerManager:
    """Named breakers: the same name gives the same breaker."""

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self._emit = emit
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get_breaker(self, name: str, **config: Any) -> CircuitBreaker:
        """The breaker called ``name``, made with ``config`` on first use.

        Asking again with a different explicit configuration is a `ValueError`.
        """
        with self._lock:
            existing = self._breakers.get(name)
            if existing is None:
                if self._emit is not None:
                    config.setdefault("emit", self._emit)
                breaker = CircuitBreaker(name, **config)
                self._breakers[name] = breaker
                return breaker
        current = existing.config
        differ = [
            f"{k}={config[k]!r} (has {current[k]!r})"
            for k in config
            if k in current and _normalise(k, config[k]) != current[k]
        ]
        unknown = [
            k for k in config if k not in current and k not in ("clock", "wall_clock", "emit")
        ]
        if unknown:
            raise ValueError(f"unknown circuit breaker parameter(s): {', '.join(unknown)}")
        if differ:
            raise ValueError(
                f"circuit breaker {name!r} already exists with another configuration: {'; '.join(differ)}"
            )
        return existing

    def breakers(self) -> list[CircuitBreaker]:
        """Every breaker, by name."""
        with self._lock:
            return [self._breakers[k] for k in sorted(self._breakers)]

    def get_all_stats(self) -> dict[str, dict[str, Any]]:
        """Stats of every breaker."""
        return {b.name: b.get_stats() for b in self.breakers()}

    def reset_all(self) -> None:
        """Reset every breaker (journaled)."""
        for b in self.breakers():
            b.reset()

    def flush_tallies(self) -> None:
        """Emit every breaker's pending call tally."""
        for b in self.breakers():
            b.flush_tallies()

    def remove(self, name: str) -> None:
        """Forget a breaker (its pending tally is emitted first)."""
        with self._lock:
            b = self._breakers.pop(name, None)
        if b is not None:
            b.flush_tallies()


def _normalise(key: str, value: Any) -> Any:
    if key in ("exclude", "expected_exception") and not isinstance(value, tuple):
        return (value,)
    if key in ("recovery_timeout", "tally_interval"):
        return float(value)
    return value


_manager = CircuitBreakerManager()


def get_circuit_breaker_manager() -> CircuitBreakerManager:
    """The process-wide breaker manager."""
    return _manager


def circuit_breaker(
    name: str | None = None,
    failure_threshold: int | None = None,
    recovery_timeout: float | None = None,
    success_threshold: int | None = None,
    **config: Any,
) -> Callable[[F], F]:
    """Decorator: run a sync or async function through the named breaker of the manager.

    Settings not given keep `CircuitBreaker`'s defaults for a new breaker, and leave an
    existing breaker of that name as it is; a setting given that conflicts is a `ValueError`.
    """
    explicit = {
        key: value
        for key, value in (
            ("failure_threshold", failure_threshold),
            ("recovery_timeout", recovery_timeout),
            ("success_threshold", success_threshold),
        )
        if value is not None
    }
    explicit.update(config)

    def decorate(fn: F) -> F:
        breaker = _manager.get_breaker(name or f"{fn.__module__}.{fn.__qualname__}", **explicit)
        return breaker(fn)

    return decorate
