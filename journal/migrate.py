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

from journal.config import redact_url
from journal.errors import SchemaNotReady


def _migrations_dir() -> Path:
    # Resolved from our own package, never from the working directory or a top-level
    # `migrations` on sys.path: a user's project often has an Alembic `migrations/` of its own.
    spec = importlib.util.find_spec("journal.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("journal.migrations is missing: reinstall error-journal")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _migrations_dir()
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
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
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
    from journal.store import map_db_error

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:
        raise map_db_error(exc, url) from None
    finally:
        engine.dispose()


def check_migrated(url: str) -> str:
    """Return the head revision if the database is at it; else raise `SchemaNotReady`."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise SchemaNotReady(f"no journal database at {path}")
    head = head_revision()
    current = current_revision(url)
    if current != head:
        raise SchemaNotReady(f"{redact_url(url)} is at {current or 'no revision'}, head is {head}")
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (idempotent)."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_wal(path)
    with _alembic_lock:
        command.upgrade(alembic_config(url), revision)


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


def has_events_table(url: str) -> bool:
    """Does the database have the events table?"""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
