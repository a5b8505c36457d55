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
    from journal.alerts import (
        AlertConfig,
        AlertEngine,
        TypeOverride,
    )
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
    from journal.projections import (
        JournalSnapshot,
        JournalState,
    )
    from journal.redaction import (
        add_secret_key,
        register_secret,
    )
    from journal.replay import (
        replay,
        replay_snapshot,
    )
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
    from journal.store import (
        EventStore,
    )
    from journal.tracker import (
        ErrorTracker,
    )

# public name -> the module that defines it
_LAZY: dict[str, str] = {
    "add_secret_key": "journal.redaction",
    "alert_event": "journal.events",
    "AlertConfig": "journal.alerts",
    "AlertDispatcher": "journal.sinks",
    "AlertEngine": "journal.alerts",
    "async_retry_api_call": "journal.retry",
    "async_retry_db_operation": "journal.retry",
    "async_retry_with_backoff": "journal.retry",
    "breaker_event": "journal.events",
    "BreakerState": "journal.events",
    "CallableSink": "journal.sinks",
    "calls_event": "journal.events",
    "circuit_breaker": "journal.breaker",
    "CircuitBreaker": "journal.breaker",
    "CircuitBreakerError": "journal.errors",
    "CircuitBreakerManager": "journal.breaker",
    "ConfigError": "journal.errors",
    "configure": "journal.api",
    "EmailSink": "journal.sinks",
    "error_event": "journal.events",
    "ErrorTracker": "journal.tracker",
    "Event": "journal.events",
    "EventError": "journal.events",
    "EventStore": "journal.store",
    "flush": "journal.api",
    "get_circuit_breaker_manager": "journal.breaker",
    "get_error_tracker": "journal.api",
    "get_journal": "journal.api",
    "Journal": "journal.api",
    "journal_event": "journal.events",
    "JournalError": "journal.errors",
    "JournalSnapshot": "journal.projections",
    "JournalState": "journal.projections",
    "Kind": "journal.events",
    "LoggingSink": "journal.sinks",
    "record_error": "journal.api",
    "register_secret": "journal.redaction",
    "replay": "journal.replay",
    "replay_snapshot": "journal.replay",
    "retry_api_call": "journal.retry",
    "retry_db_operation": "journal.retry",
    "retry_event": "journal.events",
    "retry_with_backoff": "journal.retry",
    "RetryError": "journal.errors",
    "SchemaNotReady": "journal.errors",
    "Severity": "journal.events",
    "shutdown": "journal.api",
    "SlackSink": "journal.sinks",
    "StoreError": "journal.errors",
    "StoreUnavailable": "journal.errors",
    "TypeOverride": "journal.alerts",
    "WebhookSink": "journal.sinks",
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
