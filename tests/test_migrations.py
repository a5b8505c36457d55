"""Alembic migrations on both dialects: up, down, up again, no drift, offline SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from journal.store.migrate import current_revision, downgrade, head_revision, offline_sql, upgrade
from journal.store.schema import metadata

ROOT = Path(__file__).resolve().parent.parent


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert {"events", "snapshots"} <= _tables(db_url)
    upgrade(db_url)  # idempotent
    assert current_revision(db_url) == head_revision()
    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    assert not {"events", "snapshots"} & _tables(db_url)
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()


def test_metadata_and_migrations_do_not_drift(migrated_url: str) -> None:
    engine = create_engine(migrated_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_offline_sql_touches_no_database(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    sql = offline_sql(f"sqlite:///{db}")
    assert "CREATE TABLE events" in sql and "INTEGER NOT NULL" in sql
    assert not db.exists()
    pg = offline_sql("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    assert "CREATE TABLE events" in pg and "JSONB" in pg and "BIGSERIAL" in pg.upper()


def test_alembic_upgrade_head_from_the_repo_root_uses_journal_db_url(tmp_path: Path) -> None:
    db = tmp_path / "alembic.db"
    env = {**os.environ, "JOURNAL_DB_URL": f"sqlite:///{db}"}
    alembic = Path(sys.executable).parent / "alembic"
    done = subprocess.run(
        [str(alembic), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert current_revision(f"sqlite:///{db}") == head_revision()
