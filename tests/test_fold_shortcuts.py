"""The fold's shortcuts change no state: `JournalState.fold` (the path replay takes for errors
and retries) folds as `apply` does, and `apply` skips `IncidentTracker.advance` only when it
would do nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from journal.events import Event, error_event, retry_event
from journal.projections.state import JournalState
from tests.test_replay import T0, S, error_storms, event_sequences


@st.composite
def bursts(draw: st.DrawFn) -> list[Event]:
    """Errors of two types and retries, ~10 in 5 min: bursts open, and end unobserved."""
    ts = T0
    out: list[Event] = []
    for _ in range(draw(st.integers(0, 400))):
        ts += draw(st.sampled_from([0, S, 5 * S, 20 * S, 30 * S, 40 * S, 3 * 60 * S]))
        if draw(st.integers(0, 3)):
            out.append(error_event(f"t{draw(st.integers(0, 1))}", "m", name="ohlcv", ts=ts))
        else:
            out.append(retry_event("ohlcv", 1, 1.0, ts=ts))
    return out


def mixed() -> st.SearchStrategy[list[Event]]:
    """Every kind in ts order, errors over many types with late times, or bursts; ids as a
    store assigns them, but for a few events (as folded live, before the store)."""
    return st.one_of(event_sequences(), error_storms(), bursts()).map(
        lambda events: [e if n % 7 == 3 else e._replace(id=n + 1) for n, e in enumerate(events)]
    )


def small() -> JournalState:
    return JournalState(max_live_types=4, max_burst_types=3)


@settings(max_examples=200, deadline=None)
@given(mixed(), st.integers(0, 160))
def test_fold_gives_the_state_apply_gives_on_mixed_streams(events: list[Event], cut: int) -> None:
    by_apply = small()
    for e in events:
        by_apply.apply(e)
    by_fold = small()
    head, tail = events[:cut], events[cut:]
    assert by_fold.fold(head) == (head[-1] if head else None)
    assert by_fold.fold(tail) == (tail[-1] if tail else None)
    assert by_fold.to_state() == by_apply.to_state()
    assert by_fold.snapshot() == by_apply.snapshot()


@settings(max_examples=300, deadline=None)
@given(mixed())
def test_apply_skips_only_advances_that_would_do_nothing(events: list[Event]) -> None:
    skipping, every = small(), small()
    for e in events:
        skipping.apply(e)
        every.apply(e)
        every.incidents.advance(e.ts)  # a second advance to the same time changes nothing
    assert skipping.to_state() == every.to_state()
