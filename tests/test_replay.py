"""Replay equals live: for random event sequences, from memory, a SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from journal.events import (
    Event,
    alert_event,
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    retry_event,
)
from journal.history.replay import replay, replay_snapshot
from journal.projections.state import JournalSnapshot, JournalState
from journal.store.event_store import EventStore

S = 1_000_000
T0 = 1_800_000_000 * S
STATES = ["CLOSED", "OPEN", "HALF_OPEN"]
TYPES = ["api_ohlcv_error", "api_oi_error", "db_error"]
NAMES = ["binance_ohlcv", "binance_oi", "binance_funding"]


class ListReader:
    """The smallest store: what replay needs, over a list."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def read(self, **f: Any) -> Iterator[Event]:
        for e in self.events:
            if "since" in f and e.ts < f["since"]:
                continue
            if "until" in f and e.ts >= f["until"]:
                continue
            yield e


@st.composite
def event_sequences(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(min_value=0, max_value=80))
    ts = T0
    out: list[Event] = []
    for _ in range(n):
        ts += draw(st.sampled_from([0, 1, S, 10 * S, 45 * S, 4 * 60 * S]))
        k = draw(st.sampled_from(["error"] * 5 + ["retry", "breaker", "calls", "alert", "clear"]))
        name = draw(st.sampled_from(NAMES))
        if k == "error":
            sev = draw(st.sampled_from(["ERROR", "ERROR", "WARNING", "CRITICAL"]))
            out.append(
                error_event(
                    draw(st.sampled_from(TYPES)),
                    "msg ✓",
                    name=name,
                    severity=sev,
                    ts=ts,
                    context={"n": len(out)},
                )
            )
        elif k == "retry":
            out.append(
                retry_event(
                    name, draw(st.integers(1, 5)), draw(st.sampled_from([0.0, 1.0, 2.5])), ts=ts
                )
            )
        elif k == "breaker":
            a, b = draw(st.sampled_from([(x, y) for x in STATES for y in STATES if x != y]))
            out.append(breaker_event(name, a, b, ts=ts))
        elif k == "calls":
            out.append(
                calls_event(
                    name,
                    successes=draw(st.integers(0, 50)),
                    failures=draw(st.integers(0, 5)),
                    rejected=draw(st.integers(0, 5)),
                    ts=ts,
                )
            )
        elif k == "alert":
            out.append(alert_event("error_count", draw(st.sampled_from(TYPES)), "x", ts=ts))
        else:
            out.append(journal_event("tracker_cleared", ts=ts))
    return out


def _ev(e: Event) -> tuple[Any, ...]:
    return (*e._replace(id=None, context_json="")[1:-1], e.context)


def norm(s: JournalSnapshot) -> tuple[Any, ...]:
    """A snapshot without store-assigned ids and JSON text formatting."""
    return (
        s.at,
        s.events_seen,
        s.errors,
        s.rates,
        [_ev(e) for e in s.recent_errors],
        (s.alerts.total, s.alerts.by_rule, s.alerts.by_key, [_ev(e) for e in s.alerts.recent]),
        s.breakers,
        s.incidents,
        s.health,
    )


def live(events: list[Event]) -> JournalState:
    state = JournalState()
    for e in events:
        state.apply(e)
    return state


@settings(max_examples=150, deadline=None)
@given(event_sequences(), st.integers(0, 100))
def test_replay_equals_live_and_until_equals_prefix(events: list[Event], cut: int) -> None:
    reader = ListReader(events)
    assert norm(replay(reader).snapshot()) == norm(live(events).snapshot())
    if events:
        at = events[min(cut, len(events) - 1)].ts
        prefix = [e for e in events if e.ts <= at]
        assert norm(replay_snapshot(reader, at)) == norm(live(prefix).snapshot(at))
        until = [e for e in events if e.ts < at]
        assert norm(replay(reader, until=at).snapshot(at)) == norm(live(until).snapshot(at))


@pytest.fixture
def store(migrated_url: str) -> Iterator[EventStore]:
    s = EventStore(migrated_url)
    yield s
    s.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=event_sequences(), cut=st.integers(0, 100))
def test_replay_from_the_database_equals_live(
    store: EventStore, events: list[Event], cut: int
) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events"))
    store.append(events)
    assert norm(replay(store, batch_size=7).snapshot()) == norm(live(events).snapshot())
    if events:
        at = events[min(cut, len(events) - 1)].ts
        prefix = [e for e in events if e.ts <= at]
        assert norm(replay_snapshot(store, at)) == norm(live(prefix).snapshot(at))


@st.composite
def error_storms(draw: st.DrawFn) -> list[Event]:
    """Errors with sub-second times, some late (up to 20 min), over more types than the cap."""
    n = draw(st.integers(min_value=0, max_value=150))
    ts = T0
    out: list[Event] = []
    for _ in range(n):
        ts += draw(st.sampled_from([0, 1, S // 3, S, 7 * S, 50 * S, 3 * 60 * S]))
        late = draw(st.sampled_from([0, 0, 0, 0, S // 2, 40 * S, 14 * 60 * S, 20 * 60 * S]))
        out.append(
            error_event(
                f"t{draw(st.integers(0, 7))}",
                "m",
                severity=draw(st.sampled_from(["ERROR", "CRITICAL"])),
                ts=ts - late,
            )
        )
    return out


def bucketed(events: list[Event], at: int, minutes: int, etype: str | None = None) -> float:
    """The documented definition: errors whose second lies in (at_s - 60 w, at_s], per minute."""
    a = at // S
    return (
        sum(
            1
            for e in events
            if a - 60 * minutes < e.ts // S <= a and (etype is None or e.error_type == etype)
        )
        / minutes
    )


@settings(max_examples=150, deadline=None)
@given(error_storms(), st.integers(0, 20 * 60 * S), st.integers(1, 4))
def test_bucketed_rates_live_equal_replay_and_the_definition(
    events: list[Event], after: int, cap: int
) -> None:
    def state() -> JournalState:
        return JournalState(max_live_types=cap, max_burst_types=cap)

    live_state = state()
    for e in events:
        live_state.apply(e)
    at = max((e.ts for e in events), default=T0) + after  # at or after the newest second
    replayed = replay(ListReader(events), state=state()).snapshot(at)
    snap = live_state.snapshot(at)
    assert norm(snap) == norm(replayed)
    assert snap.rates.total == {m: bucketed(events, at, m) for m in (1, 5, 15)}
    for etype, rates in snap.rates.by_type.items():
        exact = {m: bucketed(events, at, m, etype) for m in (1, 5, 15)}
        if snap.errors.evicted_types == 0:
            assert rates == exact
        else:  # a type evicted and admitted again counts from its admission
            assert all(rates[m] <= exact[m] for m in exact)
    e = snap.errors
    assert len(e.by_type) <= cap and sum(e.by_type.values()) + e.untracked == len(events)
    crit = sum(
        1 for x in events if x.severity == "CRITICAL" and at // S - 300 < x.ts // S <= at // S
    )
    assert (crit > 0) == any("CRITICAL error(s)" in r for r in snap.health.reasons)


def test_replay_with_wider_bounds_itemises_what_live_evicted() -> None:
    events = [error_event(f"t{i % 5}", "m", ts=T0 + i * S) for i in range(20)]
    narrow = replay_snapshot(ListReader(events), T0 + 20 * S, state=JournalState(max_live_types=2))
    wide = replay_snapshot(ListReader(events), T0 + 20 * S)
    assert dict(narrow.errors.by_type) == {"t3": 1, "t4": 1} and narrow.errors.untracked == 18
    assert (
        dict(wide.errors.by_type) == {f"t{k}": 4 for k in range(5)} and wide.errors.untracked == 0
    )
    assert narrow.rates.total == wide.rates.total
