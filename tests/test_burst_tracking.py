"""Burst tracking at its edges: the error times a type keeps, and the peak across a whole
window's gap."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from journal.events import error_event
from journal.projections.incidents import IncidentTracker
from journal.projections.state import JournalState

S = 1_000_000
T = 1_800_000_000 * S  # a multiple of 10 s: buckets are [T, T+10 s), [T+10 s, T+20 s), ...


@settings(max_examples=300, deadline=None)
@given(hs.lists(hs.integers(0, 10 * 60), max_size=40))
def test_a_type_keeps_its_newest_threshold_plus_one_times_in_any_fold_order(
    seconds: list[int],
) -> None:
    # late times included: whatever the order, the times kept are the newest 5, ascending
    tracker = IncidentTracker(threshold=4)
    for s in seconds:
        tracker.error("a", T + s * S)
    kept = {k: last for k, last, _ in tracker.to_state()["tracks"]}
    assert kept.get("a", []) == sorted(T + s * S for s in seconds)[-5:]


def test_burst_peak_empties_every_bucket_after_a_gap_of_a_whole_window() -> None:
    # 11 errors at T+0.5 s .. T+3 s (bucket 0) open a burst with peak 11. The next error, at
    # T+300.4 s, is in bucket 30, whose window (buckets 1..30) holds it alone; the burst is
    # still open then (it ends 5 min after the oldest of its last 11 errors, T+0.5 s).
    events = [error_event("a", "m", ts=T + S // 2 + i * S // 4) for i in range(11)]
    events.append(error_event("a", "m", ts=T + 300 * S + 4 * S // 10))
    state = JournalState()
    for e in events:
        state.apply(e)
    inc = state.snapshot(at=T + 300 * S + 4 * S // 10).incidents
    assert [(i.start, i.opens, i.errors, i.end) for i in inc.items] == [(T + 3 * S, 11, 12, None)]
