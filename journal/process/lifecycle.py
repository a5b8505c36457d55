"""The process-wide journal: ``configure()``, ``flush()``, ``shutdown()``, the seed's entry points.

`Journal` subscribes three things to the process bus: the live projections (folded in the
caller's thread), the background writer, and the alert dispatcher, whose thread evaluates the
alert rules, puts fired alerts back on the bus and delivers them to the sinks.
"""

from __future__ import annotations

import atexit
import dataclasses
import enum
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from journal.events import Event, journal_event, now_us, set_default_source
from journal.process import emitter, forking
from journal.sanitizing.redaction import library_logger
from journal.settings import ENV_SOURCE, hide_password, redact_url, resolve_db_url

if TYPE_CHECKING:  # loaded by the first Journal: the store and writer bring SQLAlchemy and tenacity
    from journal.alerting.rules import AlertConfig
    from journal.alerting.sinks import Sink
    from journal.projections.state import JournalSnapshot
    from journal.resilience.tracker import ErrorTracker

log = library_logger("journal")


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
        max_live_types: int = 1000,
        _hold: str | None = None,
    ) -> None:
        # Imported here, not at module level: `from journal import record_error` stays cheap.
        from journal.alerting.rules import AlertEngine
        from journal.alerting.sinks import AlertDispatcher
        from journal.projections.state import JournalState
        from journal.resilience.tracker import ErrorTracker
        from journal.store.event_store import EventStore
        from journal.writing.spool import default_spool_dir
        from journal.writing.writer import BufferedWriter

        # _hold: no usable database (the reason); events wait in memory for the next configure()
        self.holding = _Holding(max_memory_events, _hold) if _hold is not None else None
        self.closed = False
        self.url = resolve_db_url(db_url) if self.holding is None else "sqlite://"
        self.source = source or os.environ.get(ENV_SOURCE) or None
        set_default_source(self.source)
        self.store = EventStore(self.url)
        self.state = JournalState(max_live_types=max_live_types)
        self.alerts = AlertEngine(alert_config)
        self._lock = threading.Lock()
        self.bus = emitter.get_bus()
        self.dispatcher = AlertDispatcher(
            alert_sinks or (), emit=self.publish, retry_wait=sink_retry_wait, engine=self.alerts
        )
        url = self.url

        def prepare() -> None:
            if auto_migrate:
                from journal.store.migrate import upgrade

                try:
                    upgrade(url)
                except (Exception, SystemExit) as exc:  # a SystemExit must not end the writer
                    from journal.store.event_store import map_db_error

                    raise map_db_error(exc, url) from None

        held = self.holding is not None
        self.writer = BufferedWriter(
            self.holding if self.holding is not None else self.store,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_memory_events=max_memory_events,
            prepare=None if held else prepare,
            emit=self.publish,
            spool_dir=None
            if held
            else (spool_dir if spool_dir is not None else default_spool_dir(self.url)),
        )
        self._unsubscribe = [
            self.bus.subscribe(self._fold),
            self.bus.subscribe(self.writer.submit),
            self.bus.subscribe(self.dispatcher.submit),
        ]
        self.tracker = ErrorTracker(self)

    def publish(self, event: Event) -> None:
        """Put an event on the process bus (projections, alerts, writer); after shutdown, drop it."""
        if self.closed:
            emitter.drop(event)  # counted; reported by the next configure()
            return
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
        """The writer's counters as a dict (with ``held``/``held_dropped`` when no database is usable)."""
        stats = dataclasses.asdict(self.writer.stats())
        if self.holding is not None:
            stats["held"] = len(self.holding.events)
            stats["held_dropped"] = self.holding.dropped
        return stats

    def flush(self, timeout: float = 10.0) -> bool:
        """Emit pending breaker tallies, evaluate and deliver alerts, write everything; True if all was written."""
        from journal.resilience.breaker import get_circuit_breaker_manager

        get_circuit_breaker_manager().flush_tallies()
        self.dispatcher.flush(timeout)  # rules ran, alerts delivered (and published)
        written = self.writer.flush(timeout)
        return written and self.holding is None  # held events have reached no database

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
        if self.holding is not None:
            return f"Journal(<no database: events held in memory>, {self.holding.reason!r})"
        return f"Journal({redact_url(self.url)!r})"


class _Holding:
    """The "store" of a journal without a usable database: events wait here, the oldest dropped
    beyond ``limit``, until the next `configure()` hands them to a real journal."""

    def __init__(self, limit: int, reason: str) -> None:
        self.events: deque[Event] = deque(maxlen=limit)
        self.dropped = 0
        self.reason = reason

    def append(self, events: list[Event]) -> int:
        maxlen = self.events.maxlen or 0
        self.dropped += max(0, len(self.events) + len(events) - maxlen)
        self.events.extend(events)
        return len(events)

    def ping(self) -> None:
        return None

    def take(self) -> tuple[list[Event], int]:
        events, dropped = list(self.events), self.dropped
        self.events.clear()
        self.dropped = 0
        return events, dropped


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET


@dataclasses.dataclass(frozen=True, slots=True)
class JournalSettings:
    """The settings of the process-wide journal; None means the default."""

    db_url: str | None = None
    source: str | None = None
    spool_dir: str | Path | None = None
    alert_config: AlertConfig | None = None
    alert_sinks: tuple[Sink | Callable[[Event], Any], ...] = ()
    auto_migrate: bool = True
    batch_size: int = 500
    flush_interval: float = 0.2
    max_memory_events: int = 100_000
    sink_retry_wait: float = 0.5
    max_live_types: int = 1000

    def merged(self, changes: Mapping[str, Any]) -> JournalSettings:
        """These settings with ``changes`` applied (a None value restores the default)."""
        defaults = JournalSettings()
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if value is None:
                value = getattr(defaults, name)
            elif name == "alert_sinks":
                value = tuple(value)
            values[name] = value
        merged = dataclasses.replace(self, **values)
        if merged.batch_size < 1 or merged.flush_interval <= 0:
            raise ValueError("batch_size >= 1 and flush_interval > 0")
        if merged.max_memory_events < merged.batch_size:
            raise ValueError("max_memory_events >= batch_size")
        return merged


_current: Journal | None = None
_closed: Journal | None = None  # the journal shut down last: its snapshot still reads
_settings = JournalSettings()
# Re-entrant: configure_default() runs configure() under it.
_lock = threading.RLock()
_atexit_registered = False


def configure(
    db_url: str | _Unset | None = UNSET,
    source: str | _Unset | None = UNSET,
    spool_dir: str | Path | _Unset | None = UNSET,
    *,
    alert_config: AlertConfig | _Unset | None = UNSET,
    alert_sinks: Iterable[Sink | Callable[[Event], Any]] | _Unset | None = UNSET,
    auto_migrate: bool | _Unset = UNSET,
    batch_size: int | _Unset = UNSET,
    flush_interval: float | _Unset = UNSET,
    max_memory_events: int | _Unset = UNSET,
    sink_retry_wait: float | _Unset = UNSET,
    max_live_types: int | _Unset = UNSET,
) -> Journal:
    """Set up the process-wide journal. Called again, it changes only the settings it names (None
    restores a default) and replaces the running journal. Default URL: ``JOURNAL_DB_URL`` or
    ``sqlite:///journal.db``; spool directory: ``JOURNAL_SPOOL_DIR``, else beside the SQLite file,
    else the user's data directory. A bad URL raises `ConfigError` and changes nothing."""
    named = {
        "db_url": db_url,
        "source": source,
        "spool_dir": spool_dir,
        "alert_config": alert_config,
        "alert_sinks": alert_sinks,
        "auto_migrate": auto_migrate,
        "batch_size": batch_size,
        "flush_interval": flush_interval,
        "max_memory_events": max_memory_events,
        "sink_retry_wait": sink_retry_wait,
        "max_live_types": max_live_types,
    }
    changes = {name: value for name, value in named.items() if value is not UNSET}
    global _current, _closed, _settings, _atexit_registered
    with _lock:
        settings = _settings.merged(changes)
        # Defaults come from the user's environment, not from what the previous journal exported
        # for its spawned children.
        exported = forking.restore_settings()
        try:
            url = resolve_db_url(settings.db_url)  # a bad URL raises here, before anything stops
        except Exception:
            forking.reexport_settings(exported)
            raise
        old, _current = _current, None
        if old is not None:
            old.shutdown()
        handed: tuple[list[Event], int] = old.holding.take() if old and old.holding else ([], 0)
        try:
            journal = Journal(
                url,
                source=settings.source,
                spool_dir=settings.spool_dir,
                alert_config=settings.alert_config,
                alert_sinks=settings.alert_sinks,
                auto_migrate=settings.auto_migrate,
                batch_size=settings.batch_size,
                flush_interval=settings.flush_interval,
                max_memory_events=settings.max_memory_events,
                sink_retry_wait=settings.sink_retry_wait,
                max_live_types=settings.max_live_types,
            )
        except Exception as exc:
            _hold(f"configure() failed: {exc}", settings)  # the caller's events are kept
            raise
        _current, _closed, _settings = journal, None, settings
        emitter.mark_configured(True)
        forking.configured(journal)  # fork-safe writer; spawned children use the same database
        if not _atexit_registered:
            atexit.register(_shutdown_at_exit)
            _atexit_registered = True
    _report_lost_and_held(journal, handed)
    return journal


def _report_lost_and_held(journal: Journal, handed: tuple[list[Event], int]) -> None:
    dropped = emitter.take_dropped_after_shutdown()
    if dropped:
        journal.publish(
            journal_event(
                "events_dropped_after_shutdown",
                f"{dropped} event(s) emitted after journal.shutdown() were dropped",
                context={"dropped": dropped},
                source=journal.source,
            )
        )
    events, lost = handed
    if events or lost:
        for event in events:  # already evaluated by the alert rules: fold and write only
            journal._fold(event)
            journal.writer.submit(event)
        journal.publish(
            journal_event(
                "held_events_written",
                f"{len(events)} event(s) held in memory without a database were handed over"
                + (f"; {lost} older one(s) were dropped" if lost else ""),
                context={"handed_over": len(events), "dropped": lost},
                source=journal.source,
            )
        )


def _hold(reason: str, settings: JournalSettings) -> Journal:
    """Install a journal without a database (caller holds `_lock`): events wait in memory."""
    global _current
    reason = hide_password(reason)
    log.warning(
        "journal: %s; events are kept in memory (up to %d) until journal.configure() "
        "is given a usable database",
        reason,
        settings.max_memory_events,
    )
    journal = Journal(
        source=settings.source,
        alert_config=settings.alert_config,
        alert_sinks=settings.alert_sinks,
        max_memory_events=settings.max_memory_events,
        batch_size=min(settings.batch_size, settings.max_memory_events),
        flush_interval=settings.flush_interval,
        sink_retry_wait=settings.sink_retry_wait,
        max_live_types=settings.max_live_types,
        _hold=reason,
    )
    _current = journal
    emitter.mark_configured(True)
    return journal


def configure_default() -> None:
    """Set up the default journal on first use. A bad ``JOURNAL_DB_URL`` does not raise: one
    warning, and events wait in memory (bounded) for a `configure()` with a usable URL."""
    with _lock:
        if _current is not None or emitter.phase() != emitter.UNCONFIGURED:
            return
        try:
            configure()
        except Exception as exc:
            if _current is None:
                _hold(f"the default journal could not be configured: {exc}", _settings)


def get_journal() -> Journal:
    """The process-wide journal (configuring the default one on first use; after `shutdown()`,
    the closed journal, which drops and counts what is recorded)."""
    journal = _current
    if journal is not None:
        return journal
    emitter.ensure_configured()
    with _lock:
        if _current is not None:
            return _current
        if _closed is not None:
            return _closed
        return _hold("no journal is configured", _settings)


def flush(timeout: float = 10.0) -> bool:
    """Write everything recorded so far; True if it all reached the store (False after events
    were dropped because the journal was shut down)."""
    journal = _current
    if journal is None:
        return emitter.dropped_after_shutdown() == 0
    return journal.flush(timeout)


def shutdown(timeout: float = 10.0) -> bool:
    """Flush and stop the process-wide journal (also runs at interpreter exit). Events emitted
    afterwards are dropped and counted (one warning) until `configure()` is called again; the
    settings return to their defaults."""
    global _current, _closed, _settings
    with _lock:
        journal = _current
        if journal is None:
            return True
        # Flush while still configured: tallies that the flush emits reach this journal.
        ok = journal.flush(timeout)
        _current, _closed, _settings = None, journal, JournalSettings()
        emitter.mark_configured(False)
        forking.restore_settings()
    ok = journal.shutdown(timeout) and ok
    if journal.holding is not None and journal.holding.events:
        log.warning(
            "journal: %d event(s) held in memory were never written: no usable database (%s)",
            len(journal.holding.events),
            journal.holding.reason,
        )
    return ok


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
    """Record an error in the process-wide journal (the seed's ``record_error``); never raises
    because of the journal's configuration."""
    return get_journal().tracker.record_error(error_type, error, context, severity, name=name)


forking.install()  # fork hooks: a forked child gets its own writer, threads and locks
