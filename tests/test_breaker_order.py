"""One breaker's transitions reach the store in the order they happened, under contention.

Sixteen threads hammer one breaker with a small failure threshold and a 2 ms recovery timeout
on a clock that advances 0.5 ms at every reading (shared by the threads), so it cycles
CLOSED -> OPEN -> HALF_OPEN -> ... hundreds of times while other threads' transitions race
with it. Read back from the store in id order,
the ``breaker`` events must form one chain (each ``state_from`` is the previous ``state_to``,
from CLOSED), and replaying the store must give the board the live breaker shows.
"""

from __future__ import annotations

import itertools
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import journal
from journal.errors import CircuitBreakerError
from journal.events import Event
from journal.history.replay import replay
from journal.process.bus import EventBus
from journal.resilience.breaker import CLOSED, CircuitBreaker
from journal.store.event_store import EventStore

THREADS = 16
CALLS_PER_THREAD = 400


class Down(Exception):
    pass


@pytest.fixture
def busy_scheduler() -> Iterator[None]:
    """Switch threads every microsecond instead of every 5 ms: races show up on every run."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def hammer(breaker: CircuitBreaker, seed: int, start: threading.Barrier) -> None:
    rng = random.Random(seed)

    def work(fail: bool) -> int:
        time.sleep(0)  # like real IO: let go of the GIL inside the call
        if fail:
            raise Down("exchange down")
        return 1

    start.wait()
    for _ in range(CALLS_PER_THREAD):
        try:
            breaker.call(work, rng.random() < 0.5)
        except (Down, CircuitBreakerError):
            pass


def test_transitions_are_stored_in_the_order_they_happened(
    configured: Any, busy_scheduler: None
) -> None:
    name = f"order_{uuid.uuid4().hex[:8]}"
    ticks = itertools.count()  # next() on it is atomic: a clock the threads can share
    breaker = CircuitBreaker(
        name,
        clock=lambda: next(ticks) * 0.0005,
        failure_threshold=2,
        recovery_timeout=0.002,
        success_threshold=1,
        half_open_max_calls=2,
        tally_interval=0.01,  # tallies interleave with transitions too
    )
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(target=hammer, args=(breaker, seed, start)) for seed in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    breaker.flush_tallies()
    assert journal.flush(30)
    live = breaker.get_stats()

    store = EventStore(configured.url)
    try:
        transitions = list(store.read(kinds=["breaker"], names=[name]))
        assert len(transitions) >= 100, "the breaker should have cycled many times"
        state = CLOSED
        for i, e in enumerate(transitions):
            assert e.state_from == state, (
                f"transition {i} of {len(transitions)} goes {e.state_from} -> {e.state_to}, "
                f"but the previous one left the breaker {state}"
            )
            state = e.state_to or ""
        assert state == live["state"]

        row = replay(store, names=[name]).snapshot().breakers[name]
    finally:
        store.close()
    assert (row.state, row.opens, row.calls, row.successes, row.failures, row.rejected) == (
        live["state"],
        live["opens"],
        live["calls"],
        live["successes"],
        live["failures"],
        live["rejected"],
    )
    assert live["calls"] + live["rejected"] == THREADS * CALLS_PER_THREAD


def test_a_handler_calling_back_into_the_breaker_neither_deadlocks_nor_reorders() -> None:
    """A bus handler that reacts to OPEN by calling the breaker (recovery timeout 0: the call
    is a trial that closes it) must not deadlock, and a handler after it on the bus must still
    see OPEN before the HALF_OPEN and CLOSED its neighbour caused."""
    bus = EventBus()
    seen: list[Event] = []
    breaker = CircuitBreaker(
        "reentrant",
        failure_threshold=1,
        recovery_timeout=0.0,
        success_threshold=1,
        clock=lambda: 0.0,
        emit=bus.publish,
    )
    reacted: list[Event] = []

    def react(e: Event) -> None:
        if e.kind == "breaker" and e.state_to == "OPEN" and not reacted:
            reacted.append(e)
            breaker.call(lambda: "probe")

    bus.subscribe(react)
    bus.subscribe(seen.append)

    def fail_once() -> None:
        with pytest.raises(Down):
            breaker.call(lambda: (_ for _ in ()).throw(Down("x")))

    worker = threading.Thread(target=fail_once, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "deadlocked: a handler called back into the breaker"
    assert bus.handler_errors == 0
    assert [(e.state_from, e.state_to) for e in seen if e.kind == "breaker"] == [
        ("CLOSED", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "CLOSED"),
    ]
    assert breaker.state == "CLOSED"


def test_handlers_of_two_breakers_calling_each_other_from_two_threads_never_wedge() -> None:
    """Thread 1 publishes A's event and its handler touches B while thread 2 publishes B's event
    and its handler touches A: each waits for the other's publish lock, briefly, then leaves
    its events to the other. Both finish and every event is published, each breaker's in order."""
    seen: dict[str, list[Event]] = {"a": [], "b": []}
    both_inside = threading.Barrier(2)
    breakers: dict[str, CircuitBreaker] = {}

    def handler(own: str, other: str) -> Any:
        reacted: list[bool] = []

        def handle(e: Event) -> None:
            seen[own].append(e)
            if e.kind == "breaker" and not reacted:
                reacted.append(True)
                both_inside.wait(5)  # both threads are now publishing, each holding its lock
                breakers[other].reset()  # journals an operator reset of the other breaker

        return handle

    for own, other in (("a", "b"), ("b", "a")):
        breakers[own] = CircuitBreaker(
            f"crossed_{own}",
            failure_threshold=1,
            clock=lambda: 0.0,
            emit=handler(own, other),
        )

    def open_it(own: str) -> None:
        with pytest.raises(Down):
            breakers[own].call(lambda: (_ for _ in ()).throw(Down("x")))

    threads = [threading.Thread(target=open_it, args=(k,), daemon=True) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads), "wedged: two publishers waited on each other"
    for own in ("a", "b"):
        kinds = [(e.kind, e.name, e.state_from, e.state_to) for e in seen[own]]
        assert kinds == [
            ("calls", f"crossed_{own}", None, None),
            ("breaker", f"crossed_{own}", "CLOSED", "OPEN"),
            ("journal", "breaker_reset", None, None),
            ("breaker", f"crossed_{own}", "OPEN", "CLOSED"),
        ]
