"""Projection snapshots: a state rebuilt from one folds on exactly; replay from one equals a full replay."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

import journal.cli.main as cli
from journal.events import Event, error_event
from journal.history.replay import replay, replay_snapshot
from journal.history.snapshots import (
    NO_SNAPSHOTS,
    SnapshotPolicy,
    Snapshots,
    decode_state,
    encode_state,
)
from journal.projections import state as projections
from journal.projections.state import JournalState
from journal.store.event_store import EventStore
from journal.store.schema import snapshots as snapshots_table
from tests.test_replay import T0, S, error_storms, event_sequences, live, norm

# a snapshot every few events: the small journals below get several
OFTEN = SnapshotPolicy(write=True, every_events=4, min_events=2, every_us=60 * S)


def journals() -> st.SearchStrategy[list[Event]]:
    """Mixed kinds in ts order, or errors with late (out-of-order) times over many types."""
    return st.one_of(event_sequences(), error_storms())


def fold(events: list[Event], state: JournalState) -> JournalState:
    for e in events:
        state.apply(e)
    return state


# ------------------------------------------------------------ pure: to_state / from_state


@settings(max_examples=200, deadline=None)
@given(journals(), st.integers(0, 200), st.integers(1, 4), st.integers(0, 20 * 60 * S))
def test_a_state_rebuilt_from_its_snapshot_folds_on_identically(
    events: list[Event], cut: int, cap: int, after: int
) -> None:
    def fresh() -> JournalState:
        return JournalState(max_live_types=cap, max_burst_types=cap, max_distinct_types=cap + 2)

    k = min(cut, len(events))
    original = fold(events[:k], fresh())
    rebuilt = decode_state(encode_state(original))  # through JSON and zlib, as stored
    assert rebuilt.to_state() == original.to_state()
    fold(events[k:], original)
    fold(events[k:], rebuilt)
    # every field, bounded containers and their eviction order included
    assert rebuilt.to_state() == original.to_state()
    at = max((e.ts for e in events), default=T0) + after
    assert norm(rebuilt.snapshot(at)) == norm(original.snapshot(at))
    assert rebuilt.sizes() == original.sizes()


def test_a_state_of_another_projection_version_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = encode_state(fold([error_event("t", "m", ts=T0)], JournalState()))
    key = JournalState().projection_key()
    monkeypatch.setattr(projections, "PROJECTION_VERSION", projections.PROJECTION_VERSION + 1)
    assert JournalState().projection_key() != key
    with pytest.raises(ValueError, match="projection version"):
        decode_state(blob)


def test_the_projection_key_names_the_bounds() -> None:
    assert JournalState().projection_key() == JournalState().projection_key()
    assert JournalState(max_live_types=5).projection_key() != JournalState().projection_key()
    assert JournalState(max_burst_types=5).projection_key() != JournalState().projection_key()


# ------------------------------------------------------------ from the database


@pytest.fixture
def store(migrated_url: str) -> Iterator[EventStore]:
    s = EventStore(migrated_url)
    yield s
    s.close()


def _reset(store: EventStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM snapshots"))
        conn.execute(text("DELETE FROM events"))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=journals(), cuts=st.lists(st.integers(0, 200), min_size=1, max_size=4))
def test_replay_from_a_snapshot_equals_a_full_replay(
    store: EventStore, events: list[Event], cuts: list[int]
) -> None:
    _reset(store)
    store.append(events)
    # a replay cut in the middle writes snapshots up to where an event was filtered out...
    mid = events[len(events) // 2].ts if events else T0
    replay(store, until=mid, snapshots=OFTEN)
    # ...and a full one writes them all along
    assert norm(replay(store, snapshots=OFTEN).snapshot()) == norm(live(events).snapshot())
    written = Snapshots(store).infos()
    assert len(written) >= len(events) // 4 - 1
    for cut in cuts:
        at = events[min(cut, len(events) - 1)].ts + cut % 3 if events else T0
        full = replay_snapshot(store, at, snapshots=NO_SNAPSHOTS)
        assert norm(replay_snapshot(store, at)) == norm(full)
        assert norm(full) == norm(live([e for e in events if e.ts <= at]).snapshot(at))
        until = replay(store, until=at).snapshot(at)
        assert norm(until) == norm(replay(store, until=at, snapshots=NO_SNAPSHOTS).snapshot(at))


def _store_with(store: EventStore, events: list[Event]) -> list[Event]:
    store.append(events)
    return list(store.read())


def test_a_replay_cut_before_a_late_event_writes_snapshots_only_of_whole_prefixes(
    store: EventStore,
) -> None:
    # ids 1..6; id 3 is stamped after the cut, so a replay until the cut skips it
    ts = [T0, T0 + S, T0 + 100 * S, T0 + 2 * S, T0 + 3 * S, T0 + 4 * S]
    _store_with(store, [error_event(f"t{i}", "m", ts=t) for i, t in enumerate(ts)])
    every = SnapshotPolicy(write=True, every_events=1, min_events=1)
    replay(store, until=T0 + 50 * S, snapshots=every)
    rows = Snapshots(store).infos()
    assert [r.last_event_id for r in rows] == [1, 2]
    assert [r.at_ts for r in rows] == [T0, T0 + S]
    replay(store, snapshots=every)  # the full replay starts from id 2 and writes the rest
    rows = Snapshots(store).infos()
    assert [r.last_event_id for r in rows] == [1, 2, 3, 4, 5, 6]
    # at_ts is the newest ts folded, not the last event's: id 4's snapshot holds id 3
    assert [r.at_ts for r in rows][2:] == [T0 + 100 * S] * 4
    # so as of T0 + 50 s only the snapshot at id 2 may serve, and the answer is exact
    at = T0 + 50 * S
    assert norm(replay_snapshot(store, at)) == norm(
        replay_snapshot(store, at, snapshots=NO_SNAPSHOTS)
    )
    assert replay_snapshot(store, at).errors.total == 5


def _tamper(store: EventStore, last_event_id: int, **values: object) -> None:
    t = snapshots_table
    with store.engine.begin() as conn:
        conn.execute(update(t).where(t.c.last_event_id == last_event_id).values(**values))


def _bogus_state(store: EventStore, n: int) -> bytes:
    """A snapshot blob that claims the right position but holds made-up counts."""
    state = replay(store, until=list(store.read())[n - 1].ts + 1, snapshots=NO_SNAPSHOTS)
    state.total = 999_999
    return encode_state(state)


def test_a_snapshot_of_another_projection_version_is_ignored(store: EventStore) -> None:
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(10)])
    replay(store, snapshots=SnapshotPolicy(write=True, every_events=5, min_events=5))
    assert [r.last_event_id for r in Snapshots(store).infos()] == [5, 10]
    _tamper(store, 10, state=_bogus_state(store, 10))
    # with the current key the doctored state is trusted (so the check below can fail)...
    assert replay(store).total == 999_999
    # ...under another projection version it is never loaded
    _tamper(store, 10, projection_version="p0-000000000000")
    assert replay(store).total == 10
    assert replay_snapshot(store, T0 + 20 * S).errors.total == 10


def test_snapshots_of_an_older_projection_code_are_rebuilt_under_the_new_version(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(10)])
    policy = SnapshotPolicy(write=True, every_events=5, min_events=5)
    replay(store, snapshots=policy)
    old_key = JournalState().projection_key()
    monkeypatch.setattr(projections, "PROJECTION_VERSION", projections.PROJECTION_VERSION + 1)
    new_key = JournalState().projection_key()
    assert replay(store, snapshots=policy).total == 10
    keys = [(r.projection_version, r.last_event_id) for r in Snapshots(store).infos()]
    assert keys == [(old_key, 5), (new_key, 5), (old_key, 10), (new_key, 10)]
    assert Snapshots(store).prune() == 2
    assert {r.projection_version for r in Snapshots(store).infos()} == {new_key}


def test_a_corrupt_snapshot_is_ignored_with_a_warning(
    store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(10)])
    replay(store, snapshots=SnapshotPolicy(write=True, every_events=5, min_events=5))
    _tamper(store, 5, state=_bogus_state(store, 5))  # the older one is marked: if used, seen
    _tamper(store, 10, state=b"not zlib at all")
    with caplog.at_level(logging.WARNING, logger="journal.snapshots"):
        assert replay(store).total == 999_999 + 5  # fell back to the next older snapshot
    assert any("snapshot" in r.message and "unreadable" in r.message for r in caplog.records)
    import zlib

    _tamper(store, 5, state=zlib.compress(b'{"version": 1, "bounds": '))  # truncated JSON
    assert replay(store).total == 10  # none usable: folded from the start


def test_a_snapshot_of_a_rewritten_journal_is_ignored(store: EventStore) -> None:
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(10)])
    replay(store, snapshots=SnapshotPolicy(write=True, every_events=10, min_events=10))
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE id > 5"))
    # other events now hold the ids the snapshot folded (SQLite reuses them, PG may not)
    again = _store_with(store, [error_event("u", "m", ts=T0 + i * S) for i in range(20, 25)])
    assert len(again) == 10
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE snapshots SET last_event_id = :m"), {"m": again[-1].id})
    assert replay(store).total == 10
    assert dict(replay(store).snapshot().errors.by_type) == {"t": 5, "u": 5}


# ------------------------------------------------------------ the command


def test_journal_snapshot_writes_lists_and_prunes(
    store: EventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    url = store.url
    assert cli.main(["snapshot", "--db", url]) == 0
    assert "the journal is empty" in capsys.readouterr().out
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(7)])
    assert cli.main(["snapshot", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "at event 7 " in out and "7 events" in out and "folded 7 new event(s)" in out
    assert cli.main(["snapshot", "--db", url]) == 0
    assert "up to date" in capsys.readouterr().out
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(7, 9)])
    assert cli.main(["snapshot", "--db", url]) == 0
    assert "folded 2 new event(s)" in capsys.readouterr().out  # from the snapshot at 7
    assert cli.main(["snapshot", "--db", url, "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[2] for line in lines] == ["7", "9"]
    assert cli.main(["snapshot", "--db", url, "--prune-older", "2027-01-15T08:00:08Z"]) == 0
    assert "deleted 1 snapshot(s)" in capsys.readouterr().out
    assert [r.last_event_id for r in Snapshots(store).infos()] == [9]


def test_journal_snapshot_rejects_a_bad_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["snapshot", "--db", f"sqlite:///{tmp_path}/j.db", "--prune-older", "soon"]) == 2
    )
    assert "--prune-older" in capsys.readouterr().err


def test_ranges_of_a_rewritten_journal_are_not_skipped(store: EventStore) -> None:
    _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(10)])
    replay(store, snapshots=SnapshotPolicy(write=True, every_events=5, min_events=5))
    # the snapshot at id 10 says ids 6..10 hold nothing older than T0 + 5 s...
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE id > 5"))
    # ...until they are rewritten (SQLite reuses the ids) with older events
    _store_with(store, [error_event("u", "m", ts=T0 + S // 2 + i) for i in range(5)])
    at = T0 + 4 * S + S // 2
    got = replay_snapshot(store, at)
    assert norm(got) == norm(replay_snapshot(store, at, snapshots=NO_SNAPSHOTS))
    assert got.errors.total == 10


def test_a_library_replay_writes_nothing_and_a_broken_snapshot_table_hurts_no_replay(
    store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    events = _store_with(store, [error_event("t", "m", ts=T0 + i * S) for i in range(12)])
    replay(store)
    replay_snapshot(store, T0 + 5 * S)
    assert Snapshots(store).infos() == []
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE snapshots"))
    every = SnapshotPolicy(write=True, every_events=3, min_events=3)
    with caplog.at_level(logging.WARNING, logger="journal.snapshots"):
        assert replay(store, snapshots=every).total == 12
        assert replay_snapshot(store, T0 + 5 * S, snapshots=every).errors.total == 6
    assert norm(replay(store).snapshot()) == norm(live(events).snapshot())
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "snapshots not read" in warned and "snapshot not written" in warned
