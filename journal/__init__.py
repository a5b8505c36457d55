"""error-journal: an event-sourced error journal for resilient data collectors."""

from __future__ import annotations

from journal.alerts import AlertConfig, AlertEngine, TypeOverride
from journal.api import (
    Journal,
    configure,
    flush,
    get_error_tracker,
    get_journal,
    record_error,
    shutdown,
)
from journal.breaker import (
    CircuitBreaker,
    CircuitBreakerManager,
    circuit_breaker,
    get_circuit_breaker_manager,
)
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
from journal.projections import JournalSnapshot, JournalState
from journal.redaction import add_secret_key, register_secret
from journal.replay import replay, replay_snapshot
from journal.retry import (
    async_retry_api_call,
    async_retry_db_operation,
    async_retry_with_backoff,
    retry_api_call,
    retry_db_operation,
    retry_with_backoff,
)
from journal.sinks import (
    AlertDispatcher,
    CallableSink,
    EmailSink,
    LoggingSink,
    SlackSink,
    WebhookSink,
)
from journal.store import EventStore
from journal.tracker import ErrorTracker

__all__ = [
    "AlertConfig",
    "AlertDispatcher",
    "AlertEngine",
    "BreakerState",
    "CallableSink",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitBreakerManager",
    "ConfigError",
    "EmailSink",
    "ErrorTracker",
    "Event",
    "EventError",
    "EventStore",
    "Journal",
    "JournalError",
    "JournalSnapshot",
    "JournalState",
    "Kind",
    "LoggingSink",
    "RetryError",
    "SchemaNotReady",
    "Severity",
    "SlackSink",
    "StoreError",
    "StoreUnavailable",
    "TypeOverride",
    "WebhookSink",
    "add_secret_key",
    "alert_event",
    "async_retry_api_call",
    "async_retry_db_operation",
    "async_retry_with_backoff",
    "breaker_event",
    "calls_event",
    "circuit_breaker",
    "configure",
    "error_event",
    "flush",
    "get_circuit_breaker_manager",
    "get_error_tracker",
    "get_journal",
    "journal_event",
    "record_error",
    "register_secret",
    "replay",
    "replay_snapshot",
    "retry_api_call",
    "retry_db_operation",
    "retry_event",
    "retry_with_backoff",
    "shutdown",
]
