"""error-journal: an event-sourced error journal for resilient data collectors.

`import journal` is cheap: the public names below are loaded on first use (PEP 562), so a
program that only imports the package pays for SQLAlchemy, tenacity or Rich when it uses
what needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy and IDEs see; at run time `__getattr__` below loads them
    from journal.alerting.rules import (
        AlertConfig,
        AlertEngine,
        TypeOverride,
    )
    from journal.alerting.sinks import (
        AlertDispatcher,
        CallableSink,
        EmailSink,
        LoggingSink,
        SlackSink,
        WebhookSink,
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
    from journal.history.replay import (
        replay,
        replay_snapshot,
    )
    from journal.process.lifecycle import (
        Journal,
        configure,
        flush,
        get_error_tracker,
        get_journal,
        record_error,
        shutdown,
    )
    from journal.projections.state import (
        JournalSnapshot,
        JournalState,
    )
    from journal.resilience.breaker import (
        CircuitBreaker,
        CircuitBreakerManager,
        circuit_breaker,
        get_circuit_breaker_manager,
    )
    from journal.resilience.retry import (
        async_retry_api_call,
        async_retry_db_operation,
        async_retry_with_backoff,
        retry_api_call,
        retry_db_operation,
        retry_with_backoff,
    )
    from journal.resilience.tracker import (
        ErrorTracker,
    )
    from journal.sanitizing.redaction import (
        add_secret_key,
        register_secret,
    )
    from journal.store.event_store import (
        EventStore,
    )

# public name -> the module that defines it
_LAZY: dict[str, str] = {
    "add_secret_key": "journal.sanitizing.redaction",
    "alert_event": "journal.events",
    "AlertConfig": "journal.alerting.rules",
    "AlertDispatcher": "journal.alerting.sinks",
    "AlertEngine": "journal.alerting.rules",
    "async_retry_api_call": "journal.resilience.retry",
    "async_retry_db_operation": "journal.resilience.retry",
    "async_retry_with_backoff": "journal.resilience.retry",
    "breaker_event": "journal.events",
    "BreakerState": "journal.events",
    "CallableSink": "journal.alerting.sinks",
    "calls_event": "journal.events",
    "circuit_breaker": "journal.resilience.breaker",
    "CircuitBreaker": "journal.resilience.breaker",
    "CircuitBreakerError": "journal.errors",
    "CircuitBreakerManager": "journal.resilience.breaker",
    "ConfigError": "journal.errors",
    "configure": "journal.process.lifecycle",
    "EmailSink": "journal.alerting.sinks",
    "error_event": "journal.events",
    "ErrorTracker": "journal.resilience.tracker",
    "Event": "journal.events",
    "EventError": "journal.events",
    "EventStore": "journal.store.event_store",
    "flush": "journal.process.lifecycle",
    "get_circuit_breaker_manager": "journal.resilience.breaker",
    "get_error_tracker": "journal.process.lifecycle",
    "get_journal": "journal.process.lifecycle",
    "Journal": "journal.process.lifecycle",
    "journal_event": "journal.events",
    "JournalError": "journal.errors",
    "JournalSnapshot": "journal.projections.state",
    "JournalState": "journal.projections.state",
    "Kind": "journal.events",
    "LoggingSink": "journal.alerting.sinks",
    "record_error": "journal.process.lifecycle",
    "register_secret": "journal.sanitizing.redaction",
    "replay": "journal.history.replay",
    "replay_snapshot": "journal.history.replay",
    "retry_api_call": "journal.resilience.retry",
    "retry_db_operation": "journal.resilience.retry",
    "retry_event": "journal.events",
    "retry_with_backoff": "journal.resilience.retry",
    "RetryError": "journal.errors",
    "SchemaNotReady": "journal.errors",
    "Severity": "journal.events",
    "shutdown": "journal.process.lifecycle",
    "SlackSink": "journal.alerting.sinks",
    "StoreError": "journal.errors",
    "StoreUnavailable": "journal.errors",
    "TypeOverride": "journal.alerting.rules",
    "WebhookSink": "journal.alerting.sinks",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'journal' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package module, so that ``journal.replay`` stays the function of that name."""

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule binds it to the package's attribute of the same name; the public
        # function ``replay`` shares its name with ``journal.replay``, and wins, as it did when
        # this package imported everything eagerly.
        if isinstance(value, types.ModuleType) and name in _LAZY:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
