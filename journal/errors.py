"""The journal's own exception hierarchy: raised at the edges with messages a user can act on."""

from __future__ import annotations


class JournalError(Exception):
    """Base of every error the journal raises on purpose."""


class ConfigError(JournalError):
    """Bad configuration or user input (a URL, a time range, an option)."""


class StoreError(JournalError):
    """The event store failed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (connection refused, reset, timed out)."""


class SchemaNotReady(StoreError):
    """The database is reachable but not migrated to the current schema."""

    def __init__(self, detail: str = "") -> None:
        msg = "database is not migrated to the current schema; run: journal migrate"
        super().__init__(f"{msg} ({detail})" if detail else msg)
