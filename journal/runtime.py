"""The process-wide journal: one bus that the hot path emits into.

`journal.configure()` (``journal/api.py``) attaches the live projections, alert
rules and writer to this bus. The first event emitted in a process that never
called `configure()` configures the default journal (``JOURNAL_DB_URL`` or
``sqlite:///journal.db``), as the seed's examples expect. Emitting never fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from journal.bus import EventBus
from journal.events import Event

log = logging.getLogger("journal")

_bus = EventBus()
_autoconfigure: Callable[[], object] | None = None
_configured = False
_lock = threading.Lock()


def get_bus() -> EventBus:
    """The process-wide bus."""
    return _bus


def set_autoconfigure(hook: Callable[[], object] | None) -> None:
    """Install the function that sets up the default journal on first use."""
    global _autoconfigure
    _autoconfigure = hook


def mark_configured(value: bool = True) -> None:
    """Called by `configure()` / `shutdown()`."""
    global _configured
    _configured = value


def is_configured() -> bool:
    """Has a journal been configured in this process?"""
    return _configured


def ensure_configured() -> None:
    """Configure the default journal if nothing has been configured yet."""
    if _configured or _autoconfigure is None:
        return
    with _lock:
        if _configured or _autoconfigure is None:
            return
        try:
            _autoconfigure()
        except Exception:  # journaling must never break the caller
            log.exception("journal: default configuration failed; events stay in memory only")
            mark_configured(True)


def emit(event: Event) -> None:
    """Publish an event to the process-wide bus (never raises)."""
    if not _configured:
        ensure_configured()
    _bus.publish(event)
