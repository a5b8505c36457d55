"""``journal incidents`` as a user runs it, on the known journal of `tests.test_cli_status`.

Hand-computed from that journal (times from T0 = 2026-01-01T00:00:00Z):
- breaker binance_ohlcv: +60 s .. +200 s (140 s); its errors in that span: +60 .. +85 s,
  6 errors, all within one minute (peak 6).
- burst api_ohlcv_error: +80 s .. +335 s (255 s); its errors in that span: +80, +85 (2).
- outage of writer w1: +400 s .. +460 s (60 s); errors then: the 3 db errors (peak 3).
MTTR over the three: (140 + 255 + 60) / 3 = 151.67 s = 2m 31s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journal.history.incident_report import _Tally, incident_id
from tests.test_cli_status import at, build_journal, ok, one_line_error, run

BREAKER = incident_id("breaker", "binance_ohlcv", at(60))
BURST = incident_id("burst", "api_ohlcv_error", at(80))
OUTAGE = incident_id("outage", "w1", at(400))


@pytest.fixture
def journal_url(migrated_url: str) -> str:
    build_journal(migrated_url)
    return migrated_url


def test_every_incident_with_mttr(journal_url: str, tmp_path: Path) -> None:
    out = ok(run("incidents", "--db", journal_url, cwd=tmp_path))
    assert f"│ {BREAKER} │ breaker │ binance_ohlcv   │ 2026-01-01T00:01:00Z │ 2026-01-01T00:03:20Z │   2m 20s │      6 │        6 │" in out  # fmt: skip
    assert f"│ {BURST} │ burst   │ api_ohlcv_error │ 2026-01-01T00:01:20Z │ 2026-01-01T00:05:35Z │   4m 15s │      2 │        2 │" in out  # fmt: skip
    assert f"│ {OUTAGE} │ outage  │ w1              │ 2026-01-01T00:06:40Z │ 2026-01-01T00:07:40Z │   1m 00s │      3 │        3 │" in out  # fmt: skip
    assert "3 incident(s): 3 resolved, 0 open; MTTR 2m 31s" in out
    assert out.startswith("INCIDENTS 2026-01-01T00:00:10Z .. ")  # from the first event

    data = json.loads(ok(run("incidents", "--db", journal_url, "--json", cwd=tmp_path)))
    assert data["schema_version"] == 1
    assert [(i["id"], i["kind"], i["name"], i["duration_s"]) for i in data["incidents"]] == [
        (BREAKER, "breaker", "binance_ohlcv", 140.0),
        (BURST, "burst", "api_ohlcv_error", 255.0),
        (OUTAGE, "outage", "w1", 60.0),
    ]
    assert data["incidents"][0] == {
        "id": BREAKER,
        "kind": "breaker",
        "name": "binance_ohlcv",
        "start": "2026-01-01T00:01:00.000000Z",
        "end": "2026-01-01T00:03:20.000000Z",
        "open": False,
        "duration_s": 140.0,
        "errors": 6,
        "peak_errors_per_min": 6,
        "opens": 1,
        "counts_exact": True,
    }
    assert data["summary"] == {"count": 3, "open": 0, "resolved": 3, "mttr_s": 151.667}


def test_kpis_over_a_range(journal_url: str, tmp_path: Path) -> None:
    args = ("incidents", "--db", journal_url, "--since", "2026-01-01T00:00:00", "--until")
    out = ok(run(*args, "2026-01-01T00:10:00Z", cwd=tmp_path))
    assert "KPIs over 10m 00s:" in out
    assert "  error rate      1.60/min (16 errors)     target < 1/min  MISSED" in out
    assert "  success rate    97.50%                   target > 99%    MISSED" in out
    assert "  breaker opens   1                        target 0        MISSED" in out
    assert "  MTTR            2m 31s                   target < 5 min  met" in out
    assert "  error diversity 3 type(s)" in out

    # from +250 s: the breaker incident (ended +200 s) is out; 100 calls, all fine, since
    data = json.loads(ok(run(*args[:3], "--since", "2026-01-01T00:04:10Z", "--until",
                             "2026-01-01T00:10:00Z", "--json", cwd=tmp_path)))  # fmt: skip
    assert [i["id"] for i in data["incidents"]] == [BURST, OUTAGE]
    assert data["range"] == {
        "since": "2026-01-01T00:04:10.000000Z",
        "until": "2026-01-01T00:10:00.000000Z",
    }
    assert data["kpis"] == {
        "errors": 4,
        "error_rate_per_min": round(4 / (350 / 60), 4),
        "success_rate": 100.0,
        "breaker_opens": 0,
        "mttr_s": 157.5,
        "error_diversity": 2,
        "met": {"error_rate": True, "success_rate": True, "breaker_opens": True, "mttr": True},
    }
    assert data["summary"]["mttr_s"] == 157.5


def test_open_kind_and_name_filters(journal_url: str, tmp_path: Path) -> None:
    base = ("incidents", "--db", journal_url, "--json")
    opened = json.loads(ok(run(*base, "--until", "2026-01-01T00:05:00Z", "--open", cwd=tmp_path)))
    (burst,) = opened["incidents"]
    assert (burst["id"], burst["end"], burst["open"], burst["duration_s"]) == (
        BURST, None, True, 220.0,
    )  # fmt: skip
    assert (burst["errors"], burst["peak_errors_per_min"]) == (2, 2)
    assert opened["summary"] == {"count": 1, "open": 1, "resolved": 0, "mttr_s": None}
    out = ok(run(*base[:-1], "--until", "2026-01-01T00:05:00Z", "--open", cwd=tmp_path))
    assert f"│ {BURST} │ burst │ api_ohlcv_error │ 2026-01-01T00:01:20Z │ open" in out
    assert "1 incident(s): 0 resolved, 1 open; MTTR n/a" in out

    outages = json.loads(ok(run(*base, "--kind", "outage", cwd=tmp_path)))
    assert [i["id"] for i in outages["incidents"]] == [OUTAGE]
    named = json.loads(ok(run(*base, "--name", "binance_ohlcv", cwd=tmp_path)))
    assert [i["id"] for i in named["incidents"]] == [BREAKER]
    both = json.loads(ok(run(*base, "--kind", "burst", "--kind", "outage", cwd=tmp_path)))
    assert [i["id"] for i in both["incidents"]] == [BURST, OUTAGE]


def test_show_prints_the_timeline(journal_url: str, tmp_path: Path) -> None:
    out = ok(run("incidents", "--db", journal_url, "show", BREAKER, cwd=tmp_path))
    lines = out.splitlines()
    assert lines[0] == f"INCIDENT {BREAKER}: breaker binance_ohlcv"
    assert (
        lines[1] == "  2026-01-01T00:01:00Z .. 2026-01-01T00:03:20Z (2m 20s); errors 6, peak 6/min"
    )
    assert lines[2] == "BREAKERS BEFORE: binance_ohlcv CLOSED"
    assert lines[3:] == [
        "TIMELINE:",
        "      +0.0s  breaker  binance_ohlcv  CLOSED -> OPEN: 5 consecutive failures",
        "      +0.0s  calls    binance_ohlcv  calls: 0 ok, 0 failed, 4 rejected",
        "      +0.0s  error    binance_ohlcv  [ERROR] api_ohlcv_error: timeout #6",
        *(f"  {f'+{5 * k}.0s':>9}  error    binance_ohlcv  [ERROR] api_ohlcv_error: timeout #{6 + k}" for k in range(1, 6)),
        "    +120.0s  breaker  binance_ohlcv  OPEN -> HALF_OPEN",
        "    +140.0s  breaker  binance_ohlcv  HALF_OPEN -> CLOSED",
        "BREAKERS AFTER: binance_ohlcv CLOSED",
    ]  # fmt: skip

    data = json.loads(
        ok(run("incidents", "show", OUTAGE, "--db", journal_url, "--json", "--limit", "2",
               cwd=tmp_path))
    )  # fmt: skip
    assert data["incident"]["id"] == OUTAGE and data["incident"]["errors"] == 3
    assert data["timeline"] == [
        {"offset_s": 0.0, "timestamp": "2026-01-01T00:06:40.000000Z", "kind": "journal",
         "name": "store_unavailable", "detail": "db down"},
        {"offset_s": 10.0, "timestamp": "2026-01-01T00:06:50.000000Z", "kind": "error",
         "name": "db", "detail": "[ERROR] db_error: refused"},
    ]  # fmt: skip
    assert data["timeline_more"] == 3  # two more errors and the recovery
    assert data["breakers_before"] == data["breakers_after"] == {"binance_ohlcv": "CLOSED"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("show", "0123456789"), "no incident '0123456789' in the journal"),
        (("--since", "1h", "--until", "2h"), "--since is after --until"),
        (("--kind", "storm"), "invalid choice: 'storm'"),
        (("--until", "soon"), "bad --until 'soon'"),
        (("show", "x", "--limit", "-1"), "--limit must be >= 0"),
        (("show",), "the following arguments are required: ID"),
    ],
)
def test_bad_incidents_input_is_one_line(
    tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    url = f"sqlite:///{tmp_path}/j.db"
    build_journal(url)
    one_line_error(run("incidents", "--db", url, *args, cwd=tmp_path), fragment)


def test_peak_is_the_most_errors_within_any_60_seconds() -> None:
    tally = _Tally(at(0), None)
    for t in (0, 10, 59, 61, 62, 63, 121, 200):  # (0, 59] 3; [10, 63] 5 (10, 59, 61, 62, 63)
        tally.add(at(t))
    assert (tally.errors, tally.peak) == (8, 5)


def test_export_of_one_incident(journal_url: str, tmp_path: Path) -> None:
    out = tmp_path / "breaker.jsonl"
    ok(run("export", "--db", journal_url, "--incident", BREAKER, "-o", str(out), cwd=tmp_path))
    events = [json.loads(line) for line in out.read_text().splitlines()]
    # the timeline of `show` above: 3 events at +0 s, 5 more errors, HALF_OPEN, CLOSED
    assert len(events) == 10 and {e["name"] for e in events} == {"binance_ohlcv"}
    assert events[0]["ts"] == "2026-01-01T00:01:00.000000Z"
    assert events[-1]["ts"] == "2026-01-01T00:03:20.000000Z"
    assert events[-1]["state_to"] == "CLOSED"

    errors_only = tmp_path / "errors.json"
    ok(run("export", "--db", journal_url, "--incident", BREAKER, "--kind", "error",
           "-o", str(errors_only), cwd=tmp_path))  # fmt: skip
    doc = json.loads(errors_only.read_text())
    assert doc["header"]["incident"] == BREAKER and doc["header"]["count"] == 6
    assert {e["kind"] for e in doc["events"]} == {"error"}

    burst = tmp_path / "burst.jsonl"
    ok(run("export", "--db", journal_url, "--incident", BURST, "-o", str(burst), cwd=tmp_path))
    burst_events = [json.loads(line) for line in burst.read_text().splitlines()]
    # only the burst's error type within +80 s .. +335 s: the errors at +80 and +85 s
    assert [(e["kind"], e["error_type"], e["ts"]) for e in burst_events] == [
        ("error", "api_ohlcv_error", "2026-01-01T00:01:20.000000Z"),
        ("error", "api_ohlcv_error", "2026-01-01T00:01:25.000000Z"),
    ]

    outage = tmp_path / "outage.jsonl"
    ok(run("export", "--db", journal_url, "--incident", OUTAGE, "-o", str(outage), cwd=tmp_path))
    kinds = [json.loads(line)["kind"] for line in outage.read_text().splitlines()]
    assert kinds == ["journal", "error", "error", "error", "journal"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--incident", "0123456789"), "no incident '0123456789' in the journal"),
        (("--incident", BREAKER, "--since", "1h"), "--incident sets the time range"),
    ],
)
def test_bad_incident_export_is_one_line(
    journal_url: str, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    done = run("export", "--db", journal_url, *args, "-o", str(tmp_path / "x.json"), cwd=tmp_path)
    one_line_error(done, fragment)
    assert not (tmp_path / "x.json").exists()
