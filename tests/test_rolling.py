"""`SecondCounts` after every record, across sweeps of expired pairs, late events and copies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from journal.projections.rolling import SecondCounts

HORIZON = 20  # short, so that pairs expire and sweeps happen within a few dozen records


@settings(max_examples=100, deadline=None)
@given(
    hs.lists(
        hs.tuples(hs.integers(0, 6), hs.integers(0, 26), hs.integers(1, 3)),
        min_size=80,
        max_size=300,
    ),
    hs.sets(hs.integers(0, 299), max_size=2),
)
def test_counts_and_state_match_a_brute_force_count_after_every_record(
    steps: list[tuple[int, int, int]], copy_at: set[int]
) -> None:
    series = SecondCounts(horizon_s=HORIZON)
    kept: list[tuple[int, int]] = []
    newest = 0
    for step, (forward, late, n) in enumerate(steps):  # forward, or an event up to 26 s late
        newest += forward
        if series.record(newest - late, n):
            kept.append((newest - late, n))
        if not kept:
            continue
        top = max(s for s, _ in kept)
        for at in (top, top + 3):
            for w in (1, 5, 12, HORIZON):
                expected = sum(k for s, k in kept if at - w < s <= at)
                assert series.count(at, w) == expected
                assert series.counts(at, (w, 1)) == (expected, series.count(at, 1))
        # the state holds the live seconds and the count before them, whenever swept
        horizon, base, secs, cum = series.to_state()
        live = sorted({s for s, _ in kept if s > top - HORIZON})
        assert (horizon, secs) == (HORIZON, live)
        assert base == sum(k for s, k in kept if s <= top - HORIZON)
        assert cum == [sum(k for s, k in kept if s <= sec) for sec in live]
        assert len(series) == len(live) and series.newest == top
        assert len(series._secs) <= 2 * HORIZON + 16  # expired pairs are swept
        if step in copy_at:  # a copy counts on alike
            series = SecondCounts.from_state(series.to_state())
