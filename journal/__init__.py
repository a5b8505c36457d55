"""error-journal: an event-sourced error journal for resilient data collectors."""

from __future__ import annotations

from journal.errors import (
    CircuitBreakerError,
    ConfigError,
    JournalError,
    RetryError,
    SchemaNotReady,
    StoreError,
    StoreUnavailable,
)
from journal.events import (
    BreakerState,
    Event,
    EventError,
    Kind,
    Severity,
    alert_event,
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    retry_event,
)
from journal.redaction import add_secret_key, register_secret

__all__ = [
    "BreakerState",
    "CircuitBreakerError",
    "ConfigError",
    "Event",
    "EventError",
    "JournalError",
    "Kind",
    "RetryError",
    "SchemaNotReady",
    "Severity",
    "StoreError",
    "StoreUnavailable",
    "add_secret_key",
    "alert_event",
    "breaker_event",
    "calls_event",
    "error_event",
    "journal_event",
    "register_secret",
    "retry_event",
]
