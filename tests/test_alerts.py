"""Alert rules and cooldowns on event time, expectations by hand."""

from __future__ import annotations

import pytest

from journal.alerting.rules import AlertConfig, AlertEngine, TypeOverride
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
    # A count rule "more than N" keeps only the newest N + 1 times.
    assert e.sizes()["times"] <= 5 * 11 + 6


def test_many_types_are_forgotten_when_idle_and_capped() -> None:
    from journal.alerting import rules

    e = AlertEngine(AlertConfig(cooldown_s=60))
    # 30,000 types, one error each, 1 s apart: each is idle 5 minutes later.
    for i in range(30_000):
        e.apply(error_event(f"t{i}", "m", ts=T + i * S))
    kept = e.sizes()["types"]
    assert kept <= 2 * 1024 + 301 and e.forgotten_types >= 30_000 - kept
    # All active at once (one burst of 25,000 types within a second): capped at MAX_TYPES.
    burst = AlertEngine()
    for i in range(25_000):
        burst.apply(error_event(f"b{i}", "m", ts=T + i))
    assert burst.sizes()["types"] <= 2 * rules.MAX_TYPES


def brute_force(config: AlertConfig, events: list[Event]) -> list[tuple[str, str, int]]:
    """The rules with every time kept (the definition), for comparison."""
    fired: list[tuple[str, str, int]] = []
    last: dict[tuple[str, str], int] = {}
    seen: list[Event] = []
    for ev in events:
        seen.append(ev)
        etype = ev.error_type or ""
        threshold, window = config.count_rule(etype)
        n_type = sum(1 for x in seen if x.error_type == etype and x.ts > ev.ts - window)
        n_all = sum(1 for x in seen if x.ts > ev.ts - 60 * S)
        for rule, key, n, limit in (
            ("error_count", etype, n_type, threshold),
            ("error_rate", "*", n_all, config.error_rate_per_min),
        ):
            if n > limit:
                cooldown = config.cooldown_us(etype if rule == "error_count" else None)
                if (rule, key) not in last or ev.ts - last[(rule, key)] >= cooldown:
                    last[(rule, key)] = ev.ts
                    fired.append((rule, key, ev.ts))
    return fired


def test_bounded_windows_decide_exactly_like_keeping_every_time() -> None:
    import random

    rnd = random.Random(7)
    config = AlertConfig(error_count_threshold=4, error_rate_per_min=6, cooldown_s=30)
    for _ in range(30):
        t = T
        events = []
        for _ in range(200):
            t += rnd.choice([1, S // 2, 3 * S, 20 * S, 70 * S])
            events.append(error_event(rnd.choice("abc"), "m", ts=t))
        assert run(AlertEngine(config), events) == brute_force(config, events)


def test_a_count_past_the_kept_times_says_at_least() -> None:
    eng = AlertEngine(AlertConfig(error_rate_per_min=1000, cooldown_s=0))
    out = [a for ev in errors("api_error", [T + i * S for i in range(13)]) for a in eng.apply(ev)]
    assert [a.message for a in out] == [
        "api_error: 11 errors in 5 min (threshold 10)",
        "api_error: at least 11 errors in 5 min (threshold 10)",
        "api_error: at least 11 errors in 5 min (threshold 10)",
    ]
    assert [a.context["exact"] for a in out] == [True, False, False]
