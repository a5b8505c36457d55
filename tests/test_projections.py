"""The pure folds, with expectations computed by hand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from journal.events import alert_event, breaker_event, calls_event, error_event, journal_event
from journal.projections.rolling import SecondCounts
from journal.projections.state import MINUTE_US, JournalState

M = MINUTE_US
S = 1_000_000
T = 1_800_000_000 * S  # an arbitrary whole-second epoch


def fold(events):
    st = JournalState()
    for e in events:
        st.apply(e)
    return st


def test_counts_by_type_name_severity_and_diversity() -> None:
    st = fold(
        [
            error_event("api_error", "a", name="ohlcv", ts=T),
            error_event("api_error", "b", name="oi", ts=T + S),
            error_event("db_error", "c", severity="CRITICAL", ts=T + 2 * S),
            error_event("api_error", "d", name="ohlcv", severity="WARNING", ts=T + 3 * S),
        ]
    )
    snap = st.snapshot()
    assert snap.errors.total == 4
    assert dict(snap.errors.by_type) == {"api_error": 3, "db_error": 1}
    assert dict(snap.errors.by_name) == {"ohlcv": 2, "oi": 1, "db_error": 1}
    assert dict(snap.errors.by_severity) == {"ERROR": 2, "CRITICAL": 1, "WARNING": 1}
    assert snap.errors.diversity == 2
    assert snap.at == T + 3 * S


def test_tracker_cleared_restarts_counts_but_not_breakers() -> None:
    st = fold(
        [
            error_event("api_error", "a", ts=T),
            breaker_event("b", "CLOSED", "OPEN", ts=T + S),
            journal_event("tracker_cleared", ts=T + 2 * S),
            error_event("db_error", "x", ts=T + 3 * S),
        ]
    )
    snap = st.snapshot()
    assert snap.errors.total == 1 and dict(snap.errors.by_type) == {"db_error": 1}
    assert [e.error_type for e in snap.recent_errors] == ["db_error"]
    assert snap.errors.cleared_at == T + 2 * S
    assert snap.breakers["b"].state == "OPEN"


def test_rates_over_trailing_windows_at_edges() -> None:
    # errors at T, T+30s, T+90s, T+4min, T+10min
    times = [T, T + 30 * S, T + 90 * S, T + 4 * M, T + 10 * M]
    st = fold([error_event("e", "m", ts=t) for t in times])
    # at T+10min: 1-min window (T+9m, T+10m] holds 1; 5-min (T+5m, T+10m] holds 1;
    # 15-min (T-5m, T+10m] holds 5
    r = st.rates(T + 10 * M)
    assert r.total == {1: 1.0, 5: 1 / 5, 15: 5 / 15}
    # at T+4min: (T+3m, T+4m] -> 1; (T-1m, T+4m] -> 4
    r = st.rates(T + 4 * M)
    assert r.total[1] == 1.0 and r.total[5] == 4 / 5
    # the window is open on the left: at exactly T+1min, the error at T is out of the 1-min window
    assert st.rates(T + M).total[1] == 1.0  # only T+30s
    # (T+30s, T+90s]: the error at T+30s, exactly one minute earlier, has just left
    assert st.rates(T + 90 * S).total[1] == 1.0
    assert st.rates(T + 90 * S - 1).total[1] == 1.0  # holds T+30s, not yet T+90s
    assert st.rates(T + 4 * M).total[15] == 4 / 15
    assert st.rates(T + 10 * M).by_type["e"][15] == 5 / 15


def test_rate_since_first_seen_matches_the_dashboard_form() -> None:
    # 25 errors over 10 minutes -> 2.50/min; a type seen for under a minute divides by 1
    events = [error_event("api_ohlcv_error", "m", ts=T + i * 24 * S) for i in range(25)]
    events.append(error_event("api_oi_error", "m", ts=T + 9 * M + 30 * S))
    st = fold(events)
    snap = st.snapshot(at=T + 10 * M)
    assert snap.errors.rate_since_first["api_ohlcv_error"] == 2.5
    assert snap.errors.rate_since_first["api_oi_error"] == 1.0


def test_recent_errors_ring_keeps_the_last_1000() -> None:
    st = fold([error_event("e", str(i), ts=T + i) for i in range(1205)])
    recent = st.snapshot().recent_errors
    assert len(recent) == 1000
    assert recent[0].message == "205" and recent[-1].message == "1204"


def test_alert_counts_by_rule_and_key() -> None:
    st = fold(
        [
            alert_event("error_count", "api_error", "x", ts=T),
            alert_event("error_count", "db_error", "x", ts=T + 1),
            alert_event("breaker_opened", "binance_oi", "x", ts=T + 2),
        ]
    )
    a = st.snapshot().alerts
    assert a.total == 3
    assert dict(a.by_rule) == {"error_count": 2, "breaker_opened": 1}
    assert dict(a.by_key) == {"api_error": 1, "db_error": 1, "binance_oi": 1}
    assert [e.name for e in a.recent] == ["api_error", "db_error", "binance_oi"]


def test_breaker_board_from_transitions_and_tallies() -> None:
    st = fold(
        [
            calls_event("ohlcv", successes=95, failures=3, rejected=0, ts=T),
            calls_event("ohlcv", successes=0, failures=2, rejected=0, ts=T + S),
            breaker_event("ohlcv", "CLOSED", "OPEN", ts=T + S),
            calls_event("ohlcv", successes=0, failures=0, rejected=15, ts=T + 60 * S),
            breaker_event("ohlcv", "OPEN", "HALF_OPEN", ts=T + 60 * S),
            calls_event("oi", successes=10, failures=0, rejected=0, ts=T + 61 * S),
        ]
    )
    board = st.snapshot().breakers
    b = board["ohlcv"]
    assert (b.state, b.since, b.calls, b.successes, b.failures, b.rejected, b.opens) == (
        "HALF_OPEN",
        T + 60 * S,
        100,
        95,
        5,
        15,
        1,
    )
    assert b.success_rate == 95.0
    assert b.last_failure == T + S
    assert board["oi"].state == "CLOSED" and board["oi"].success_rate == 100.0
    assert list(board) == ["ohlcv", "oi"]


def test_breaker_incident_spans_flapping_until_closed() -> None:
    st = fold(
        [
            breaker_event("b", "CLOSED", "OPEN", ts=T),
            breaker_event("b", "OPEN", "HALF_OPEN", ts=T + 60 * S),
            breaker_event("b", "HALF_OPEN", "OPEN", ts=T + 61 * S),
            breaker_event("b", "OPEN", "HALF_OPEN", ts=T + 121 * S),
            breaker_event("b", "HALF_OPEN", "CLOSED", ts=T + 3 * M),
            breaker_event("b", "CLOSED", "OPEN", ts=T + 10 * M),
        ]
    )
    inc = st.snapshot(at=T + 11 * M).incidents
    assert [(i.kind, i.key, i.start, i.end, i.opens) for i in inc.items] == [
        ("breaker", "b", T, T + 3 * M, 2),
        ("breaker", "b", T + 10 * M, None, 1),
    ]
    assert inc.items[1].duration_us == M  # ongoing: up to `at`
    assert inc.resolved == 1 and inc.mttr_s == 180.0
    assert [i.key for i in inc.ongoing] == ["b"]


def test_error_burst_opens_above_threshold_and_ends_when_the_window_drains() -> None:
    # 11 errors one second apart: the 11th (T+10s) makes 11 > 10 in 5 min -> burst starts at T+10s.
    events = [error_event("api_error", "m", ts=T + i * S) for i in range(11)]
    st = fold(events)
    inc = st.snapshot(at=T + 20 * S).incidents
    assert [(i.kind, i.key, i.start, i.end) for i in inc.items] == [
        ("burst", "api_error", T + 10 * S, None)
    ]
    # The count falls back to 10 when the error at T leaves the window: at T + 5 min.
    later = st.snapshot(at=T + 5 * M + 30 * S).incidents
    assert [(i.start, i.end) for i in later.items] == [(T + 10 * S, T + 5 * M)]
    assert later.mttr_s == (5 * M - 10 * S) / S
    # Folding an unrelated later event closes it in the fold itself, at the same exact time.
    st.apply(error_event("other", "m", ts=T + 6 * M))
    closed = st.snapshot().incidents
    assert [(i.key, i.start, i.end) for i in closed.items] == [("api_error", T + 10 * S, T + 5 * M)]
    assert closed.resolved == 1


def test_ten_errors_in_five_minutes_is_not_a_burst() -> None:
    st = fold([error_event("api_error", "m", ts=T + i * S) for i in range(10)])
    assert st.snapshot().incidents.items == ()


def test_health_levels_and_reasons() -> None:
    ok = fold([calls_event("b", successes=100, failures=0, rejected=0, ts=T)]).snapshot()
    assert (ok.health.level, ok.health.reasons) == ("OK", ())

    warn = fold(
        [
            calls_event("a", successes=10, failures=0, rejected=0, ts=T),
            calls_event("b", successes=10, failures=0, rejected=0, ts=T),
            breaker_event("b", "CLOSED", "OPEN", ts=T + S),
        ]
    ).snapshot()
    assert warn.health.level == "WARNING"
    assert warn.health.label == "WARNING - Moderate errors"
    assert "1 circuit breaker(s) OPEN" in warn.health.reasons

    # 6 errors within a minute: 1-min rate 6/min > 5/min -> CRITICAL
    crit = fold([error_event("e", "m", ts=T + i * S) for i in range(6)]).snapshot()
    assert crit.health.level == "CRITICAL"
    assert any("error rate 6.0/min" in r for r in crit.health.reasons)

    # a CRITICAL error counts for 5 minutes
    st = fold([error_event("e", "m", severity="CRITICAL", ts=T)])
    assert st.snapshot(at=T + 4 * M).health.level == "CRITICAL"
    assert st.snapshot(at=T + 5 * M).health.level == "OK"

    # 5 errors over 5 minutes: 5-min rate 1/min -> WARNING (KPI target < 1/min)
    slow = fold([error_event("e", "m", ts=T + i * M) for i in range(5)]).snapshot(
        at=T + 4 * M + 30 * S
    )
    assert slow.health.level == "WARNING"

    low = fold([calls_event("c", successes=95, failures=5, rejected=0, ts=T)]).snapshot()
    assert low.health.reasons == ("c success rate 95.00% (target > 99%)",)


def test_bursts_that_reopen_keep_one_schedule_entry_each() -> None:
    # Two bursts of the same type, an hour apart: each opens, drains and closes exactly once.
    events = [error_event("e", "m", ts=T + i * S) for i in range(11)]
    events += [error_event("e", "m", ts=T + 60 * M + i * S) for i in range(11)]
    events.append(error_event("x", "m", ts=T + 2 * 60 * M))
    st = fold(events)
    inc = st.snapshot().incidents
    assert [(i.start, i.end) for i in inc.items] == [
        (T + 10 * S, T + 5 * M),
        (T + 60 * M + 10 * S, T + 65 * M),
    ]
    assert len(st.incidents._due) <= len(st.incidents.open_bursts) + 1


def test_the_journal_life_is_folded_too() -> None:
    st = fold(
        [
            journal_event("store_unavailable", "refused", ts=T),
            journal_event("store_recovered", context={"outage_seconds": 12.5}, ts=T + 13 * S),
            journal_event("alert_sink_error", "down", ts=T + 14 * S),
            journal_event("store_unavailable", "reset", ts=T + 20 * S),
        ]
    )
    life = st.snapshot().journal
    assert life.outages == 2 and life.outage_ongoing and life.last_outage_start == T + 20 * S
    assert life.counts["alert_sink_error"] == 1
    st.apply(journal_event("store_recovered", context={"outage_seconds": 3.0}, ts=T + 23 * S))
    life = st.snapshot().journal
    assert (life.outage_ongoing, life.last_outage_seconds) == (False, 3.0)


# ------------------------------------------------------------ bounded live state


def test_rates_count_whole_seconds_and_decay_when_read_later() -> None:
    # second T/S holds two errors (one mid-second), T/S + 30 one
    st = fold([error_event("e", "m", ts=t) for t in (T, T + S // 2, T + 30 * S)])
    # read mid-second: the window ends with that whole second
    assert st.rates(T + S // 4).total[1] == 2.0  # both errors of second T/S
    assert st.rates(T + 59 * S).total[1] == 3.0
    # (T/S, T/S + 60]: the first second has left the 1-minute window
    assert st.rates(T + 60 * S).total[1] == 1.0
    # no new error: the windows decay by time alone, read later
    assert st.rates(T + 90 * S).total == {1: 0.0, 5: 3 / 5, 15: 3 / 15}
    assert st.rates(T + 16 * M).total == {1: 0.0, 5: 0.0, 15: 0.0}
    assert st.rates(T + 16 * M).by_type == {}


def test_late_events_land_in_their_own_second() -> None:
    st = fold(
        [
            error_event("e", "m", ts=T + 100 * S),
            error_event("e", "m", ts=T + 50 * S),  # late, within the horizon
            error_event("e", "m", ts=T + 100 * S - 16 * M),  # later than the 15-minute horizon
        ]
    )
    r = st.rates(T + 100 * S)
    assert r.total == {1: 2.0, 5: 2 / 5, 15: 2 / 15}  # T+50 s is in (T+40 s, T+100 s]
    assert st.rates(T + 60 * S).total[1] == 1.0  # a read in the past sees the late one
    assert st.snapshot().errors.total == 3  # counted, though too old for any window


def test_live_types_are_capped_and_the_least_recently_seen_is_evicted() -> None:
    st = JournalState(max_live_types=3)
    for i, etype in enumerate(["a", "b", "c", "a", "d", "d", "b"]):
        st.apply(error_event(etype, "m", ts=T + i * S))
    # "d" evicts "b" (least recently seen); "b" coming back evicts "c" and starts from 0
    e = st.snapshot().errors
    assert e.total == 7
    assert dict(e.by_type) == {"a": 2, "d": 2, "b": 1}
    assert list(e.by_type) == ["a", "d", "b"]  # most first, then by name
    assert (e.untracked, e.evicted_types) == (2, 2)
    assert sum(e.by_type.values()) + e.untracked == e.total
    assert e.first_seen["b"] == T + 6 * S  # since it was admitted again
    assert (e.diversity, e.diversity_exact) == (4, True)
    assert len(e.by_name) == 3
    assert set(st.snapshot().rates.by_type) == {"a", "d", "b"}


def test_diversity_is_exact_up_to_its_bound_then_a_flagged_lower_bound() -> None:
    st = JournalState(max_live_types=2, max_distinct_types=3)
    for i, etype in enumerate(["a", "b", "c", "a", "b", "c"]):
        st.apply(error_event(etype, "m", ts=T + i * S))
    assert (st.snapshot().errors.diversity, st.snapshot().errors.diversity_exact) == (3, True)
    st.apply(error_event("d", "m", ts=T + 10 * S))
    assert (st.snapshot().errors.diversity, st.snapshot().errors.diversity_exact) == (3, False)
    st.apply(journal_event("tracker_cleared", ts=T + 11 * S))
    assert (st.snapshot().errors.diversity, st.snapshot().errors.diversity_exact) == (0, True)


def test_a_critical_error_is_not_pushed_out_by_a_storm_of_lesser_ones() -> None:
    events = [error_event("db_error", "m", severity="CRITICAL", ts=T)]
    events += [error_event("e", "m", ts=T + 1 + i) for i in range(5000)]
    snap = fold(events).snapshot(at=T + M)
    assert len(snap.recent_errors) == 1000 and "CRITICAL" not in {
        e.severity for e in snap.recent_errors
    }
    assert "1 CRITICAL error(s) in the last 5 min" in snap.health.reasons


def test_live_state_stays_bounded_over_many_types_and_forgets_idle_bursts() -> None:
    st = JournalState(max_live_types=50, max_burst_types=200)
    n_types = 1000
    # each type bursts (12 errors in 12 s), one type after another, for over an hour
    for k in range(n_types):
        base = T + k * 5 * S
        for i in range(12):
            st.apply(error_event(f"t{k}", "m", ts=base + i * S // 3))
        sizes = st.sizes()
        assert sizes["types"] <= 50 and sizes["names"] <= 50
        assert sizes["type_seconds_max"] <= 900 and sizes["seconds"] <= 900
        assert sizes["burst_types"] <= 200 and sizes["burst_schedule"] <= 201
    snap = st.snapshot()
    assert snap.errors.total == 12 * n_types and snap.errors.diversity == n_types
    assert len([i for i in snap.incidents.items if i.kind == "burst"]) == n_types
    # an hour of silence later, one event: every idle burst state is forgotten
    st.apply(calls_event("b", successes=1, failures=0, rejected=0, ts=T + 2 * 60 * M))
    sizes = st.sizes()
    assert (sizes["burst_types"], sizes["open_bursts"], sizes["burst_schedule"]) == (0, 0, 0)
    assert st.snapshot().incidents.ongoing == ()


def test_burst_tracking_cap_does_not_drop_an_open_burst() -> None:
    st = JournalState(max_burst_types=2)
    events = [error_event("a", "m", ts=T + i * S) for i in range(11)]  # "a" bursts
    events += [error_event("b", "m", ts=T + 20 * S)]
    events += [error_event("c", "m", ts=T + 21 * S)]  # no room: "a" (front) is in a burst
    for e in events:
        st.apply(e)
    assert set(st.incidents.tracks) == {"a", "b"} and st.incidents.untracked_errors == 1
    st.apply(error_event("d", "m", ts=T + 22 * S))  # still no room
    assert st.incidents.untracked_errors == 2
    # once "a"'s burst has drained (T + 5 min), "a" and "b" are idle and forgotten
    st.apply(error_event("e", "m", ts=T + 20 * S + 5 * M + 1))
    assert set(st.incidents.tracks) == {"e"}
    inc = st.snapshot().incidents
    assert [(i.key, i.start, i.end, i.opens, i.errors) for i in inc.items] == [
        ("a", T + 10 * S, T + 5 * M, 11, 11)
    ]


def test_burst_peak_counts_ten_second_buckets_in_the_window() -> None:
    # 11 errors at T..T+10 s open the burst; 9 more within second T+20 s: peak 20 in 5 min
    # (T is a multiple of 10 s, so the buckets are [T, T+10 s), [T+10 s, T+20 s), ...)
    events = [error_event("a", "m", ts=T + i * S) for i in range(11)]
    events += [error_event("a", "m", ts=T + 20 * S + i) for i in range(9)]
    inc = fold(events).snapshot(at=T + 30 * S).incidents
    assert [(i.start, i.opens, i.errors, i.end) for i in inc.items] == [(T + 10 * S, 20, 20, None)]


def test_burst_peak_forgets_buckets_that_left_the_window() -> None:
    # 11 errors in the bucket [T, T+10 s) open a burst; then 10 in each 10 s bucket from
    # T+4 min to T+5 min 30 s (9 buckets). At bucket T+4 min 50 s the window still holds the
    # first bucket: 11 + 60 = 71; from T+5 min on it does not: at T+5 min 20 s, 9 x 10 = 90.
    events = [error_event("a", "m", ts=T + i * S // 2) for i in range(11)]
    events += [
        error_event("a", "m", ts=T + 4 * M + b * 10 * S + i) for b in range(9) for i in range(10)
    ]
    inc = fold(events).snapshot(at=T + 6 * M).incidents
    assert [(i.opens, i.errors) for i in inc.items] == [(90, 101)]


@settings(max_examples=200, deadline=None)
@given(
    hs.lists(
        hs.tuples(hs.integers(0, 400), hs.integers(0, 150), hs.integers(1, 3)),
        max_size=300,
    ),
    hs.integers(0, 200),
)
def test_second_counts_match_a_brute_force_count(
    steps: list[tuple[int, int, int]], after: int
) -> None:
    series = SecondCounts(horizon_s=100)
    kept: list[tuple[int, int]] = []
    newest = 0
    for forward, late, n in steps:  # forward in time, or an event up to 150 s late
        newest += forward
        sec = newest - late
        newest_before = max((s for s, _ in kept), default=None)
        if series.record(sec, n):
            kept.append((sec, n))
        else:  # refused only when too old for any window at or after the newest second
            assert newest_before is not None and sec <= newest_before - 100
    assert len(series) <= 100
    at = newest + after
    for w in (1, 10, 60, 100):
        expected = sum(n for s, n in kept if at - w < s <= at)
        assert series.count(at, w) == expected
        assert series.counts(at, (w,)) == (expected,)
