"""The process-wide journal: ``configure()``, ``flush()``, ``shutdown()``, the seed's entry points.

`Journal` subscribes three things to the process bus: the live projections (folded in the
caller's thread), the background writer, and the alert dispatcher, whose thread evaluates the
alert rules, puts fired alerts back on the bus and delivers them to the sinks.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from journal import runtime
from journal.alerts import AlertConfig, AlertEngine
from journal.config import ENV_SOURCE, redact_url, resolve_db_url
from journal.events import Event, now_us, set_default_source
from journal.projections import JournalSnapshot, JournalState
from journal.sinks import AlertDispatcher, Sink
from journal.spool import default_spool_dir
from journal.store import EventStore
from journal.tracker import ErrorTracker
from journal.writer import BufferedWriter

log = logging.getLogger("journal")


class Journal:
    """One configured journal: store, writer, live projections, alert rules and sinks."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        source: str | None = None,
        spool_dir: str | Path | None = None,
        alert_config: AlertConfig | None = None,
        alert_sinks: Iterable[Sink | Callable[[Event], Any]] | None = None,
        auto_migrate: bool = True,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_memory_events: int = 100_000,
        sink_retry_wait: float = 0.5,
    ) -> None:
        self.url = resolve_db_url(db_url)
        self.source = source or os.environ.get(ENV_SOURCE) or None
        set_default_source(self.source)
        self.store = EventStore(self.url)
        self.state = JournalState()
        self.alerts = AlertEngine(alert_config)
        self._lock = threading.Lock()
        self.bus = runtime.get_bus()
        self.dispatcher = AlertDispatcher(
            alert_sinks or (), emit=self.publish, retry_wait=sink_retry_wait, engine=self.alerts
        )
        url = self.url

        def prepare() -> None:
            if auto_migrate:
                from journal.migrate import upgrade

                try:
                    upgrade(url)
                except Exception as exc:
                    from journal.store import map_db_error

                    raise map_db_error(exc, url) from None

        self.writer = BufferedWriter(
            self.store,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_memory_events=max_memory_events,
            prepare=prepare,
            emit=self.publish,
            spool_dir=spool_dir if spool_dir is not None else default_spool_dir(self.url),
        )
        self._unsubscribe = [
            self.bus.subscribe(self._fold),
            self.bus.subscribe(self.writer.submit),
            self.bus.subscribe(self.dispatcher.submit),
        ]
        self.tracker = ErrorTracker(self)
        self.closed = False

    def publish(self, event: Event) -> None:
        """Put an event on the process bus (projections, alerts, writer)."""
        self.bus.publish(event)

    def _fold(self, event: Event) -> None:
        with self._lock:
            self.state.apply(event)

    def snapshot(self, at: int | None = None) -> JournalSnapshot:
        """The live projections as of ``at`` (default: now)."""
        at = now_us() if at is None else at
        # The fold lock covers only a bounded copy; sorting and assembling happen outside,
        # so a dashboard polling during an error storm does not stall record_error.
        with self._lock:
            parts = self.state.capture(at)
        return parts.build()

    def writer_stats(self) -> dict[str, Any]:
        """The writer's counters as a dict."""
        return dataclasses.asdict(self.writer.stats())

    def flush(self, timeout: float = 10.0) -> bool:
        """Emit pending breaker tallies, evaluate and deliver alerts, write everything; True if all was written."""
        from journal.breaker import get_circuit_breaker_manager

        get_circuit_breaker_manager().flush_tallies()
        self.dispatcher.flush(timeout)  # rules ran, alerts delivered (and published)
        return self.writer.flush(timeout)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Flush with a deadline, then stop the threads and detach from the bus."""
        if self.closed:
            return True
        ok = self.flush(timeout)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.dispatcher.close(timeout)
        ok = self.writer.close(timeout) and ok
        self.store.close()
        self.closed = True
        return ok

    def __repr__(self) -> str:
        return f"Journal({redact_url(self.url)!r})"


_current: Journal | None = None
_lock = threading.Lock()
_atexit_registered = False


def configure(
    db_url: str | None = None,
    source: str | None = None,
    spool_dir: str | Path | None = None,
    *,
    alert_config: AlertConfig | None = None,
    alert_sinks: Iterable[Sink | Callable[[Event], Any]] | None = None,
    **options: Any,
) -> Journal:
    """Set up the process-wide journal (replacing any previous one). Default URL: ``JOURNAL_DB_URL``
    or ``sqlite:///journal.db``; spool directory: ``JOURNAL_SPOOL_DIR``, else beside the SQLite
    file, else the user's data directory. Options: ``auto_migrate``, ``batch_size``, ``flush_interval``,
    ``max_memory_events``, ``sink_retry_wait``."""
    global _current, _atexit_registered
    with _lock:
        old, _current = _current, None
        if old is not None:
            old.shutdown()
        journal = Journal(
            db_url,
            source=source,
            spool_dir=spool_dir,
            alert_config=alert_config,
            alert_sinks=alert_sinks,
            **options,
        )
        _current = journal
        runtime.mark_configured(True)
        if not _atexit_registered:
            atexit.register(_shutdown_at_exit)
            _atexit_registered = True
    return journal


def get_journal() -> Journal:
    """The process-wide journal (configuring the default one on first use)."""
    if _current is None:
        runtime.ensure_configured()
    if _current is None:
        return configure()
    return _current


def flush(timeout: float = 10.0) -> bool:
    """Write everything recorded so far; True if it all reached the store."""
    return _current.flush(timeout) if _current is not None else True


def shutdown(timeout: float = 10.0) -> bool:
    """Flush and stop the process-wide journal (also runs at interpreter exit)."""
    global _current
    with _lock:
        journal, _current = _current, None
        runtime.mark_configured(False)
    return journal.shutdown(timeout) if journal is not None else True


def _shutdown_at_exit() -> None:
    try:
        shutdown(5.0)
    except Exception:
        log.exception("journal: shutdown at exit failed")


def get_error_tracker() -> ErrorTracker:
    """The tracker of the process-wide journal."""
    return get_journal().tracker


def record_error(
    error_type: str,
    error: BaseException | str | None,
    context: Mapping[str, Any] | None = None,
    severity: str = "ERROR",
    *,
    name: str | None = None,
) -> Event:
    """Record an error in the process-wide journal (the seed's ``record_error``)."""
    return get_journal().tracker.record_error(error_type, error, context, severity, name=name)


runtime.set_autoconfigure(configure)
