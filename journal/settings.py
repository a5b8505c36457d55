"""Settings that every command and the library share: the database URL (resolved, validated,
redacted). Times and durations people type are `journal.timeparse`."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from journal.errors import ConfigError
from journal.sanitizing.redaction import REDACTED, redact_text

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# SQLAlchemy is imported inside the functions below: `import journal` must stay cheap.

DEFAULT_DB_URL = "sqlite:///journal.db"
ENV_DB_URL = "JOURNAL_DB_URL"
ENV_SPOOL_DIR = "JOURNAL_SPOOL_DIR"
ENV_SOURCE = "JOURNAL_SOURCE"

_EXPECTED = "expected sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
# drivername -> the one we run it with (the store speaks psycopg2 and the stdlib sqlite3)
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",  # the scheme alias many hosts hand out
    "postgres+psycopg2": "postgresql+psycopg2",
}
# scheme://user:password@host -> scheme://user:***REDACTED***@host, also on text SQLAlchemy
# cannot parse; greedy up to the last "@", since a password may hold "@" itself.
# what the stdlib sqlite3 driver takes from a URL's query string (others are silently ignored)
_SQLITE_OPTIONS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements", "uri"}
)
_USERINFO = re.compile(r"://\S*@")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^:/?#@\s]*):\S*@")


def resolve_db_url(url: str | None = None) -> str:
    """``--db URL``, else ``JOURNAL_DB_URL``, else ``sqlite:///journal.db``; validated."""
    if url is not None and not url.strip():
        raise ConfigError(f"empty database URL: {_EXPECTED}")
    chosen = url or os.environ.get(ENV_DB_URL) or DEFAULT_DB_URL
    return validate_db_url(chosen)


def hide_password(text: str) -> str:
    """``text`` with any URL password hidden and known secrets redacted."""
    return redact_text(_URL_PASSWORD.sub(rf"\g<head>:{REDACTED}@", text))


def validate_db_url(url: str) -> str:
    """Check that ``url`` is a SQLite or PostgreSQL URL we can run; `ConfigError` if not.

    Returns the URL with the driver pinned (``postgres://`` and ``postgresql://`` become
    ``postgresql+psycopg2://``). Error messages never carry the password.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    # A URL that does not parse may hold a password anywhere before the host: hide all of it.
    shown = hide_password(_USERINFO.sub(rf"://{REDACTED}@", url.strip()))
    if not url.strip():
        raise ConfigError(f"empty database URL: {_EXPECTED}")
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ConfigError(f"bad database URL {shown!r}: {_EXPECTED}") from None
    except ValueError:  # SQLAlchemy parses the port with int()
        raise ConfigError(f"bad port in database URL {shown!r}: the port is a number") from None
    shown = _render(parsed)
    backend = parsed.get_backend_name()
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        if backend in ("sqlite", "postgresql", "postgres"):
            raise ConfigError(
                f"unsupported driver {parsed.get_driver_name()!r} in {shown}: "
                "use sqlite:/// or postgresql:// (psycopg2)"
            )
        raise ConfigError(
            f"unsupported database {backend!r} in {shown}: use sqlite:/// or postgresql://"
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ConfigError(f"bad port {parsed.port} in database URL {shown}: use 1..65535")
    if driver == "sqlite" and (parsed.host or parsed.username or parsed.password or parsed.port):
        raise ConfigError(
            f"bad SQLite URL {shown}: a SQLite URL has no host or user; "
            "use sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    unknown = sorted(set(parsed.query) - _SQLITE_OPTIONS) if driver == "sqlite" else []
    if unknown:
        raise ConfigError(
            f"unknown SQLite URL option(s) {', '.join(unknown)} in {shown}: "
            f"known are {', '.join(sorted(_SQLITE_OPTIONS))}"
        )
    if driver.startswith("postgresql"):
        if not parsed.database:
            raise ConfigError(f"no database name in {shown}: postgresql://user@host:5432/dbname")
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def is_memory_url(url: str) -> bool:
    """Is ``url`` an in-memory SQLite database (gone when the process ends)?"""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:")


def _render(parsed: URL) -> str:
    return hide_password(parsed.render_as_string(hide_password=True))


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return _render(make_url(url))
    except (ArgumentError, ValueError):
        return hide_password(url) if url.strip() else "<empty url>"


def command_db_url(raw: str | None) -> str:
    """The validated URL of a command (``--db``, else ``JOURNAL_DB_URL``, else the default);
    an in-memory database is refused (it holds nothing once the command ends)."""
    url = resolve_db_url(raw)
    if is_memory_url(url):
        raise ConfigError(
            f"{redact_url(url)} is an in-memory database, gone when the command ends: "
            "give a file (sqlite:///journal.db) or a PostgreSQL URL"
        )
    return url
