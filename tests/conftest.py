"""Shared fixtures: a real SQLite file per test, a throwaway PostgreSQL schema per test.

PostgreSQL is found through JOURNAL_TEST_PG_URL. Without it, PG tests skip with a
reason; with JOURNAL_REQUIRE_PG=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

PG_ENV = "JOURNAL_TEST_PG_URL"


def _require_pg() -> bool:
    return os.environ.get("JOURNAL_REQUIRE_PG") == "1"


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if _require_pg():
            pytest.fail(f"JOURNAL_REQUIRE_PG=1 but {PG_ENV} is not set")
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/test)"
        )
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg2")
    return u.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (per xdist worker)."""
    base = _pg_base_url()
    admin = create_engine(base, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name = f"journal_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable or refused
        admin.dispose()
        msg = f"PostgreSQL at {make_url(base).render_as_string(hide_password=True)} is unreachable: {exc}"
        if _require_pg():
            pytest.fail(msg)
        pytest.skip(msg)
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A fresh, empty schema in the session's PostgreSQL database, as the URL's search_path."""
    schema = f"s_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    """A SQLite file in the test's temporary folder (not yet created or migrated)."""
    return f"sqlite:///{os.fspath(tmp_path)}/journal.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on a SQLite file and on PostgreSQL (not yet migrated)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """`db_url`, upgraded to the head revision."""
    from journal.store.migrate import upgrade

    upgrade(db_url)
    return db_url


@pytest.fixture(autouse=True, scope="session")
def _default_journal_in_a_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Code that emits without configuring gets a default journal: keep it out of the repo."""
    folder = tmp_path_factory.mktemp("default_journal")
    old = os.environ.get("JOURNAL_DB_URL")
    os.environ["JOURNAL_DB_URL"] = f"sqlite:///{folder}/journal.db"
    yield
    import journal

    journal.shutdown(5)
    if old is None:
        os.environ.pop("JOURNAL_DB_URL", None)
    else:
        os.environ["JOURNAL_DB_URL"] = old


@pytest.fixture
def configured(migrated_url: str) -> Iterator[object]:
    """The process-wide journal on a fresh database (both dialects), shut down afterwards."""
    import journal

    j = journal.configure(migrated_url, source="test:1", flush_interval=0.05, sink_retry_wait=0.0)
    yield j
    journal.shutdown(10)
