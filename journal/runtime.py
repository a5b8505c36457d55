"""The process-wide journal: one bus that the hot path emits into.

`journal.configure()` (see ``journal/api.py``) attaches the live projections, alert
rules and writer to this bus. Until then events go to whatever is subscribed, or
nowhere: emitting never fails.
"""

from __future__ import annotations

from journal.bus import EventBus
from journal.events import Event

_bus = EventBus()


def get_bus() -> EventBus:
    """The process-wide bus."""
    return _bus


def emit(event: Event) -> None:
    """Publish an event to the process-wide bus (never raises)."""
    _bus.publish(event)
