"""An error storm: live projections stay bounded, lose nothing, and still equal replay."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import journal
from journal.alerting.rules import AlertConfig
from journal.events import now_us
from journal.history.replay import replay_snapshot
from journal.projections.incidents import BURST_THRESHOLD, MAX_BURST_TYPES, MAX_INCIDENTS
from journal.projections.state import (
    MAX_LIVE_TYPES,
    RATE_HORIZON_S,
    RECENT_ERRORS,
    JournalSnapshot,
)

ERRORS = 400_000
TYPES = 10_000
HOT = 20  # a few types take a third of the storm, the rest spread over 10,000

# No alert can fire: the event stream is exactly the errors, folded live in the recording
# thread's order and stored in the same order, so live and replay see one sequence.
QUIET = AlertConfig(
    error_count_threshold=10**9,
    error_rate_per_min=1e12,
    breaker_opened=False,
    critical_error=False,
)


def storm_types(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [
        f"storm_{rng.randrange(HOT)}" if rng.random() < 0.33 else f"storm_{rng.randrange(TYPES)}"
        for _ in range(n)
    ]


def comparable(s: JournalSnapshot) -> tuple[Any, ...]:
    return (s.errors, s.rates, s.breakers, s.incidents, s.health, s.events_seen)


@pytest.mark.slow
def test_storm_over_ten_thousand_types_is_bounded_stored_once_and_equals_replay(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/storm.db"
    # Breakers other tests left in this process may flush a tally into this journal: the storm
    # itself makes none.
    breakers_before = len(journal.get_circuit_breaker_manager().breakers())
    j = journal.configure(
        url,
        source="storm:1",
        spool_dir=tmp_path / "spool",
        alert_config=QUIET,
        max_memory_events=ERRORS + 1,
    )
    tracker = journal.get_error_tracker()
    stop = threading.Event()
    polls: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def poll() -> None:
        while not stop.is_set():
            try:
                s = tracker.get_error_summary()
                polls.append((len(s["error_counts"]), len(s["recent_errors"])))
            except BaseException as exc:  # the reader must never fail
                failures.append(exc)
                return
            stop.wait(0.1)

    reader = threading.Thread(target=poll)
    try:
        reader.start()
        try:
            record_storm()
        finally:
            stop.set()
            reader.join()
        assert journal.flush(120)
        check(j, failures, polls, breakers_before)
    finally:
        journal.shutdown(30)


def record_storm() -> None:
    for i, etype in enumerate(storm_types(ERRORS)):
        journal.record_error(
            etype,
            "ConnectionError: storm",
            {"i": i},
            severity="CRITICAL" if i % 50_000 == 0 else "ERROR",
        )


def check(
    j: journal.Journal,
    failures: list[BaseException],
    polls: list[tuple[int, int]],
    breakers_before: int,
) -> None:
    assert not failures
    assert polls and all(n <= MAX_LIVE_TYPES for n, _ in polls)

    # memory bounded: every live container has a length independent of the storm
    sizes = j.state.sizes()
    assert sizes["types"] == MAX_LIVE_TYPES and sizes["names"] == MAX_LIVE_TYPES
    assert sizes["seen_types"] == TYPES  # diversity is exact at this scale
    assert sizes["type_seconds_max"] <= RATE_HORIZON_S and sizes["seconds"] <= RATE_HORIZON_S
    assert sizes["recent_errors"] == RECENT_ERRORS
    assert sizes["alert_keys"] == 0 and sizes["breakers"] <= breakers_before
    assert sizes["burst_types"] <= MAX_BURST_TYPES and sizes["incidents"] <= MAX_INCIDENTS
    assert sizes["burst_schedule"] <= sizes["open_bursts"] + 1

    # every event stored exactly once
    with j.store.engine.connect() as c:
        n, distinct = c.execute(
            text("SELECT count(*), count(DISTINCT event_id) FROM events WHERE kind = 'error'")
        ).one()
        others = c.execute(text("SELECT kind, name FROM events WHERE kind <> 'error'")).all()
    assert (n, distinct) == (ERRORS, ERRORS)
    # nothing else, but call tallies that breakers left by earlier tests in this process (the
    # collector's process-wide ones) may flush on their interval: the storm itself makes none
    leftover = {b.name for b in journal.get_circuit_breaker_manager().breakers()}
    assert all(kind == "calls" and name in leftover for kind, name in others), others
    assert len(others) <= breakers_before

    # the live summary equals replay, as of the same moment, now that nothing is in flight
    at = now_us()
    live = j.snapshot(at)
    replayed = replay_snapshot(j.store, at)
    assert comparable(live) == comparable(replayed)
    assert live.errors.total == ERRORS and live.errors.diversity == TYPES
    assert sum(live.errors.by_type.values()) + live.errors.untracked == ERRORS
    assert live.rates.total[15] == ERRORS / 15  # the storm took well under 15 minutes
    assert live.health.level == "CRITICAL"
    assert any(i.kind == "burst" and i.errors > BURST_THRESHOLD for i in live.incidents.items)
    summary = journal.get_error_tracker().get_error_summary()
    assert summary["total_errors"] == ERRORS and summary["error_diversity"] == TYPES
    assert sum(summary["error_counts"].values()) + summary["untracked_errors"] == ERRORS


def test_dashboard_lists_the_top_types_and_says_what_is_not_itemised() -> None:
    from rich.console import Console

    from journal.dashboard import render
    from journal.events import error_event
    from journal.projections.state import JournalState

    st = JournalState(max_live_types=30, max_distinct_types=40)
    t0 = 1_800_000_000 * 1_000_000
    for i in range(200):
        st.apply(error_event(f"t{i % 50}", "m", ts=t0 + i * 1_000_000))
    console = Console(record=True, width=200)
    console.print(render(st.snapshot(), types=5))
    out = console.export_text()
    # 50 types in turn through 30 places: each error after the 30th evicts the least recently
    # seen type, so the 30 tracked (t20..t49) have 1 error each since admission, sorted by name
    assert [f"t{k}" in out for k in (20, 24, 25)] == [True, True, False]
    assert "25 more type(s) tracked" in out
    assert "170 error(s) of types evicted from live tracking (170 eviction(s)" in out
    assert "Diversity: >= 40 type(s)" in out
