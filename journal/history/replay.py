"""Replay: the state as of any moment, folded from any store with the live projections.

The fold is the live one (`JournalState`), so a replay over the same events in the same
order, with the same bounds (``max_live_types`` and friends), gives the live answer; to
see per-type detail beyond the live bounds, replay a narrower range or pass a state with
larger bounds.

From an `EventStore`, a replay of everything up to a cut (no ``since``, no ``names``, a
fresh state) starts from the nearest projection snapshot at or before the cut and folds
only the events after it (`journal.history.snapshots` gives the rule that keeps this exact), so its
cost follows the events after the snapshot, not the journal's age. ``snapshots=`` says
whether to read them and whether to write new ones along the way (`CLI_POLICY`).

A pruned journal (`journal.history.pruning`) starts every such replay from its base snapshot, whatever
the policy says (the base is part of the journal then, not a checkpoint), and refuses a
replay that needs the deleted events (a cut or ``since`` before the prune's cut) with
`journal.history.pruning.PrunedRangeError` rather than answer from part of the journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from journal.events import Event, to_us
from journal.projections.state import JournalSnapshot, JournalState

if TYPE_CHECKING:
    from journal.history.snapshots import SnapshotPolicy


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
    snapshots: SnapshotPolicy | None = None,
) -> JournalState:
    """Fold the events with ``since <= ts < until`` into ``state`` (a new one by default), streaming.

    ``snapshots``: from an `EventStore`, read (default) and/or write projection snapshots
    (`journal.history.snapshots.SnapshotPolicy`); the result is the same either way.
    """
    state = JournalState() if state is None else state
    until_us = None if until is None else to_us(until)
    floor = 0  # a pruned journal: the fold must start from the base, at this id
    from journal.store.event_store import EventStore

    if isinstance(store, EventStore):
        from journal.history.pruning import replay_floor

        floor = replay_floor(store, state, since, until_us, names)  # or PrunedRangeError
    if since is None and names is None and state.events_seen == 0 and _has_snapshots(store):
        from dataclasses import replace

        from journal.history.snapshots import LIBRARY_POLICY

        policy = LIBRARY_POLICY if snapshots is None else snapshots
        if floor:
            policy = replace(policy, read=True)
        if policy.read or policy.write:
            _replay_with_snapshots(store, state, until_us, batch_size, policy, floor)
            return state
    filters: dict[str, Any] = {"batch_size": batch_size}
    if until_us is not None:
        filters["until"] = until_us
    if since is not None:
        filters["since"] = to_us(since)
    if names is not None:
        filters["names"] = list(names)
    state.fold(store.read(**filters))
    return state


def _has_snapshots(store: object) -> bool:
    from journal.store.event_store import EventStore

    return isinstance(store, EventStore)


def _replay_with_snapshots(
    store: Any,
    state: JournalState,
    until_us: int | None,
    batch_size: int,
    policy: SnapshotPolicy,
    floor: int = 0,
) -> None:
    from journal.history.snapshots import Checkpointer, Snapshots, load_nearest, log

    if policy.read:
        # the cut is inclusive here: events with ts < until, i.e. ts <= until - 1
        found = load_nearest(
            store, state.projection_key(), None if until_us is None else until_us - 1
        )
        if found is not None:
            state.assign(found)
    if (state.last_id or 0) < floor:
        from journal.history.pruning import base_unreadable

        raise base_unreadable(floor)
    snaps = Snapshots(store)
    after = state.last_id or 0
    ranges: list[tuple[int, int | None]] = [(after, None)]
    if until_us is not None and policy.read:
        try:
            ranges = snaps.ranges(state.projection_key(), after, until_us - 1)
        except Exception as exc:  # read everything after the snapshot instead
            log.warning("snapshot ranges not read: %s", exc)
    folder = Checkpointer(snaps, state, policy, cut=until_us is not None)
    for lo, hi in ranges:
        filters: dict[str, Any] = {"batch_size": batch_size, "after_id": lo}
        if hi is not None:
            filters["before_id"] = hi + 1
        if until_us is not None:
            filters["until"] = until_us
        folder.fold(store.read(**filters))


def replay_snapshot(
    store: EventReader,
    at: datetime | int,
    *,
    batch_size: int = 10_000,
    state: JournalState | None = None,
    snapshots: SnapshotPolicy | None = None,
) -> JournalSnapshot:
    """The snapshot as of ``at``: every event with ``ts <= at`` folded, rates and health at ``at``."""
    at_us = to_us(at)
    return replay(
        store, until=at_us + 1, batch_size=batch_size, state=state, snapshots=snapshots
    ).snapshot(at_us)
