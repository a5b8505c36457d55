"""The closed-incident log: packed in a snapshot, read lazily, bounded like a deque."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from journal.projections.incidents import ClosedLog, Incident


def incident(k: int) -> Incident:
    tally = None if k % 3 == 0 else (k, k % 7)
    kind = "burst" if k % 2 else "breaker"
    return Incident(kind, f"key{k % 5}", 10 * k, 10 * k + 5, 5, k % 4, k % 9, tally)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 15), st.integers(0, 15), st.integers(0, 2))
def test_a_log_through_its_state_reads_like_a_bounded_deque(
    maxlen: int, before: int, after: int, reloads: int
) -> None:
    expected: deque[Incident] = deque(maxlen=maxlen)
    log = ClosedLog(maxlen)
    for k in range(before):
        log.append(incident(k))
        expected.append(incident(k))
    for r in range(reloads + 1):
        log = ClosedLog.from_state(log.to_state(), maxlen)  # as a snapshot stores and loads it
        assert log.items() == list(expected) and len(log) == len(expected)
        for k in range(after):  # appended after a load: the oldest packed rows make room
            log.append(incident(100 * (r + 1) + k))
            expected.append(incident(100 * (r + 1) + k))
        assert log.items() == list(expected) and len(log) == len(expected)


def test_the_key_table_keeps_only_what_the_rows_use() -> None:
    log = ClosedLog(2)
    for k in range(200):  # 200 distinct keys pass through a log of two
        log = ClosedLog.from_state(log.to_state(), 2)
        log.append(Incident("breaker", f"name{k}", k, k + 1, 1))
    state = log.to_state()
    assert len(state["keys"]) <= 2 * 2 + 64
    assert [i.key for i in ClosedLog.from_state(state, 2).items()] == ["name198", "name199"]
