"""The CLI as a user runs it: real subprocesses, one-line errors, exit code 2."""

from __future__ import annotations

import argparse
import re
import sqlite3
from pathlib import Path

import pytest

import journal.cli.main as cli
from journal import errors
from journal.events import error_event
from journal.store.event_store import EventStore
from tests.journal_cli import assert_one_line_error
from tests.journal_cli import run_journal as run


def test_migrate_status_info_round(tmp_path: Path) -> None:
    st = run("migrate", "--status", cwd=tmp_path)
    assert st.returncode == 0 and "not migrated" in st.stdout
    assert not (tmp_path / "journal.db").exists()  # status creates nothing
    up = run("migrate", cwd=tmp_path)
    assert (
        up.returncode == 0
        and "upgraded sqlite:///journal.db: (none) -> 0003_market_data" in up.stdout
    )
    again = run("migrate", cwd=tmp_path)
    assert "already at head 0003_market_data" in again.stdout
    with EventStore(f"sqlite:///{tmp_path}/journal.db") as store:
        store.append(
            [error_event("api_error", "x", ts=1_800_000_000_000_000 + i) for i in range(3)]
        )
    info = run("info", cwd=tmp_path)
    assert info.returncode == 0
    assert "events:   3 (latest id 3)" in info.stdout
    assert "span:     2027-01-15T08:00:00.000000Z .. 2027-01-15T08:00:00.000002Z" in info.stdout
    # The file and its WAL (which SQLite may fold back in when the last connection closes).
    size = re.search(r"^size:     ([0-9.]+) KiB on disk$", info.stdout, re.MULTILINE)
    assert (
        size is not None
        and float(size.group(1)) * 1024 >= (tmp_path / "journal.db").stat().st_size - 1024
    )


def test_info_shows_the_size_on_postgresql(migrated_url: str) -> None:
    if not migrated_url.startswith("postgresql"):
        return  # the SQLite case is exact above
    with EventStore(migrated_url) as store:
        empty = store.storage_bytes()
        store.append(
            [
                error_event("api_error", "x" * 2000, ts=1_800_000_000_000_000 + i)
                for i in range(2000)
            ]
        )
        assert store.storage_bytes() > empty > 0
    info = run("info", "--db", migrated_url, cwd=Path.cwd())
    assert info.returncode == 0 and " on disk" in info.stdout


def test_db_option_and_env_var_choose_the_database(tmp_path: Path) -> None:
    other = tmp_path / "sub" / "other.db"
    done = run("migrate", "--db", f"sqlite:///{other}", cwd=tmp_path)
    assert done.returncode == 0 and other.exists()
    env_db = tmp_path / "env.db"
    done = run("migrate", cwd=tmp_path, env={"JOURNAL_DB_URL": f"sqlite:///{env_db}"})
    assert done.returncode == 0 and env_db.exists()
    assert not (tmp_path / "journal.db").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("info", "--db", "nonsense"), "bad database URL 'nonsense'"),
        (("migrate", "--db", "mysql://x@h/db"), "unsupported database 'mysql'"),
        (
            ("info", "--db", "postgresql+psycopg2://postgres@127.0.0.1:1/x"),
            "cannot reach the database",
        ),
        (
            ("migrate", "--db", "postgresql://postgres:pw123456@127.0.0.1:1/x"),
            "cannot reach the database",
        ),
        (("info",), "run: journal migrate"),
        (("bogus",), "invalid choice: 'bogus'"),
        (("migrate", "--frob"), "unrecognized arguments: --frob"),
        (("migrate", "--status", "--sql"), "not allowed with argument"),
        (("migrate", "--db", ""), "empty database URL"),
        (("migrate", "--db", "sqlite://"), "in-memory database"),
        (("info", "--db", "sqlite:///:memory:"), "in-memory database"),
        (("migrate", "--db", "postgresql://u:pw123456@host:notaport/db"), "bad port"),
        (("migrate", "--db", "postgresql://u:pw123456@host:99999/db"), "bad port 99999"),
        (("info", "--db", "postgresql+asyncpg://u:pw123456@h/db"), "unsupported driver 'asyncpg'"),
        (("info", "--db", "postgresql://u:pw123456@127.0.0.1:5432"), "no database name"),
        (("info", "--db", "postgres://u:pw123456@127.0.0.1:1/db"), "cannot reach the database"),
        (("migrate", "--db", "://pw123456@x"), "bad database URL"),
        (("migrate", "--yes"), "--yes only confirms a --downgrade"),
        (("migrate", "--db", "sqlite://journal.db"), "a SQLite URL has no host"),
        (("migrate", "--db", "sqlite:///j.db?foo=1"), "unknown SQLite URL option(s) foo"),
        (("migrate", "--db", "sqlite:////proc/no/j.db"), "sqlite:////proc/no/j.db"),
        (("migrate", "--db", "sqlite://u:pw123456@/x.db"), "a SQLite URL has no host"),
        (("migrate", "--downgrade", "head"), "cannot downgrade to 'head'"),
        (("migrate", "--downgrade", "heads"), "cannot downgrade to 'heads'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    done = run(*args, cwd=tmp_path)
    assert_one_line_error(done, fragment)
    assert "pw123456" not in done.stderr


def test_unmigrated_postgres_gets_the_hint(pg_url: str, tmp_path: Path) -> None:
    assert_one_line_error(run("info", "--db", pg_url, cwd=tmp_path), "run: journal migrate")


def test_empty_sqlite_file_gets_the_hint(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    assert_one_line_error(
        run("info", "--db", f"sqlite:///{tmp_path}/empty.db", cwd=tmp_path), "run: journal migrate"
    )


def test_demo_then_status_as_of_the_past(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/demo.db"
    demo = run("demo", "--simulate", "--db", db, "--minutes", "10", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "LIVE (replayed from the journal)" in demo.stdout and "HEALTH:" in demo.stdout
    with EventStore(db) as store:
        written = store.count()
    assert f"journal demo: a 10-minute simulated collector session, {written} events" in " ".join(
        demo.stdout.split()
    )
    assert "alert(s) fired" in demo.stdout
    past = run("status", "--db", db, "--at", "5m", cwd=tmp_path)
    assert past.returncode == 0 and "HEALTH:" in past.stdout
    empty_past = run("status", "--db", db, "--at", "2000-01-01T00:00:00Z", cwd=tmp_path)
    assert empty_past.returncode == 0 and "Total Errors: 0" in empty_past.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("status", "--at", "yesterday"), "bad --at 'yesterday'"),
        (("status", "--at", ""), "empty --at"),
        (("status", "--at", "  "), "empty --at"),
        (("status", "--since", "2026-02-30"), "bad --since '2026-02-30'"),
        (("status", "--at", "99999999999d"), "reaches before year 1"),
        (("status", "--at", "9999-12-31T23:59:59-05:00"), "out of range"),
        (("status", "--at", "5m", "--since", "1m"), "--since is after --at"),
        (("status", "--at", "15 minutes"), "bad --at '15 minutes'"),
        (("status", "--recent", "-1"), "--recent must be >= 0"),
        (("demo", "--simulate", "--minutes", "0"), "--minutes must be between 5 and 1440"),
        (("demo", "--duration", "5s"), "--duration must be at least 10s"),
        (("demo", "--duration", "soon"), "bad --duration 'soon'"),
        (("status", "--recent", "x"), "invalid int value"),
    ],
)
def test_bad_status_and_demo_input(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(run(*args, "--db", f"sqlite:///{tmp_path}/j.db", cwd=tmp_path), fragment)


def test_bad_env_url_is_one_line_without_the_password(tmp_path: Path) -> None:
    done = run("info", cwd=tmp_path, env={"JOURNAL_DB_URL": "postgresql://u:pw123456@h:x/db"})
    assert_one_line_error(done, "bad port")
    assert "pw123456" not in done.stderr


def _migrated_with_events(tmp_path: Path, n: int) -> str:
    db = f"sqlite:///{tmp_path}/j.db"
    assert run("migrate", "--db", db, cwd=tmp_path).returncode == 0
    with EventStore(db) as store:
        store.append(
            [error_event("api_error", "x", ts=1_800_000_000_000_000 + i) for i in range(n)]
        )
    return db


def test_downgrade_that_drops_events_needs_yes(tmp_path: Path) -> None:
    db = _migrated_with_events(tmp_path, 2500)
    refused = run("migrate", "--db", db, "--downgrade", "base", cwd=tmp_path)
    assert_one_line_error(refused, "2,500 journaled event(s) would be lost; add --yes")
    with EventStore(db) as store:
        assert store.count() == 2500  # untouched
    done = run("migrate", "--db", db, "--downgrade", "base", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "downgraded sqlite:///" in done.stdout and "0003_market_data -> (none)" in done.stdout


def test_dropping_only_the_market_data_and_snapshots_needs_no_yes(tmp_path: Path) -> None:
    db = _migrated_with_events(tmp_path, 3)
    done = run("migrate", "--db", db, "--downgrade", "-1", cwd=tmp_path)
    assert done.returncode == 0 and "0003_market_data -> 0002_snapshots" in done.stdout, done.stderr
    done = run("migrate", "--db", db, "--downgrade", "-1", cwd=tmp_path)
    assert done.returncode == 0 and "0002_snapshots -> 0001_events" in done.stdout, done.stderr
    refused = run("migrate", "--db", db, "--downgrade", "base", cwd=tmp_path)
    assert_one_line_error(refused, "3 journaled event(s) would be lost; add --yes")


def test_dropping_stored_market_rows_needs_yes(tmp_path: Path) -> None:
    from journal.collector.records import Candle
    from journal.collector.storage import MarketStore

    db = _migrated_with_events(tmp_path, 3)
    with MarketStore(db) as market:
        market.upsert(
            [Candle("SOL/USDT:USDT", "1m", 60_000 * i, 1, 2, 0.5, 1.5, 10) for i in range(7)]
        )
    refused = run("migrate", "--db", db, "--downgrade", "-1", cwd=tmp_path)
    assert_one_line_error(refused, "drops the market tables: 7 stored row(s)")
    with MarketStore(db) as market:
        assert market.count("candles") == 7  # untouched
    done = run("migrate", "--db", db, "--downgrade", "-1", "--yes", cwd=tmp_path)
    assert done.returncode == 0 and "0003_market_data -> 0002_snapshots" in done.stdout, done.stderr


def test_downgrade_of_an_empty_journal_needs_no_yes(tmp_path: Path) -> None:
    db = _migrated_with_events(tmp_path, 0)
    done = run("migrate", "--db", db, "--downgrade", "-1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run("migrate", "--db", db, "--downgrade", "base", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    again = run("migrate", "--db", db, "--downgrade", "base", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to downgrade" in again.stdout


@pytest.mark.parametrize("target", ["nope", "+1"])
def test_downgrade_to_an_unknown_revision(tmp_path: Path, target: str) -> None:
    db = _migrated_with_events(tmp_path, 1)
    assert_one_line_error(
        run("migrate", "--db", db, "--downgrade", target, cwd=tmp_path), "cannot downgrade"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("migrate",),
        ("migrate", "--status"),
        ("info",),
        ("status",),
        ("migrate", "--downgrade", "base"),
    ],
)
def test_a_database_newer_than_the_software(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = _migrated_with_events(tmp_path, 1)
    con = sqlite3.connect(tmp_path / "j.db")
    with con:
        con.execute("UPDATE alembic_version SET version_num = '0042_future'")
    con.close()
    done = run(*args, "--db", db, cwd=tmp_path)
    assert_one_line_error(done, "schema revision '0042_future', which this software does not know")
    assert "newer than this error-journal" in done.stderr


def test_downgrade_asks_nothing_of_a_missing_file(tmp_path: Path) -> None:
    done = run(
        "migrate", "--db", f"sqlite:///{tmp_path}/none.db", "--downgrade", "base", cwd=tmp_path
    )
    assert done.returncode == 0 and "nothing to downgrade" in done.stdout
    assert not (tmp_path / "none.db").exists()


def _failing_parser(exc: BaseException) -> argparse.ArgumentParser:
    def handler(args: argparse.Namespace) -> int:
        raise exc

    parser = argparse.ArgumentParser(prog="journal")
    parser.set_defaults(command="boom", handler=handler)
    return parser


@pytest.mark.parametrize(
    ("exc", "code", "expected"),
    [
        (errors.JournalError(), 2, "journal: error: JournalError"),
        (errors.ConfigError("bad --at 'x'"), 2, "journal: error: bad --at 'x'"),
        (errors.StoreUnavailable("cannot reach"), 2, "journal: error: cannot reach"),
        (errors.SchemaNotReady(), 2, "run: journal migrate"),
        (errors.CircuitBreakerError("api", "OPEN", 3.0), 2, "circuit breaker 'api' is OPEN"),
        (errors.CircuitBreakerError(), 2, "journal: error: CircuitBreakerError"),
        (errors.RetryError("fetch", 3, ValueError("x")), 2, "gave up after 3 attempt(s)"),
        (
            RuntimeError("postgresql://u:pw123456@h/db is odd"),
            1,
            "unexpected RuntimeError: postgresql://u:***REDACTED***@h/db is odd",
        ),
    ],
)
def test_every_error_prints_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    expected: str,
) -> None:
    monkeypatch.setattr(cli, "build_parser", lambda: _failing_parser(exc))
    assert cli.main([]) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert expected in err and "pw123456" not in err
