"""`configure()` semantics: a second call changes only what it names; after `shutdown()` events are
dropped and counted, never sent to another database; a bad ``JOURNAL_DB_URL`` never raises into
the caller."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import journal
from journal.errors import ConfigError
from journal.events import Event
from journal.store.event_store import EventStore


@pytest.fixture
def fresh() -> Iterator[None]:
    journal.shutdown(5)
    yield
    journal.shutdown(5)


def _events(url: str) -> list[Event]:
    with EventStore(url) as store:
        return list(store.read())


def test_second_configure_changes_only_what_it_names(fresh: None, sqlite_url: str) -> None:
    seen: list[Event] = []
    first = journal.configure(sqlite_url, source="collector:7", flush_interval=0.05)
    second = journal.configure(alert_sinks=[seen.append])
    assert second is not first and first.closed
    assert second.url == sqlite_url
    assert second.source == "collector:7"
    assert second.writer.flush_interval == 0.05
    assert [type(s).__name__ for s in first.dispatcher.sinks] == ["LoggingSink"]  # the default
    assert [type(s).__name__ for s in second.dispatcher.sinks] == ["CallableSink"]
    third = journal.configure(source=None)  # None restores the default
    assert third.source is None and third.url == sqlite_url
    assert [type(s).__name__ for s in third.dispatcher.sinks] == ["CallableSink"]


def test_a_bad_url_in_a_second_configure_changes_nothing(fresh: None, sqlite_url: str) -> None:
    first = journal.configure(sqlite_url, source="a:1")
    with pytest.raises(ConfigError, match="bad port"):
        journal.configure("postgresql://u:pw@h:notaport/db")
    assert journal.get_journal() is first and not first.closed


def test_shutdown_forgets_the_settings(fresh: None, sqlite_url: str, tmp_path: Path) -> None:
    journal.configure(sqlite_url, source="a:1")
    journal.shutdown()
    other = f"sqlite:///{tmp_path}/other.db"
    again = journal.configure(other)
    assert again.url == other and again.source is None


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "JOURNAL_DB_URL"}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_events_after_shutdown_are_dropped_counted_and_reported(tmp_path: Path) -> None:
    script = """
        import journal
        journal.configure("sqlite:///first.db", flush_interval=0.05)
        journal.record_error("before", "x")
        journal.shutdown()
        breaker = journal.CircuitBreaker("after", failure_threshold=1)
        for i in range(3):
            journal.record_error("after_shutdown", f"lost {i}")
        try:
            breaker.call(lambda: 1 / 0)
        except ZeroDivisionError:
            pass
        assert journal.flush() is False  # what was dropped never reached a store
        journal.configure("sqlite:///second.db", flush_interval=0.05)
        assert journal.flush()
        journal.shutdown()
    """
    done = _run(script, tmp_path, {})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("after journal.shutdown()") == 1  # warned once
    assert not (tmp_path / "journal.db").exists()  # never a default journal behind our back
    first = _events(f"sqlite:///{tmp_path}/first.db")
    assert [e.name for e in first if e.kind == "error"] == ["before"]
    second = _events(f"sqlite:///{tmp_path}/second.db")
    assert not [e for e in second if e.kind == "error"]
    (report,) = [e for e in second if e.name == "events_dropped_after_shutdown"]
    # three errors, the breaker's failure and its CLOSED -> OPEN transition at least
    assert report.context is not None and report.context["dropped"] >= 5


def test_bad_env_url_never_raises_and_hands_events_over(tmp_path: Path) -> None:
    script = """
        import journal
        event = journal.record_error("api_error", ValueError("boom"))
        tracker = journal.get_error_tracker()
        assert tracker.get_error_summary()["error_counts"] == {"api_error": 1}
        assert journal.flush() is False  # held in memory, not written
        assert journal.get_journal().writer_stats()["held"] == 1
        journal.configure("sqlite:///good.db", flush_interval=0.05)
        assert journal.flush()
        journal.shutdown()
    """
    done = _run(script, tmp_path, {"JOURNAL_DB_URL": "postgresql://u:s3cretpw@host:notaport/db"})
    assert done.returncode == 0, done.stderr
    assert "s3cretpw" not in done.stderr
    assert done.stderr.count("events are kept in memory") == 1
    events = _events(f"sqlite:///{tmp_path}/good.db")
    assert [e.name for e in events if e.kind == "error"] == ["api_error"]
    (handed,) = [e for e in events if e.name == "held_events_written"]
    assert handed.context == {"handed_over": 1, "dropped": 0}


def test_bad_env_url_holds_a_bounded_number_of_events(tmp_path: Path) -> None:
    script = """
        import journal
        from journal.process import lifecycle as api
        api._settings = api._settings.merged({"max_memory_events": 1000, "batch_size": 100})
        for i in range(1500):
            journal.record_error("api_error", f"e{i}")
        journal.get_journal().flush(5)
        stats = journal.get_journal().writer_stats()
        seen = journal.get_error_tracker().snapshot().events_seen
        print(stats["held"], stats["held_dropped"], stats["dropped"], seen)
    """
    done = _run(script, tmp_path, {"JOURNAL_DB_URL": "mysql://u@h/db"})
    assert done.returncode == 0, done.stderr
    held, held_dropped, writer_dropped, seen = map(int, done.stdout.split())
    # Every event (errors, alerts, the writer's own `events_dropped`) is held or counted as
    # dropped, by the holding store or by the writer's memory bound: none vanishes.
    assert held == 1000
    assert seen >= 1500 and held + held_dropped + writer_dropped == seen


def test_held_events_lost_at_shutdown_are_reported(tmp_path: Path) -> None:
    script = """
        import journal
        journal.record_error("api_error", "never written")
        assert journal.shutdown() is False
    """
    done = _run(script, tmp_path, {"JOURNAL_DB_URL": "mysql://u@h/db"})
    assert done.returncode == 0, done.stderr
    assert "1 event(s) held in memory were never written" in done.stderr


def test_a_system_exit_in_the_migration_does_not_end_the_writer(
    fresh: None, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration environment that calls sys.exit() (as a foreign Alembic env.py may) is a
    store problem the writer reports and outlives, not a silent end of its thread."""
    import journal.store.migrate

    def exiting_upgrade(url: str, revision: str = "head") -> None:
        raise SystemExit("env.py exited")

    monkeypatch.setattr(journal.store.migrate, "upgrade", exiting_upgrade)
    j = journal.configure(sqlite_url, flush_interval=0.05)
    journal.record_error("api_error", "kept")
    assert journal.flush(1) is False  # nothing reached the store, and flush says so
    assert j.writer._thread.is_alive()
    assert j.writer.stats().outage  # reported as a store outage, the event kept


def test_max_live_types_bounds_the_live_detail(sqlite_url: str) -> None:
    j = journal.configure(sqlite_url, max_live_types=3, flush_interval=0.05)
    try:
        for i in range(5):
            journal.record_error(f"type_{i}", "boom")
        errors = j.snapshot().errors
        assert list(errors.by_type) == ["type_2", "type_3", "type_4"]  # the least recent left
        assert errors.total == 5 and errors.untracked == 2 and errors.diversity == 5
        assert journal.configure(source="other").state.max_live_types == 3  # kept on reconfigure
    finally:
        journal.shutdown(10)
