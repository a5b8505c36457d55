"""Schema migrations through Alembic, with the URL from journal settings."""

from __future__ import annotations

import importlib.util
import io
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool
from sqlalchemy.engine import make_url

from journal.errors import ConfigError, SchemaNotReady, StoreError
from journal.settings import redact_url


def _migrations_dir() -> Path:
    # Resolved from our own package, never from the working directory or a top-level
    # `migrations` on sys.path: a user's project often has an Alembic `migrations/` of its own.
    spec = importlib.util.find_spec("journal.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("journal.migrations is missing: reinstall error-journal")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _migrations_dir()
EVENTS_REVISION = "0001_events"  # creates the events table: undoing it loses every event
MARKET_REVISION = "0003_market_data"  # creates the market tables: undoing it loses their rows
MARKET_TABLES = ("candles", "open_interest", "funding_rates", "trader_ratios")
# Alembic keeps its migration context in module globals: one command at a time per process
# (a writer thread auto-migrating must not meet a `journal migrate` in another thread).
_alembic_lock = threading.RLock()


def alembic_config(url: str, output_buffer: io.StringIO | None = None) -> Config:
    """An Alembic config for ``url`` that works from any working directory."""
    cfg = Config(output_buffer=output_buffer)
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    return cfg


def head_revision() -> str:
    """The newest revision in ``migrations/versions``."""
    head = _script().get_current_head()
    assert head is not None
    return head


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None: not migrated). Driver errors are mapped."""
    from journal.store.event_store import map_db_error

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:
        raise map_db_error(exc, url) from None
    finally:
        engine.dispose()


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def check_known(url: str, current: str | None) -> None:
    """Raise `StoreError` if the database is at a revision this software does not know."""
    if current is None:
        return
    try:
        _script().get_revision(current)
    except Exception:  # alembic's CommandError / ResolutionError: not one of ours
        raise StoreError(
            f"{redact_url(url)} is at schema revision {current!r}, which this software does not "
            f"know: the database is newer than this error-journal (newest known: "
            f"{head_revision()}); upgrade error-journal"
        ) from None


def downgrade_plan(url: str, current: str | None, target: str) -> list[str]:
    """The revisions a downgrade from ``current`` to ``target`` would undo, newest first.

    `ConfigError` if ``target`` is not a revision below ``current``.
    """
    if target in ("head", "heads"):
        raise ConfigError(
            f"cannot downgrade to {target!r}: a downgrade goes to an older revision "
            "(a revision id, -1 or base)"
        )
    if current is None:
        return []
    try:
        # alembic's own resolution (relative forms such as -1 included)
        steps = _script()._downgrade_revs(target, current)
    except Exception as exc:
        raise ConfigError(f"cannot downgrade {redact_url(url)} to {target!r}: {exc}") from None
    return [str(getattr(step.revision, "revision", step.revision)) for step in steps]


def check_migrated(url: str) -> str:
    """Return the head revision if the database is at it; else raise `SchemaNotReady`."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise SchemaNotReady(f"no journal database at {path}")
    head = head_revision()
    current = current_revision(url)
    check_known(url, current)
    if current != head:
        raise SchemaNotReady(f"{redact_url(url)} is at {current or 'no revision'}, head is {head}")
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (idempotent; serialised across processes on SQLite)."""
    import fcntl
    import os

    path = sqlite_path(url)
    if path is None:
        with _alembic_lock:
            command.upgrade(alembic_config(url), revision)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Several processes starting on a fresh file would each see "not migrated" and race to
    # CREATE TABLE: a file lock beside the database makes the second one find it at head.
    fd = os.open(f"{path}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _sqlite_wal(path)
        with _alembic_lock:
            command.upgrade(alembic_config(url), revision)
    finally:
        os.close(fd)  # releases the lock


def _sqlite_wal(path: Path) -> None:
    """Put a SQLite journal in WAL mode (persistent in the file) so readers never block writers."""
    import sqlite3

    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url``."""
    with _alembic_lock:
        command.downgrade(alembic_config(url), revision)


def offline_sql(url: str, revision: str = "head") -> str:
    """The SQL that upgrading to ``revision`` would run, for the URL's dialect; touches no database."""
    buf = io.StringIO()
    with _alembic_lock:
        command.upgrade(alembic_config(url, output_buffer=buf), revision, sql=True)
    return buf.getvalue()


def market_row_count(url: str) -> int:
    """Rows in the market tables that exist (0 when there are none)."""
    from sqlalchemy import inspect, text

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return sum(
                int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in MARKET_TABLES
                if t in present
            )
    finally:
        engine.dispose()


def has_events_table(url: str) -> bool:
    """Does the database have the events table?"""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
