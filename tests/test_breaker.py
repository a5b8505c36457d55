"""The circuit breaker's state machine, on a fake clock, with its journal events."""

from __future__ import annotations

import asyncio
import threading

import pytest

from journal.errors import CircuitBreakerError
from journal.events import Event
from journal.resilience.breaker import CircuitBreaker, CircuitBreakerManager, circuit_breaker


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Boom(Exception):
    pass


class NotFound(Exception):
    pass


def make(events: list[Event] | None = None, **kw):  # type: ignore[no-untyped-def]
    clock = Clock()
    wall = iter(range(10**9))
    kw.setdefault("failure_threshold", 3)
    kw.setdefault("recovery_timeout", 60.0)
    b = CircuitBreaker(
        "svc",
        clock=clock,
        wall_clock=lambda: 1_800_000_000_000_000 + next(wall),
        emit=(events.append if events is not None else (lambda e: None)),
        **kw,
    )
    return b, clock


def fail(b: CircuitBreaker) -> None:
    def f() -> None:
        raise Boom("down")

    with pytest.raises((Boom, CircuitBreakerError)):
        b.call(f)


def ok(b: CircuitBreaker) -> str:
    return b.call(lambda: "ok")


def test_opens_after_consecutive_failures_only() -> None:
    b, _ = make()
    fail(b), fail(b), ok(b), fail(b), fail(b)
    assert b.state == "CLOSED"  # 2, reset, 2: never 3 in a row
    fail(b)
    assert b.state == "OPEN"


def test_open_rejects_until_the_recovery_timeout() -> None:
    b, clock = make()
    for _ in range(3):
        fail(b)
    clock.t += 59.5
    with pytest.raises(CircuitBreakerError) as info:
        ok(b)
    assert info.value.name == "svc" and info.value.retry_after == pytest.approx(0.5)
    assert "'svc' is OPEN" in str(info.value) and "next trial call in 0.5s" in str(info.value)
    clock.t += 0.5  # exactly at the timeout: a trial is let through
    assert ok(b) == "ok"
    assert b.state == "HALF_OPEN"


def test_half_open_closes_after_success_threshold() -> None:
    b, clock = make(success_threshold=2)
    for _ in range(3):
        fail(b)
    clock.t += 60
    ok(b)
    assert b.state == "HALF_OPEN"
    ok(b)
    assert b.state == "CLOSED"


def test_failure_in_half_open_reopens_and_restarts_the_timer() -> None:
    b, clock = make()
    for _ in range(3):
        fail(b)
    clock.t += 60
    fail(b)
    assert b.state == "OPEN"
    clock.t += 30
    with pytest.raises(CircuitBreakerError) as info:
        ok(b)
    assert info.value.retry_after == pytest.approx(30.0)


def test_half_open_limits_concurrent_trials() -> None:
    b, clock = make(half_open_max_calls=1)
    for _ in range(3):
        fail(b)
    clock.t += 60
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "slow"

    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(b.call(slow)))
    t.start()
    assert started.wait(5)
    with pytest.raises(CircuitBreakerError) as info:
        ok(b)
    assert info.value.state == "HALF_OPEN" and "trial calls in progress" in str(info.value)
    release.set()
    t.join(5)
    assert result == ["slow"] and b.state == "HALF_OPEN"
    assert b.get_stats()["rejected"] == 1


def test_excluded_and_unexpected_exceptions_do_not_count() -> None:
    b, _ = make(exclude=(NotFound,))

    def missing() -> None:
        raise NotFound("no such symbol")

    for _ in range(10):
        with pytest.raises(NotFound):
            b.call(missing)
    with pytest.raises(KeyboardInterrupt):
        b.call(lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    s = b.get_stats()
    assert (s["state"], s["calls"], s["failures"], s["successes"]) == ("CLOSED", 0, 0, 0)


def test_excluded_exception_frees_the_half_open_trial_slot() -> None:
    b, clock = make(exclude=(NotFound,))
    for _ in range(3):
        fail(b)
    clock.t += 60
    with pytest.raises(NotFound):
        b.call(lambda: (_ for _ in ()).throw(NotFound()))
    assert ok(b) == "ok"  # the slot was released


def test_stats_and_success_rate() -> None:
    b, _ = make(failure_threshold=5)
    for _ in range(19):
        ok(b)
    fail(b)
    s = b.get_stats()
    assert (s["calls"], s["successes"], s["failures"], s["success_rate"]) == (20, 19, 1, 95.0)
    assert s["last_failure_type"] == "Boom" and s["last_failure_message"] == "down"
    assert make()[0].get_stats()["success_rate"] == 100.0


def test_event_sequence_of_a_full_cycle() -> None:
    events: list[Event] = []
    b, clock = make(events, success_threshold=2)
    ok(b)
    for _ in range(3):
        fail(b)
    fail(b)  # rejected
    clock.t += 60
    ok(b), ok(b)
    b.flush_tallies()

    def tally(e: Event) -> tuple[int, int, int] | None:
        c = e.context
        return (c["successes"], c["failures"], c["rejected"]) if e.kind == "calls" else None

    kinds = [(e.kind, e.state_from, e.state_to, tally(e)) for e in events]
    assert kinds == [
        ("calls", None, None, (1, 3, 0)),  # tally up to the transition, attributed to CLOSED
        ("breaker", "CLOSED", "OPEN", None),
        ("calls", None, None, (0, 0, 1)),
        ("breaker", "OPEN", "HALF_OPEN", None),
        ("calls", None, None, (2, 0, 0)),
        ("breaker", "HALF_OPEN", "CLOSED", None),
    ]
    assert events[0].context["state"] == "CLOSED"
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_reset_is_journaled_as_an_operator_action() -> None:
    events: list[Event] = []
    b, _ = make(events)
    for _ in range(3):
        fail(b)
    events.clear()
    b.reset()
    assert b.state == "CLOSED"
    assert [(e.kind, e.name) for e in events] == [("journal", "breaker_reset"), ("breaker", "svc")]
    assert events[0].context == {"breaker": "svc", "state_from": "OPEN"}
    assert (events[1].state_from, events[1].state_to) == ("OPEN", "CLOSED")
    assert ok(b) == "ok"


def test_tally_every_interval_on_the_call_path() -> None:
    events: list[Event] = []
    b, clock = make(events, tally_interval=5.0)
    ok(b)
    ok(b)
    assert events == []
    clock.t += 5
    ok(b)
    assert [(e.kind, e.context["successes"]) for e in events] == [("calls", 3)]


def test_manager_gives_the_same_breaker_and_refuses_conflicts() -> None:
    m = CircuitBreakerManager(emit=lambda e: None)
    a = m.get_breaker("x", failure_threshold=3)
    assert m.get_breaker("x") is a
    assert m.get_breaker("x", failure_threshold=3) is a
    with pytest.raises(ValueError, match="failure_threshold=4 \\(has 3\\)"):
        m.get_breaker("x", failure_threshold=4)
    with pytest.raises(ValueError, match="unknown"):
        m.get_breaker("x", threshold=4)
    assert list(m.get_all_stats()) == ["x"]


def test_eight_threads_ten_thousand_calls_counts_are_exact() -> None:
    events: list[Event] = []
    lock = threading.Lock()

    def emit(e: Event) -> None:
        with lock:
            events.append(e)

    b = CircuitBreaker(
        "load", failure_threshold=3, recovery_timeout=0.0, emit=emit, tally_interval=0.001
    )

    def worker(k: int) -> None:
        for i in range(10_000):
            try:
                if (i * 7 + k) % 10 < 3:
                    b.call(lambda: 1 / 0)
                else:
                    b.call(lambda: None)
            except (ZeroDivisionError, CircuitBreakerError):
                pass

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.flush_tallies()
    s = b.get_stats()
    assert s["successes"] + s["failures"] + s["rejected"] == 80_000
    tallies = [e.context for e in events if e.kind == "calls"]
    assert sum(t["successes"] for t in tallies) == s["successes"]
    assert sum(t["failures"] for t in tallies) == s["failures"]
    assert sum(t["rejected"] for t in tallies) == s["rejected"]
    assert sum(1 for e in events if e.kind == "breaker" and e.state_to == "OPEN") == s["opens"]


def test_sync_and_async_decorators_share_a_named_breaker() -> None:
    name = "deco_shared"

    @circuit_breaker(name=name, failure_threshold=2, recovery_timeout=60)
    def sync_fetch(x: int) -> int:
        if x < 0:
            raise Boom("neg")
        return x * 2

    @circuit_breaker(name=name, failure_threshold=2, recovery_timeout=60)
    async def async_fetch(x: int) -> int:
        if x < 0:
            raise Boom("neg")
        return x * 3

    assert sync_fetch(2) == 4
    assert asyncio.run(async_fetch(2)) == 6
    with pytest.raises(Boom):
        sync_fetch(-1)
    with pytest.raises(Boom):
        asyncio.run(async_fetch(-1))
    with pytest.raises(CircuitBreakerError):
        asyncio.run(async_fetch(1))
    assert sync_fetch.breaker is async_fetch.breaker  # type: ignore[attr-defined]
    assert sync_fetch.breaker.get_stats()["rejected"] == 1  # type: ignore[attr-defined]


async def test_async_context_manager_counts() -> None:
    b, _ = make()
    async with b:
        await asyncio.sleep(0)
    with pytest.raises(Boom):
        async with b:
            raise Boom("x")
    with b:
        pass
    s = b.get_stats()
    assert (s["successes"], s["failures"]) == (2, 1)


def test_calls_run_concurrently_through_one_breaker() -> None:
    b, _ = make()
    barrier = threading.Barrier(4, timeout=5)
    done: list[int] = []

    def meet(i: int) -> None:
        barrier.wait()  # deadlocks (BrokenBarrierError) if the breaker serialised calls
        done.append(i)

    threads = [threading.Thread(target=b.call, args=(meet, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(done) == [0, 1, 2, 3]


def test_rejections_are_tallied_while_open() -> None:
    events: list[Event] = []
    b, clock = make(events, tally_interval=5.0, recovery_timeout=60.0)
    for _ in range(3):
        fail(b)
    events.clear()
    for _ in range(4):
        clock.t += 2
        with pytest.raises(CircuitBreakerError):
            ok(b)
    # t+2, t+4: no tally yet; t+6 >= 5 s after the transition's tally: tally of 3; t+8: not yet
    assert [(e.kind, e.context["rejected"]) for e in events] == [("calls", 3)]
