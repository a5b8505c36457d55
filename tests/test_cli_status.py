"""``journal status`` as a user runs it: a known journal, exact figures, human and JSON forms.

The fixture journal (`build_journal`) lies in the past (2026-01-01), so "now" is long
after it: as of now nothing is happening, and as of a moment inside it the figures are
computed by hand below.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from journal.events import (
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    now_us,
    to_us,
)
from journal.store.event_store import EventStore
from tests.journal_cli import assert_one_line_error as one_line_error
from tests.journal_cli import run_journal as run

T0 = to_us(datetime(2026, 1, 1, tzinfo=timezone.utc))
S = 1_000_000


def at(seconds: float) -> int:
    """T0 + seconds, in microseconds."""
    return T0 + int(seconds * S)


def build_journal(url: str) -> None:
    """A migrated journal with known content (see the module docstring of each test file).

    - breaker binance_ohlcv: calls 95 ok / 5 failed at +10 s; CLOSED -> OPEN at +60 s;
      4 rejected at +60 s; OPEN -> HALF_OPEN at +180 s; HALF_OPEN -> CLOSED at +200 s;
      100 ok at +300 s. So 200 calls, 195 ok (97.50%), 5 failed, 4 rejected, 1 open.
    - 12 errors api_ohlcv_error (name binance_ohlcv) at +30, +35, ... +85 s: the 11th
      (+80 s) starts a burst, which ends 5 min after the oldest of the last 11 (+35 s):
      +335 s.
    - writer w1: store_unavailable at +400 s, 3 errors db_error (name db) at +410/+420/+430 s,
      store_recovered at +460 s (60 s), spool_drained (7 events) at +461 s, event_rejected
      (2) at +462 s, events_dropped (1) at +463 s.
    - one CRITICAL error fatal_error (name core) at +500 s.
    """
    from journal.store.migrate import upgrade

    upgrade(url)
    events = [
        calls_event("binance_ohlcv", successes=95, failures=5, rejected=0, ts=at(10)),
        breaker_event(
            "binance_ohlcv", "CLOSED", "OPEN", message="5 consecutive failures", ts=at(60)
        ),
        calls_event("binance_ohlcv", successes=0, failures=0, rejected=4, ts=at(60)),
        breaker_event("binance_ohlcv", "OPEN", "HALF_OPEN", ts=at(180)),
        breaker_event("binance_ohlcv", "HALF_OPEN", "CLOSED", ts=at(200)),
        calls_event("binance_ohlcv", successes=100, failures=0, rejected=0, ts=at(300)),
    ]
    events += [
        error_event("api_ohlcv_error", f"timeout #{i}", name="binance_ohlcv", ts=at(30 + 5 * i))
        for i in range(12)
    ]
    events += [
        journal_event("store_unavailable", "db down", context={"queued": 3}, ts=at(400), source="w1"),
        *(error_event("db_error", "refused", name="db", ts=at(t), source="w1") for t in (410, 420, 430)),
        journal_event("store_recovered", "back", context={"outage_seconds": 60.0}, ts=at(460), source="w1"),
        journal_event("spool_drained", "7", context={"files": 1, "events": 7}, ts=at(461), source="w1"),
        journal_event("event_rejected", "2", context={"count": 2}, ts=at(462), source="w1"),
        journal_event("events_dropped", "1", context={"dropped": 1}, ts=at(463), source="w1"),
        error_event("fatal_error", "disk full", name="core", severity="CRITICAL", ts=at(500)),
    ]  # fmt: skip
    events.sort(key=lambda e: e.ts)
    with EventStore(url) as store:
        store.append(events)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "\x1b[" not in done.stdout  # piped: plain text, no ANSI codes
    return done.stdout


@pytest.fixture
def journal_url(migrated_url: str) -> str:
    build_journal(migrated_url)
    return migrated_url


def test_status_of_an_old_journal_is_as_of_now(journal_url: str, tmp_path: Path) -> None:
    before = now_us()
    out = ok(run("status", "--db", journal_url, cwd=tmp_path))
    assert "newest event: 2026-01-01T00:08:20.000000Z (" in out and " ago)" in out
    assert "Total Errors: 16   Diversity: 3 type(s)" in out
    assert "Errors/min: 0.00 (1m)  0.00 (5m)  0.00 (15m)" in out
    assert "HEALTH: OK - All systems normal" in out
    assert "INCIDENTS (ongoing 0, resolved 2, MTTR 3m 17s;" in out  # (140 s + 255 s) / 2

    data = json.loads(ok(run("status", "--db", journal_url, "--json", cwd=tmp_path)))
    assert data["schema_version"] == 1 and data["as_of_wall_clock"] is True
    assert data["health"] == {"level": "OK", "label": "OK - All systems normal", "reasons": []}
    assert data["newest_event"]["timestamp"] == "2026-01-01T00:08:20.000000Z"
    assert to_us(datetime.fromisoformat(data["as_of"].replace("Z", "+00:00"))) >= before
    assert data["newest_event"]["age_s"] >= (before - at(500)) / S
    assert data["errors"]["per_minute"] == {"1m": 0.0, "5m": 0.0, "15m": 0.0}


def test_status_as_of_a_moment_inside_the_journal(journal_url: str, tmp_path: Path) -> None:
    out = ok(run("status", "--db", journal_url, "--at", "2026-01-01T00:08:20", cwd=tmp_path))
    assert "as of 2026-01-01T00:08:20.000000Z" in out
    assert "newest event: 2026-01-01T00:08:20.000000Z (0.0s ago)" in out
    # 1m: (440, 500] holds the CRITICAL one; 5m: (200, 500] the 3 db errors too; 15m: all 16
    assert "Errors/min: 1.00 (1m)  0.80 (5m)  1.07 (15m)" in out
    assert (
        "│ binance_ohlcv │ CLOSED │   5m 00s │   200 │  97.50% │      5 │        4 │     1 │" in out
    )
    assert "WRITER: store available; outages: 1, last lasted 1m 00s" in out
    assert "  spool drains: 1 (7 event(s)); events refused: 2; events dropped: 1;" in out
    assert "HEALTH: CRITICAL - Immediate attention needed" in out
    assert "  - 1 CRITICAL error(s) in the last 5 min" in out
    assert "  - binance_ohlcv success rate 97.50% (target > 99%)" in out

    data = json.loads(
        ok(run("status", "--db", journal_url, "--at", "2026-01-01T00:08:20Z", "--json",
               "--recent", "2", "--top", "1", cwd=tmp_path))
    )  # fmt: skip
    assert data["as_of_wall_clock"] is False and data["newest_event"]["age_s"] == 0.0
    assert data["errors"]["total"] == 16 and data["errors"]["diversity"] == 3
    assert data["errors"]["per_minute"] == {"1m": 1.0, "5m": 0.8, "15m": 1.0667}
    assert data["error_types"] == [
        {
            "error_type": "api_ohlcv_error",
            "count": 12,
            "per_minute": {"1m": 0.0, "5m": 0.0, "15m": 0.8},
            "last_seen": "2026-01-01T00:01:25.000000Z",
        }
    ]
    assert data["error_types_more"] == 2
    assert [e["error_type"] for e in data["recent_errors"]] == ["db_error", "fatal_error"]
    (b,) = data["breakers"]
    assert (b["state"], b["in_state_s"], b["calls"], b["success_rate"], b["failures"]) == (
        "CLOSED", 300.0, 200, 97.5, 5,
    )  # fmt: skip
    assert (b["rejected"], b["opens"]) == (4, 1)
    assert data["writer"]["outages"] == 1 and data["writer"]["last_outage_s"] == 60.0
    assert data["writer"]["store_available"] is True
    assert (data["writer"]["drained_events"], data["writer"]["rejected_events"]) == (7, 2)
    assert data["writer"]["dropped_events"] == 1
    assert data["incidents"] == {"ongoing": 0, "resolved": 3 - 1, "mttr_s": 197.5}
    assert data["health"]["level"] == "CRITICAL"


def test_status_during_the_outage_and_the_burst(journal_url: str, tmp_path: Path) -> None:
    out = ok(run("status", "--db", journal_url, "--at", "2026-01-01T00:06:40Z", cwd=tmp_path))
    # +400 s: the store went down for w1 0 s before; no recovery yet
    assert "WRITER: store UNAVAILABLE since 2026-01-01T00:06:40 for 0.0s (writer w1)" in out
    mid = json.loads(
        ok(
            run(
                "status",
                "--db",
                journal_url,
                "--at",
                "2026-01-01T00:02:00Z",
                "--json",
                cwd=tmp_path,
            )
        )
    )
    # +120 s: breaker OPEN since +60 s, the burst (from +80 s) ongoing
    (b,) = mid["breakers"]
    assert (b["state"], b["in_state_s"]) == ("OPEN", 60.0)
    assert mid["incidents"]["ongoing"] == 2
    assert mid["health"]["level"] == "CRITICAL"  # 1 of 1 breakers OPEN
    assert "1 of 1 circuit breakers OPEN" in mid["health"]["reasons"]
    assert "1 error burst(s) ongoing: api_ohlcv_error" in mid["health"]["reasons"]


def test_recent_zero_lists_no_error_and_top_caps_the_types(
    journal_url: str, tmp_path: Path
) -> None:
    out = ok(run("status", "--db", journal_url, "--recent", "0", "--top", "1", cwd=tmp_path))
    assert "RECENT ERRORS" not in out and "timeout #" not in out
    assert "api_ohlcv_error" in out and "db_error │" not in out
    assert "... and 2 more type(s) tracked" in out
    out = ok(run("status", "--db", journal_url, "--recent", "3", cwd=tmp_path))
    assert "RECENT ERRORS (last 3)" in out and "timeout #" not in out
    assert out.count("● │") == 3 and out.count("disk full") == 1


def test_export_writes_the_error_report(journal_url: str, tmp_path: Path) -> None:
    target = tmp_path / "errors_report.json"
    out = ok(run("status", "--db", journal_url, "--at", "2026-01-01T00:10:00Z",
                 "--export", str(target), cwd=tmp_path))  # fmt: skip
    assert out.strip() == (
        "exported 16 error(s), the last 16 in detail, as of 2026-01-01T00:10:00.000000Z"
        f" to {target}"
    )
    report = json.loads(target.read_text())
    s = report["summary"]
    assert s["total_errors"] == 16
    assert s["error_counts"] == {"api_ohlcv_error": 12, "db_error": 3, "fatal_error": 1}
    assert s["breakers"]["binance_ohlcv"]["success_rate"] == 97.5
    assert s["mttr_seconds"] == pytest.approx((140 + 255) / 2)
    assert len(report["errors"]) == 16 and report["errors"][-1]["message"] == "disk full"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".errors_report")] == []


def test_interval_follows_events_appended_meanwhile(journal_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal", "status", "--db", journal_url, "--json",
         "--interval", "0.2", "--iterations", "600"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["errors"]["total"] == 16
        with EventStore(journal_url) as store:
            store.append(
                [error_event("late_error", f"n{i}", ts=now_us() - 1000 + i) for i in range(2)]
            )
        # ends, and fails below, when the process does (after 600 ticks: about 2 minutes)
        for line in proc.stdout:
            data = json.loads(line)
            if data["errors"]["total"] == 18:
                break
        else:
            pytest.fail(
                f"never saw the appended events: {proc.stderr.read() if proc.stderr else ''}"
            )
        assert data["errors"]["diversity"] == 4
        assert data["newest_event"]["id"] == 18 or data["newest_event"]["id"] > 16
        assert data["events_folded"] == 27 + 2  # each folded once, never again
    finally:
        proc.kill()
        proc.wait()


def test_on_a_terminal_it_refreshes_in_place(journal_url: str, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    env.update(COLUMNS="150", LINES="60", TERM="xterm-256color")
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal", "status", "--db", journal_url,
         "--interval", "0.1", "--iterations", "3"],
        cwd=tmp_path, env=env, stdout=slave, stderr=slave, stdin=slave,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120  # only a guard against hanging the suite
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(timeout=60) == 0
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in out  # a terminal: Rich styles and moves the cursor
    assert out.count("OVERALL STATISTICS") >= 3  # redrawn on each of the 3 ticks
    assert "Total Errors: \x1b[1m16" in out or "Total Errors: 16" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--interval", "0"), "--interval must be more than 0"),
        (("--interval", "x"), "invalid float value"),
        (("--top", "-1"), "--top must be >= 0"),
        (("--recent", "-1"), "--recent must be >= 0"),
        (("--at", "1h", "--interval", "5"), "--at shows a past moment"),
        (("--once", "--interval", "5"), "not allowed with argument"),
        (("--since", "2999-01-01"), "--since is after now"),
        (("--since", "1h", "--at", "2h"), "--since is after --at"),
        (("--at", "tomorrow"), "bad --at 'tomorrow'"),
        (("--export", "/proc/nope/x.json"), "cannot write /proc/nope/x.json"),
    ],
)
def test_bad_status_input_is_one_line(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    url = f"sqlite:///{tmp_path}/j.db"
    build_journal(url)
    one_line_error(run("status", "--db", url, *args, cwd=tmp_path), fragment)
