"""Replay: the state as of any moment, folded from any store with the live projections.

The fold is the live one (`JournalState`), so a replay over the same events in the same
order, with the same bounds (``max_live_types`` and friends), gives the live answer; to
see per-type detail beyond the live bounds, replay a narrower range or pass a state with
larger bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from journal.events import Event, to_us
from journal.projections import JournalSnapshot, JournalState


class EventReader(Protocol):
    """What replay needs of a store."""

    def read(
        self,
        *,
        since: datetime | int | None = ...,
        until: datetime | int | None = ...,
        names: Iterable[str] | None = ...,
        batch_size: int = ...,
    ) -> Iterator[Event]:
        """Events in id order; ``since`` inclusive, ``until`` exclusive."""
        ...


def replay(
    store: EventReader,
    *,
    until: datetime | int | None = None,
    since: datetime | int | None = None,
    names: Iterable[str] | None = None,
    batch_size: int = 10_000,
    state: JournalState | None = None,
) -> JournalState:
    """Fold the events with ``since <= ts < until`` into ``state`` (a new one by default), streaming."""
    state = JournalState() if state is None else state
    apply = state.apply
    filters: dict[str, Any] = {"batch_size": batch_size}
    if until is not None:
        filters["until"] = to_us(until)
    if since is not None:
        filters["since"] = to_us(since)
    if names is not None:
        filters["names"] = list(names)
    for event in store.read(**filters):
        apply(event)
    return state


def replay_snapshot(
    store: EventReader,
    at: datetime | int,
    *,
    batch_size: int = 10_000,
    state: JournalState | None = None,
) -> JournalSnapshot:
    """The snapshot as of ``at``: every event with ``ts <= at`` folded, rates and health at ``at``."""
    at_us = to_us(at)
    return replay(store, until=at_us + 1, batch_size=batch_size, state=state).snapshot(at_us)
