"""A burst's peak (its most errors in one window of 10 s buckets) across a whole window's gap."""

from __future__ import annotations

from journal.events import error_event
from journal.projections.state import JournalState

S = 1_000_000
T = 1_800_000_000 * S  # a multiple of 10 s: buckets are [T, T+10 s), [T+10 s, T+20 s), ...


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
