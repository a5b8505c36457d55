"""``journal export`` and ``journal import`` as a user runs them: subprocesses, real databases."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from journal.cli.export import BATCH
from journal.events import (
    Event,
    alert_event,
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    retry_event,
)
from journal.history.exporting import read_records
from journal.store.event_store import EventStore
from journal.store.migrate import head_revision, upgrade
from tests.journal_cli import assert_one_line_error
from tests.journal_cli import run_journal as run

T0 = 1_800_000_000_000_000  # 2027-01-15T08:00:00Z
S = 1_000_000


def _eid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def known_events() -> list[Event]:
    """Seven events, one per kind (two errors), with fixed ids, times and sources."""
    evs = [
        error_event(
            "api_ohlcv_error",
            "ConnectionError: reset",
            name="binance_ohlcv",
            context={"symbol": "SOL/USDT", "n": 3},
            ts=T0,
            source="collector-1:1",
        ),
        retry_event(
            "binance_ohlcv", 2, 1.5, error_type="TimeoutError", ts=T0 + S, source="collector-1:1"
        ),
        breaker_event("binance_ohlcv", "CLOSED", "OPEN", ts=T0 + 2 * S, source="collector-2:2"),
        error_event(
            "api_oi_error",
            "caf\u00e9 down\n\ttwice",
            severity="CRITICAL",
            name="binance_oi",
            context={"nested": {"list": [1, 2.5, None, "\u00fc"]}},
            ts=T0 + 3 * S,
            source="collector-2:2",
        ),
        calls_event("binance_ohlcv", successes=9, failures=1, rejected=0, ts=T0 + 4 * S),
        alert_event("burst", "binance_ohlcv", "5 errors in 60s", ts=T0 + 5 * S, source="a:3"),
        journal_event("store_unavailable", "outage", ts=T0 + 6 * S, source="a:3"),
    ]
    return [e._replace(event_id=_eid(i + 1)) for i, e in enumerate(evs)]


def fields(e: Event) -> tuple[Any, ...]:
    """Every field but ``id``; the context decoded (JSONB and SQLite texts differ)."""
    return (*e[1:-1], e.context)


def stored(url: str) -> list[tuple[Any, ...]]:
    with EventStore(url) as store:
        return sorted(fields(e) for e in store.read())


@pytest.fixture
def journal_url(migrated_url: str) -> str:
    """A migrated journal (SQLite and PostgreSQL) holding `known_events`."""
    with EventStore(migrated_url) as store:
        assert store.append(known_events()) == 7
    return migrated_url


@pytest.fixture
def sqlite_journal(sqlite_url: str) -> str:
    """`journal_url` on SQLite only: for cases whose SQL or parsing is shared by both dialects."""
    upgrade(sqlite_url)
    with EventStore(sqlite_url) as store:
        assert store.append(known_events()) == 7
    return sqlite_url


def files_in(folder: Path) -> list[str]:
    """Files in ``folder`` but the SQLite journal's own."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("journal.db"))


# ---------------------------------------------------------------- export


def test_export_json_has_the_header_first_then_every_field(
    journal_url: str, tmp_path: Path
) -> None:
    done = run("export", "--db", journal_url, "-o", "out.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "exported 7 event(s) to out.json (json)\n"
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert text.startswith('{"header": ')
    doc = json.loads(text)
    header = doc["header"]
    assert list(doc) == ["header", "events"]
    assert header["count"] == 7 and header["through_id"] == 7
    assert header["format"] == "error-journal-export" and header["format_version"] == 1
    assert header["schema_revision"] == head_revision()
    assert header["range"] == {"since": None, "until": None}
    assert header["filters"] == dict.fromkeys(
        ("kind", "name", "error_type", "severity", "source", "text")
    )
    expected_db = make_url(journal_url).render_as_string(hide_password=True)
    assert header["source_database"] == expected_db
    assert header["exported_at"].endswith("Z")
    assert [e["event_id"] for e in doc["events"]] == [_eid(i) for i in range(1, 8)]
    assert doc["events"][0] == {
        "id": 1,
        "event_id": _eid(1),
        "ts": "2027-01-15T08:00:00.000000Z",
        "kind": "error",
        "source": "collector-1:1",
        "name": "binance_ohlcv",
        "error_type": "api_ohlcv_error",
        "severity": "ERROR",
        "message": "ConnectionError: reset",
        "attempt": None,
        "delay": None,
        "state_from": None,
        "state_to": None,
        "context": {"n": 3, "symbol": "SOL/USDT"},
    }
    assert doc["events"][1]["attempt"] == 2 and doc["events"][1]["delay"] == 1.5
    assert doc["events"][2]["state_to"] == "OPEN"
    assert doc["events"][3]["message"] == "caf\u00e9 down\n\ttwice"
    assert doc["events"][3]["context"] == {"nested": {"list": [1, 2.5, None, "\u00fc"]}}
    assert doc["events"][3]["ts"] == "2027-01-15T08:00:03.000000Z"
    assert files_in(tmp_path) == ["out.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--kind", "error"), [1, 4]),
        (("--kind", "error,retry", "--kind", "BREAKER"), [1, 2, 3, 4]),
        (("--severity", "critical"), [4]),
        (("--severity", "ERROR,CRITICAL", "--kind", "error"), [1, 4]),
        (("--error-type", "api_oi_error,TimeoutError"), [2, 4]),
        (("--name", "binance_oi"), [4]),
        (("--source", "collector-2:2", "--source", "a:3"), [3, 4, 6, 7]),
        (("--since", "2027-01-15T08:00:01", "--until", "2027-01-15T08:00:03Z"), [2, 3]),
        (("--since", "2027-01-15T09:00:00+01:00", "--kind", "alert,journal"), [6, 7]),
        (("--until", "2027-01-15T08:00:00Z"), []),
    ],
)
def test_export_filters(
    sqlite_journal: str, tmp_path: Path, options: tuple[str, ...], expected: list[int]
) -> None:
    done = run("export", "--db", sqlite_journal, "-o", "-", *options, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [e["event_id"] for e in doc["events"]] == [_eid(i) for i in expected]
    assert doc["header"]["count"] == len(expected)


def test_export_filters_combine_and_go_in_the_header(journal_url: str, tmp_path: Path) -> None:
    done = run(
        "export", "--db", journal_url, "--since", "2027-01-15T08:00:01", "--kind", "error",
        "--kind", "retry,alert", "--severity", "critical,warning", "--error-type",
        "api_oi_error,burst", "--source", "collector-2:2,a:3", "--name", "binance_oi",
        "--until", "2028-01-01", cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(done.stdout)
    assert [e["event_id"] for e in doc["events"]] == [_eid(4)]
    header = doc["header"]
    assert header["range"] == {
        "since": "2027-01-15T08:00:01.000000Z",
        "until": "2028-01-01T00:00:00.000000Z",
    }
    assert header["filters"] == {
        "kind": ["error", "retry", "alert"],
        "name": ["binance_oi"],
        "error_type": ["api_oi_error", "burst"],
        "severity": ["CRITICAL", "WARNING"],
        "source": ["collector-2:2", "a:3"],
        "text": None,
    }
    assert header["count"] == 1


def test_export_jsonl_by_suffix_or_format(journal_url: str, tmp_path: Path) -> None:
    assert run("export", "--db", journal_url, "-o", "a.jsonl", cwd=tmp_path).returncode == 0
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["event_id"] for x in lines] == [_eid(i) for i in range(1, 8)]
    assert json.loads(lines[4])["context"] == {"failures": 1, "rejected": 0, "successes": 9}
    done = run(
        "export", "--db", journal_url, "--format", "jsonl", "--kind", "breaker", cwd=tmp_path
    )
    assert json.loads(done.stdout)["state_from"] == "CLOSED"  # one line: one object
    done = run("export", "--db", journal_url, "--format", "json", "-o", "b.jsonl", cwd=tmp_path)
    assert json.loads((tmp_path / "b.jsonl").read_text())["header"]["count"] == 7


def test_export_hides_the_password(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    with_password = make_url(pg_url).set(password="s3cr3t-pw").render_as_string(False)
    done = run("export", "--db", with_password, cwd=tmp_path)  # trust auth ignores it
    assert done.returncode == 0, done.stderr
    assert "s3cr3t-pw" not in done.stdout
    shown = json.loads(done.stdout)["header"]["source_database"]
    assert shown.startswith("postgresql+psycopg2://postgres:***REDACTED***@127.0.0.1:5432/")


def test_export_to_a_closed_pipe_is_quiet(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    with EventStore(sqlite_url) as store:
        store.append([error_event("api_error", "x" * 200, ts=T0 + i) for i in range(3000)])
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal", "export", "--db", sqlite_url, "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert json.loads(first)["ts"] == "2027-01-15T08:00:00.000000Z"
    assert err == ""


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (("--kind", "error,oops"), "unknown --kind oops: expected alert, breaker, calls"),
        (("--severity", "INFO"), "unknown --severity INFO: expected CRITICAL, ERROR, WARNING"),
        (("--since", "2h", "--until", "3h"), "is after --until"),
        (("--since", "yesterday"), "bad --since 'yesterday'"),
        (("--format", "xml"), "invalid choice: 'xml'"),
        (("-o", "missing/dir/out.json"), "cannot write missing/dir/out.json: No such file"),
        (("-o", "."), "cannot write .: it is a directory"),
    ],
)
def test_export_bad_input_is_one_line(
    sqlite_journal: str, tmp_path: Path, options: tuple[str, ...], fragment: str
) -> None:
    before = files_in(tmp_path)
    done = run("export", "--db", sqlite_journal, *options, cwd=tmp_path)
    assert_one_line_error(done, fragment)
    assert done.stdout == ""
    assert files_in(tmp_path) == before


def test_export_into_a_read_only_folder_is_one_line(sqlite_journal: str, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who may write anywhere")
        done = run("export", "--db", sqlite_journal, "-o", "ro/out.json", cwd=tmp_path)
        assert_one_line_error(done, "cannot write ro/out.json: Permission denied")
        assert files_in(folder) == []
    finally:
        folder.chmod(0o700)


def test_an_export_that_fails_midway_leaves_no_file(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    with EventStore(sqlite_url) as store:
        store.append([error_event("api_error", "y" * 100, ts=T0 + i) for i in range(2000)])
    (tmp_path / "out.json").write_text("the previous export\n")

    def small_files() -> None:  # the write fails with EFBIG after 64 KiB
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    done = run("export", "--db", sqlite_url, "-o", "out.json", cwd=tmp_path, preexec_fn=small_files)
    assert_one_line_error(done, "cannot write out.json: File too large")
    assert (tmp_path / "out.json").read_text() == "the previous export\n"  # untouched
    assert files_in(tmp_path) == ["out.json"]


def test_export_needs_a_migrated_database(tmp_path: Path) -> None:
    done = run("export", "--db", f"sqlite:///{tmp_path}/none.db", cwd=tmp_path)
    assert_one_line_error(done, "run: journal migrate")
    assert not (tmp_path / "none.db").exists()


def test_help_shows_examples(tmp_path: Path) -> None:
    out = run("export", "--help", cwd=tmp_path).stdout
    assert "examples:\n  journal export -o errors.json --since 7d --kind error" in out
    out = run("import", "--help", cwd=tmp_path).stdout
    assert "journal import errors.json" in out and "rejected whole" in " ".join(out.split())


# ---------------------------------------------------------------- import and round trips


def test_round_trip_sqlite_to_postgresql_and_back(
    sqlite_url: str, pg_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    with EventStore(sqlite_url) as store:
        store.append(known_events())
    assert run("export", "--db", sqlite_url, "-o", "a.json", cwd=tmp_path).returncode == 0
    done = run("import", "--db", pg_url, "--migrate", "a.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 7 new event(s) of 7 from a.json into postgresql")
    assert stored(pg_url) == stored(sqlite_url) == sorted(fields(e) for e in known_events())
    again = run("import", "--db", pg_url, "a.json", cwd=tmp_path)
    assert "imported 0 new event(s) of 7" in again.stdout and "(7 already present)" in again.stdout
    with EventStore(pg_url) as store:
        assert store.count() == 7

    back = f"sqlite:///{tmp_path}/back.db"
    assert run("export", "--db", pg_url, "-o", "b.jsonl", cwd=tmp_path).returncode == 0
    done = run("import", "--db", back, "--migrate", "b.jsonl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stored(back) == stored(sqlite_url)


def test_import_reads_a_reformatted_json_file(journal_url: str, tmp_path: Path) -> None:
    assert run("export", "--db", journal_url, "-o", "a.json", cwd=tmp_path).returncode == 0
    doc = json.loads((tmp_path / "a.json").read_text())
    (tmp_path / "pretty.json").write_text(json.dumps(doc, indent=4, ensure_ascii=True))
    (tmp_path / "array.json").write_text(json.dumps(doc["events"]))
    for name in ("pretty.json", "array.json"):
        target = f"sqlite:///{tmp_path}/{name}.db"
        done = run("import", "--db", target, "--migrate", name, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert stored(target) == stored(journal_url)


def test_reader_streams_across_chunk_boundaries(tmp_path: Path) -> None:
    records = [
        {**e.to_dict(), "delay": i * 1.25, "attempt": i, "message": "m" * (i % 301)}
        for i, e in enumerate(
            error_event("api_error", None, ts=T0 + i, context={"i": i}) for i in range(3000)
        )
    ]
    for indent in (None, 1):
        path = tmp_path / f"r{indent}.json"
        path.write_text(json.dumps({"events": records, "trailer": {"n": 12345}}, indent=indent))
        assert [r for _, r in read_records(str(path))] == records
    where = [w for w, _ in read_records(str(tmp_path / "r1.json"))]
    # "{", '"events": [', then record 1 on lines 3..20: "{", 13 fields, 3 of context, "},"
    assert where[1] == "line 21, record 2"


def test_import_redacts_secrets_again(sqlite_url: str, tmp_path: Path) -> None:
    record = known_events()[0].to_dict()
    record.update(
        message="login failed, password=hunter22 token=abcdefgh",
        context={"api_key": "AKIA123456", "url": "https://bob:pw123456@host/x", "n": 1},
    )
    (tmp_path / "in.jsonl").write_text(json.dumps(record) + "\n")
    done = run("import", "--db", sqlite_url, "--migrate", "in.jsonl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with EventStore(sqlite_url) as store:
        (event,) = store.read()
    assert event.message == "login failed, password=***REDACTED*** token=***REDACTED***"
    assert event.context == {
        "api_key": "***REDACTED***",
        "n": 1,
        "url": "https://bob:***REDACTED***@host/x",
    }
    assert (event.event_id, event.ts, event.source) == (_eid(1), T0, "collector-1:1")


def test_import_needs_a_migrated_database(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(json.dumps(known_events()[0].to_dict()) + "\n")
    done = run("import", "--db", f"sqlite:///{tmp_path}/j.db", "in.jsonl", cwd=tmp_path)
    assert_one_line_error(done, "run: journal migrate (or add --migrate)")


def _big_jsonl(path: Path, n: int, bad_line: int, bad: dict[str, Any] | str) -> None:
    """``n`` valid events, one per line, but line ``bad_line`` replaced by ``bad``."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(1, n + 1):
            if i == bad_line:
                f.write((bad if isinstance(bad, str) else json.dumps(bad)) + "\n")
            else:
                e = error_event("api_error", f"e{i}", ts=T0 + i, source="s:1")
                f.write(e._replace(event_id=_eid(i)).to_json() + "\n")


def _record(**changes: Any) -> dict[str, Any]:
    return {**known_events()[0]._replace(event_id=_eid(0)).to_dict(), **changes}


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("{not json", "line 5500: record 5500 is not valid JSON"),
        (_record(kind="party"), "line 5500, record 5500: unknown event kind 'party'"),
        (_record(ts="2027-02-30T00:00:00Z"), "line 5500, record 5500: invalid timestamp"),
        (_record(severity="LOUD"), "line 5500, record 5500: severity must be one of"),
        (_record(attempt="two"), "line 5500, record 5500: attempt must be an integer"),
        (_record(delay=float("nan")), "line 5500, record 5500: delay must be a finite number"),
        (_record(event_id="x" * 40), "line 5500, record 5500: event_id is longer than 36"),
        ('["a list"]', "line 5500, record 5500: not a JSON object"),
    ],
)
def test_a_bad_record_rejects_the_whole_file(
    sqlite_journal: str, tmp_path: Path, bad: Any, fragment: str
) -> None:
    assert BATCH < 5500  # the good records before the bad one would fill a batch
    _big_jsonl(tmp_path / "in.jsonl", 6000, 5500, bad)
    done = run("import", "--db", sqlite_journal, "in.jsonl", cwd=tmp_path)
    assert_one_line_error(done, fragment)
    assert "nothing imported" in done.stderr
    assert stored(sqlite_journal) == sorted(fields(e) for e in known_events())


def test_a_bad_record_leaves_postgresql_unchanged(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    _big_jsonl(tmp_path / "in.jsonl", 6000, 5999, _record(kind="party"))
    done = run("import", "--db", pg_url, "in.jsonl", cwd=tmp_path)
    assert_one_line_error(done, "line 5999, record 5999: unknown event kind 'party'")
    assert stored(pg_url) == []


@pytest.fixture(scope="module")
def full_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``full.json`` and ``full.jsonl``: 6,000 errors exported from SQLite.

    Made once per module (they are only read): the dialect under test is the import's.
    """
    folder = tmp_path_factory.mktemp("full_exports")
    big = f"sqlite:///{folder}/big.db"
    upgrade(big)
    with EventStore(big) as store:
        store.append([error_event("api_error", f"e{i}", ts=T0 + i) for i in range(6000)])
    assert run("export", "--db", big, "-o", "full.json", cwd=folder).returncode == 0
    assert run("export", "--db", big, "-o", "full.jsonl", cwd=folder).returncode == 0
    return folder


def test_truncated_files_are_rejected_whole(
    journal_url: str, full_exports: Path, tmp_path: Path
) -> None:
    for name in ("full.json", "full.jsonl"):
        data = (full_exports / name).read_bytes()
        (tmp_path / f"cut-{name}").write_bytes(data[: len(data) - 40])
    done = run("import", "--db", journal_url, "cut-full.json", cwd=tmp_path)
    assert_one_line_error(done, "cut-full.json: line 6002: record 6000 is cut short")
    done = run("import", "--db", journal_url, "cut-full.jsonl", cwd=tmp_path)
    assert_one_line_error(
        done, "cut-full.jsonl: line 6000: record 6000 is not valid JSON (cut short?)"
    )
    # cut at the end of a record: valid JSON so far, but the array never closes
    data = (full_exports / "full.json").read_text()
    (tmp_path / "open.json").write_text(data[: data.rindex("\n]}")])
    done = run("import", "--db", journal_url, "open.json", cwd=tmp_path)
    assert_one_line_error(done, "line 6002: expected ',' or ']' after record 6000, found the end")
    assert stored(journal_url) == sorted(fields(e) for e in known_events())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "the file is empty"),
        ("hello\n", "line 1: not a journal export"),
        ('{"header": {"count": 2}, "events": [\n' + json.dumps(_record()) + "]}", "header says 2"),
        ('{"header": {}}', "no events array"),
        ('{"events": []} extra', "data after the end of the JSON document"),
    ],
)
def test_malformed_files_are_one_line(
    sqlite_url: str, tmp_path: Path, content: str, fragment: str
) -> None:
    upgrade(sqlite_url)
    (tmp_path / "in.json").write_text(content)
    done = run("import", "--db", sqlite_url, "in.json", cwd=tmp_path)
    assert_one_line_error(done, fragment)
    assert stored(sqlite_url) == []


def test_import_of_a_missing_file_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    done = run("import", "--db", sqlite_url, "nope.json", cwd=tmp_path)
    assert_one_line_error(done, "cannot read nope.json: No such file or directory")
    done = run("import", "--db", sqlite_url, "-", cwd=tmp_path)
    assert_one_line_error(done, "give a file, not -")
    done = run("import", "--db", sqlite_url, ".", cwd=tmp_path)
    assert_one_line_error(done, "cannot read .: Is a directory")


def test_progress_bar_on_a_terminal_keeps_the_file_clean(
    sqlite_journal: str, tmp_path: Path
) -> None:
    import pty

    main, child = pty.openpty()  # stderr is a terminal: the Rich bar draws there
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    env.update(TERM="xterm", COLUMNS="100")
    with subprocess.Popen(
        [sys.executable, "-m", "journal", "export", "--db", sqlite_journal, "-o", "out.jsonl"],
        cwd=tmp_path,
        env=env,
        stderr=child,
    ) as proc:
        os.close(child)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=60) == 0
    os.close(main)
    assert b"exported 7 event(s) to out.jsonl (jsonl)" in seen
    assert b"\x1b[" in seen  # the bar drew (and cleared itself)
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(x)["event_id"] for x in lines] == [_eid(i) for i in range(1, 8)]
