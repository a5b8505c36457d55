"""Child-process bodies for the fork-safety tests (importable under spawn)."""

from __future__ import annotations

import sys
import threading
import time

import journal

NAME = "fork_test"


def record(worker: int, count: int) -> int:
    """Record ``count`` errors named `NAME`, messages ``w<worker>#<i>``; returns ``count``."""
    for i in range(count):
        journal.record_error("ForkTest", f"w{worker}#{i}", name=NAME)
    return count


def record_at(url: str, worker: int, count: int) -> int:
    """Configure the journal on ``url`` (as a forkserver child must), then `record`."""
    journal.configure(url)
    return record(worker, count)


def record_and_flush(worker: int, count: int) -> None:
    """`record`, then flush: exit code 3 if the events did not reach the store in time."""
    record(worker, count)
    if not journal.flush(60):
        sys.exit(3)


def record_task(task: tuple[int, int]) -> int:
    """`record` for ``Pool.map``: one (worker, count) task."""
    return record(*task)


def record_until(stop: threading.Event, counter: list[int]) -> None:
    """Record errors and breaker calls in a loop until ``stop`` is set (a parent thread racing
    forks: it holds the journal's, the bus's and the breaker's locks as often as it can)."""
    breaker = journal.get_circuit_breaker_manager().get_breaker("fork_race")
    while not stop.is_set():
        journal.record_error("ForkRace", f"parent #{counter[0]}", name="fork_race")
        breaker.call(int)
        counter[0] += 1
        time.sleep(0.0002)  # busy, but not so busy that it starves the children of SQLite's lock
