"""Alert rules and cooldowns on event time, expectations by hand."""

from __future__ import annotations

import pytest

from journal.alerts import AlertConfig, AlertEngine, TypeOverride
from journal.events import Event, alert_event, breaker_event, error_event, journal_event

S = 1_000_000
M = 60 * S
T = 1_800_000_000 * S


def run(engine: AlertEngine, events: list[Event]) -> list[tuple[str, str, int]]:
    out = []
    for e in events:
        out += [(a.error_type or "", a.name, a.ts) for a in engine.apply(e)]
    return out


def errors(etype: str, times: list[int], **kw: object) -> list[Event]:
    return [error_event(etype, "m", ts=t, **kw) for t in times]  # type: ignore[arg-type]


def no_rate() -> AlertConfig:
    return AlertConfig(error_rate_per_min=1000)


def test_error_count_fires_on_the_eleventh_within_five_minutes() -> None:
    times = [T + i * 20 * S for i in range(11)]  # 11 errors over 200 s
    fired = run(AlertEngine(no_rate()), errors("api_error", times))
    assert fired == [("error_count", "api_error", T + 200 * S)]
    assert run(AlertEngine(no_rate()), errors("api_error", times[:10])) == []


def test_error_count_window_slides() -> None:
    # 11 errors 31 s apart span 310 s: when the 11th arrives the 1st (310 s earlier) is out.
    times = [T + i * 31 * S for i in range(11)]
    assert run(AlertEngine(no_rate()), errors("api_error", times)) == []
    # a 12th 1 s later: the window (T+311s-300s, T+311s] holds errors 2..12 minus those <= T+11s
    # -> errors at 31..310 s (10 of them) + 311 s = 11 > 10 -> fires
    assert run(AlertEngine(no_rate()), errors("api_error", [*times, T + 311 * S])) == [
        ("error_count", "api_error", T + 311 * S)
    ]


def test_error_rate_over_five_per_minute() -> None:
    cfg = AlertConfig(error_count_threshold=100)
    times = [T + i * 10 * S for i in range(6)]  # 6 errors within 50 s
    assert run(AlertEngine(cfg), errors("a", times[:5])) == []
    assert run(AlertEngine(cfg), errors("a", times)) == [("error_rate", "*", T + 50 * S)]


def test_breaker_opened_and_critical_error() -> None:
    e = AlertEngine()
    fired = run(
        e,
        [
            breaker_event("binance_oi", "CLOSED", "OPEN", ts=T),
            breaker_event("binance_oi", "OPEN", "HALF_OPEN", ts=T + M),
            error_event("db_error", "disk full", severity="CRITICAL", ts=T + 2 * M),
        ],
    )
    assert fired == [("breaker_opened", "binance_oi", T), ("critical_error", "db_error", T + 2 * M)]


def test_alert_events_carry_severity_and_words() -> None:
    e = AlertEngine()
    [a] = e.apply(error_event("db_error", "disk full", severity="CRITICAL", ts=T, source="c:1"))
    assert (a.kind, a.severity, a.source, a.ts) == ("alert", "CRITICAL", "c:1", T)
    assert a.message == "CRITICAL db_error: disk full"
    eng = AlertEngine(no_rate())
    out = [
        x for ev in errors("api_ohlcv_error", [T + i * S for i in range(11)]) for x in eng.apply(ev)
    ]
    assert [x.message for x in out] == ["api_ohlcv_error: 11 errors in 5 min (threshold 10)"]
    assert out[0].severity == "WARNING" and out[0].context["count"] == 11


def test_cooldown_on_event_time() -> None:
    e = AlertEngine()
    opened = [
        breaker_event("b", "CLOSED", "OPEN", ts=t) for t in (T, T + 4 * M, T + 5 * M, T + 6 * M)
    ]
    assert run(e, opened) == [("breaker_opened", "b", T), ("breaker_opened", "b", T + 5 * M)]
    assert e.suppressed == 2


def test_per_type_overrides() -> None:
    cfg = AlertConfig(
        error_rate_per_min=1000,
        per_type={"noisy": TypeOverride(count_threshold=3, window_s=60, cooldown_s=30)},
    )
    e = AlertEngine(cfg)
    times = [T, T + S, T + 2 * S, T + 3 * S, T + 40 * S, T + 41 * S]
    # the 4th error (4 > 3 in 60 s) fires at +3 s; at +40 s, 5 > 3 and 37 s > the 30 s cooldown:
    # fires again; at +41 s only 1 s has passed: suppressed
    assert run(e, errors("noisy", times)) == [
        ("error_count", "noisy", T + 3 * S),
        ("error_count", "noisy", T + 40 * S),
    ]
    assert e.suppressed == 1
    with pytest.raises(ValueError, match="count_threshold"):
        AlertConfig(per_type={"x": TypeOverride(count_threshold=0)})
    with pytest.raises(ValueError):
        AlertConfig(cooldown_s=-1)


def test_alert_and_journal_events_never_trigger() -> None:
    e = AlertEngine(AlertConfig(error_count_threshold=1, error_rate_per_min=1))
    evs = [alert_event("error_count", "x", "m", severity="CRITICAL", ts=T + i) for i in range(50)]
    evs += [journal_event("alert_sink_error", "sink down", ts=T + 100 + i) for i in range(50)]
    assert run(e, evs) == []


def test_same_events_same_alerts() -> None:
    evs = [
        *errors("a", [T + i * 5 * S for i in range(30)]),
        breaker_event("b", "CLOSED", "OPEN", ts=T + 200 * S),
    ]
    e1, e2 = AlertEngine(), AlertEngine()
    one = [(a.error_type, a.name, a.ts, a.message) for ev in evs for a in e1.apply(ev)]
    two = [(a.error_type, a.name, a.ts, a.message) for ev in evs for a in e2.apply(ev)]
    assert one == two and len(one) >= 3


def test_memory_stays_bounded_on_a_long_stream() -> None:
    e = AlertEngine()
    for i in range(50_000):
        e.apply(error_event(f"t{i % 5}", "m", ts=T + i * S))
    assert max(len(d) for d in e._by_type.values()) <= 61  # 5 min of one-every-5 s
    assert len(e._recent) <= 61
