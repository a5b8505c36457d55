"""In-process fan-out of events to live projections, alert rules and the writer."""

from __future__ import annotations

import threading
from collections.abc import Callable

from journal.events import Event
from journal.sanitizing.redaction import library_logger

log = library_logger("journal.bus")

Handler = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out. A failing handler is logged and counted, never raised to the publisher."""

    def __init__(self) -> None:
        self._handlers: tuple[Handler, ...] = ()
        self._lock = threading.Lock()
        self.handler_errors = 0

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; returns a function that removes it."""
        with self._lock:
            self._handlers = (*self._handlers, handler)

        def unsubscribe() -> None:
            with self._lock:
                self._handlers = tuple(h for h in self._handlers if h is not handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every handler, in subscription order."""
        for handler in self._handlers:  # a tuple: safe to iterate while others subscribe
            try:
                handler(event)
            except Exception:  # a handler's bug must never reach the hot path
                self.handler_errors += 1
                log.exception("journal: event handler %r failed", handler)
