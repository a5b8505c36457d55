"""Settings that every command and the library share: the database URL and time ranges."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from journal.errors import ConfigError

DEFAULT_DB_URL = "sqlite:///journal.db"
ENV_DB_URL = "JOURNAL_DB_URL"
ENV_SPOOL_DIR = "JOURNAL_SPOOL_DIR"
ENV_SOURCE = "JOURNAL_SOURCE"

_SUPPORTED = ("sqlite", "postgresql")


def resolve_db_url(url: str | None = None) -> str:
    """``--db URL``, else ``JOURNAL_DB_URL``, else ``sqlite:///journal.db``; validated."""
    chosen = url or os.environ.get(ENV_DB_URL) or DEFAULT_DB_URL
    return validate_db_url(chosen)


def validate_db_url(url: str) -> str:
    """Check that ``url`` is a SQLite or PostgreSQL SQLAlchemy URL; `ConfigError` if not."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"bad database URL {url!r}: expected sqlite:///path/to/file.db "
            "or postgresql://user@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _SUPPORTED:
        raise ConfigError(
            f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}: "
            "use sqlite:/// or postgresql://"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # Pin the driver we ship, so a bare postgresql:// URL works out of the box.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<bad url>"


_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*(ago)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """Parse ISO 8601 (naive = UTC) or a relative form (``15m``, ``2h``, ``7d``, ``now``).

    A relative form means that long before ``now``. Raises `ConfigError` on anything else.
    """
    now = now or datetime.now(timezone.utc)
    raw = text.strip()
    if raw.lower() == "now":
        return now
    m = _REL.match(raw)
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad time {text!r}: use ISO 8601 (2026-11-28T10:30:00Z) or a relative form (15m, 2h, 7d, now)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
