"""Errors during an incident and their peak: the fold's tally against the definition.

The definition (`journal.history.incident_report`): for a breaker the errors named after it, for a
burst the errors of its type, with ``start <= ts <= end`` (ongoing: up to the moment asked),
taken in id order, and the most of them within any 60 seconds. The fold's tally, when
`IncidentsSnapshot.tally` gives it, must equal that; ``journal incidents`` (which starts from
snapshots and counts from the events where the tally is not given) must equal a plain full
replay that counts everything from the events.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journal.events import Event, breaker_event, calls_event, error_event, journal_event
from journal.history.incident_report import Kpis, Report, Row, _deltas, _Tally, collect, incident_id
from journal.history.incident_report import outages as read_outages
from journal.history.replay import replay
from journal.history.snapshots import NO_SNAPSHOTS, SnapshotPolicy
from journal.projections.incidents import Incident
from journal.projections.state import JournalState
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade

S = 1_000_000
T0 = 1_800_000_000 * S
NAMES = ("binance_ohlcv", "binance_oi")
TYPES = ("timeout", "refused")
OFTEN = SnapshotPolicy(write=True, every_events=5, min_events=2, every_us=60 * S)


@st.composite
def journals(draw: st.DrawFn) -> list[Event]:
    """Dense errors (bursts), breakers opening and closing, calls, store outages; some events
    share a time, some come late."""
    n = draw(st.integers(0, 120))
    ts = T0
    out: list[Event] = []
    for _ in range(n):
        ts += draw(st.sampled_from([0, 1, S, 3 * S, 7 * S, 20 * S, 70 * S, 6 * 60 * S]))
        late = draw(st.sampled_from([0] * 12 + [1, 30 * S, 5 * 60 * S]))
        t = ts - late
        k = draw(st.sampled_from(["error"] * 6 + ["breaker", "breaker", "calls", "outage"]))
        name = draw(st.sampled_from(NAMES))
        if k == "error":
            out.append(error_event(draw(st.sampled_from(TYPES)), "m", name=name, ts=t))
        elif k == "breaker":
            to = draw(st.sampled_from(["OPEN", "OPEN", "HALF_OPEN", "CLOSED", "CLOSED"]))
            out.append(breaker_event(name, "CLOSED", to, ts=t))
        elif k == "calls":
            out.append(
                calls_event(name, successes=draw(st.integers(0, 9)), failures=1, rejected=0, ts=t)
            )
        else:
            what = draw(st.sampled_from(["store_unavailable", "store_recovered"]))
            out.append(journal_event(what, "x", context={"outage_seconds": 1}, ts=t))
    return out


def definition(events: list[Event], i: Incident, until: int) -> tuple[int, int]:
    """(errors, peak per 60 s) of an incident, by the definition, from the events in order."""
    end = until if i.end is None else i.end
    tally = _Tally(i.start, end)
    for e in events:
        if e.kind != "error" or not i.start <= e.ts <= end:
            continue
        if (e.name if i.kind == "breaker" else e.error_type or e.name) == i.key:
            tally.add(e.ts)
    return tally.errors, tally.peak


@settings(max_examples=200, deadline=None)
@given(journals(), st.integers(0, 30 * 60 * S))
def test_the_folds_tally_when_given_equals_the_definition(events: list[Event], after: int) -> None:
    until = max((e.ts for e in events), default=T0) + after
    state = JournalState()
    for e in events:
        state.apply(e)
    incidents = state.snapshot(until).incidents
    for i in incidents.items:
        tally = incidents.tally(i, until)
        if tally is not None:
            assert tally == definition(events, i, until), i


def test_the_tally_is_given_for_an_orderly_journal() -> None:
    # breaker open +10 s .. +100 s with 3 errors of its name in it, one of another name;
    # then 11 "refused" errors at +200 .. +210 s tip a burst at +210 s, one more at +215 s
    events = [
        error_event("timeout", "m", name="binance_ohlcv", ts=T0),
        breaker_event("binance_ohlcv", "CLOSED", "OPEN", ts=T0 + 10 * S),
        *(error_event("timeout", "m", name="binance_ohlcv", ts=T0 + k * S) for k in (20, 30, 95)),
        error_event("timeout", "m", name="binance_oi", ts=T0 + 40 * S),
        breaker_event("binance_ohlcv", "HALF_OPEN", "CLOSED", ts=T0 + 100 * S),
        *(error_event("refused", "m", name="binance_oi", ts=T0 + k * S) for k in range(200, 211)),
        error_event("refused", "m", name="binance_oi", ts=T0 + 215 * S),
    ]
    state = JournalState()
    for e in events:
        state.apply(e)
    until = T0 + 600 * S
    incidents = state.snapshot(until).incidents
    breaker, burst = incidents.items
    assert incidents.tally(breaker, until) == (3, 2)  # +20, +30 within 60 s
    assert (burst.kind, burst.start, burst.end) == ("burst", T0 + 210 * S, T0 + 501 * S)
    assert incidents.tally(burst, until) == (2, 2)  # +210 and +215 s
    assert definition(events, burst, until) == (2, 2)


def test_an_error_of_the_span_folded_after_the_close_withdraws_the_tally() -> None:
    events = [
        breaker_event("binance_ohlcv", "CLOSED", "OPEN", ts=T0 + 10 * S),
        error_event("timeout", "m", name="binance_ohlcv", ts=T0 + 20 * S),
        breaker_event("binance_ohlcv", "HALF_OPEN", "CLOSED", ts=T0 + 100 * S),
        error_event("timeout", "m", name="binance_ohlcv", ts=T0 + 50 * S),  # late
    ]
    state = JournalState()
    for e in events:
        state.apply(e)
    incidents = state.snapshot(T0 + 200 * S).incidents
    (breaker,) = incidents.items
    assert breaker.tally == (1, 1)  # what was folded while open
    assert incidents.tally(breaker, T0 + 200 * S) is None  # but the span holds two errors
    assert definition(events, breaker, T0 + 200 * S) == (2, 2)


def reference(store: EventStore, since: int | None, until: int) -> Report:
    """`collect` as a plain full replay, every count read from the events."""
    span = store.span()
    lo = since if since is not None else (span[0] if span else until)
    snap = replay(store, until=until + 1, snapshots=NO_SNAPSHOTS).snapshot(until)
    before = (
        replay(store, until=since, snapshots=NO_SNAPSHOTS).snapshot(since).breakers
        if since is not None
        else {}
    )
    everything = list(store.read(until=until + 1))
    errors = [e for e in everything if e.kind == "error"]
    found = [(i.kind, i.key, i.start, i.end, i.opens if i.kind == "breaker" else 0)
             for i in snap.incidents.items]  # fmt: skip
    found += [("outage", s, a, b, 0) for s, a, b in read_outages(store, until)]
    rows = []
    for kind, key, start, end, opens in sorted(found, key=lambda f: (f[2], f[0], f[1])):
        if start > until or (end is not None and end < lo):
            continue
        stop = until if end is None else end
        tally = _Tally(start, stop)
        for e in errors:
            match = {"breaker": e.name, "burst": e.error_type or e.name}.get(kind, key) == key
            if match and start <= e.ts <= stop:
                tally.add(e.ts)
        rows.append(Row(incident_id(kind, key, start), kind, key, start, end,
                        (stop - start) / 1e6, tally.errors, tally.peak, opens))  # fmt: skip
    in_range = [e for e in errors if lo <= e.ts <= until]
    calls, ok, opened = _deltas(before, snap.breakers)
    done = [(f[3] - f[2]) / 1e6 for f in found if f[3] is not None and lo <= f[3] <= until]
    kpis = Kpis(max(0, until - lo) / 60e6, len(in_range),
                len({e.error_type or e.name for e in in_range}), calls, ok, opened,
                sum(done) / len(done) if done else None)  # fmt: skip
    return Report(lo, until, tuple(rows), kpis)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(journals(), st.integers(0, 100), st.integers(0, 100), st.booleans())
def test_incidents_from_snapshots_equal_a_full_replay(
    tmp_path: Path, events: list[Event], a: int, b: int, bounded: bool
) -> None:
    url = f"sqlite:///{tmp_path}/j{len(list(tmp_path.iterdir()))}.db"
    upgrade(url)
    with EventStore(url) as store:
        store.append(events)
        replay(store, snapshots=OFTEN)  # snapshots every few events along the journal
        times = sorted(e.ts for e in events) or [T0]
        lo, hi = sorted((times[a * (len(times) - 1) // 100], times[b * (len(times) - 1) // 100]))
        since = lo if bounded else None
        assert collect(store, since, hi) == reference(store, since, hi)
        assert collect(store, since, hi + 3 * 60 * S) == reference(store, since, hi + 3 * 60 * S)
