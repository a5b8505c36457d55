"""The process-wide journal: one bus that the hot path emits into, and the journal's life phase.

`journal.configure()` (``journal/process/lifecycle.py``) attaches the live projections, alert rules and
writer to this bus. The life of the process-wide journal has three phases:

- **unconfigured**: the first event configures the default journal (``JOURNAL_DB_URL`` or
  ``sqlite:///journal.db``), as the seed's examples expect. ``journal.process.lifecycle`` is found lazily,
  so importing the hot path loads no store.
- **configured**: events go to the bus.
- **shut down** (after `journal.shutdown()`): events are dropped, counted, and one warning is
  logged; they never reach a journal configured behind the caller's back. The next explicit
  `configure()` records the count as a ``journal`` event ``events_dropped_after_shutdown``.

Emitting never fails.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

from journal.events import Event
from journal.process.bus import EventBus
from journal.sanitizing.redaction import library_logger

log = library_logger("journal")

UNCONFIGURED = "unconfigured"
CONFIGURED = "configured"
SHUT_DOWN = "shut down"

_bus = EventBus()
_autoconfigure: Callable[[], object] | None = None
_phase = UNCONFIGURED
_configure_lock = threading.Lock()  # one default configuration at a time
_drop_lock = threading.Lock()
_dropped = 0
_drop_warned = False


def get_bus() -> EventBus:
    """The process-wide bus."""
    return _bus


def set_autoconfigure(hook: Callable[[], object] | None) -> None:
    """Replace the function that sets up the default journal on first use (None: the default,
    ``journal.process.lifecycle.configure_default``)."""
    global _autoconfigure
    _autoconfigure = hook


def mark_configured(value: bool = True) -> None:
    """Called by `configure()` (True) and by `shutdown()` (False: the shut-down phase)."""
    global _phase
    _phase = CONFIGURED if value else SHUT_DOWN


def reset() -> None:
    """Back to the unconfigured phase, with no drop count (for tests and forked children)."""
    global _phase, _dropped, _drop_warned
    _phase = UNCONFIGURED
    _dropped = 0
    _drop_warned = False


def phase() -> str:
    """``unconfigured``, ``configured`` or ``shut down``."""
    return _phase


def is_configured() -> bool:
    """Is a journal configured in this process right now?"""
    return _phase == CONFIGURED


def is_shut_down() -> bool:
    """Was the journal shut down (and not configured again since)?"""
    return _phase == SHUT_DOWN


def dropped_after_shutdown() -> int:
    """Events dropped since the journal was shut down."""
    return _dropped


def take_dropped_after_shutdown() -> int:
    """The drop count, reset to zero (read by the next `configure()`)."""
    global _dropped, _drop_warned
    with _drop_lock:
        count, _dropped, _drop_warned = _dropped, 0, False
    return count


def drop(event: Event) -> None:
    """Count an event emitted after shutdown; warn once."""
    global _dropped, _drop_warned
    with _drop_lock:
        _dropped += 1
        warn = not _drop_warned
        _drop_warned = True
    if warn:
        log.warning(
            "journal: an event (%s %s) was emitted after journal.shutdown(): events are dropped "
            "and counted until journal.configure() is called again",
            event.kind,
            event.name,
        )


def ensure_configured() -> None:
    """Configure the default journal if nothing has been configured yet (never raises)."""
    if _phase != UNCONFIGURED:
        return
    with _configure_lock:
        if _phase != UNCONFIGURED:
            return
        hook = _autoconfigure
        try:
            if hook is None:
                hook = importlib.import_module("journal.process.lifecycle").configure_default
            hook()
        except Exception:  # journaling must never break the caller; the hook should not fail
            log.exception("journal: default configuration failed; events are not journaled")
            mark_configured(True)  # do not retry on every event


def emit(event: Event) -> None:
    """Publish an event to the process-wide bus (never raises)."""
    if _phase != CONFIGURED:
        if _phase == UNCONFIGURED:
            ensure_configured()
        if _phase == SHUT_DOWN:
            drop(event)
            return
    _bus.publish(event)
