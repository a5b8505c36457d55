"""Projection snapshots (checkpoints): the folded state at an event id, so replay starts near the cut.

A snapshot row holds `JournalState.to_state`, zlib-compressed JSON, for the events with
``id <= last_event_id`` folded in id order (all of them, and no other), with ``at_ts`` the
newest ``ts`` among them and ``projection_version`` the state's `JournalState.projection_key`
(code version and bounds). Snapshots are derived data: dropping them changes no answer.

**The rule that keeps replay exact.** A full replay as of ``at`` folds, in id order, the
events with ``ts <= at``. Events come in id order but their ``ts`` need not be (sources,
spool drains, late events): a snapshot can hold an event with ``ts > at`` although its
``last_event_id`` lies before events with ``ts <= at``. Hence ``at_ts``, the *newest* ``ts``
folded (not the last event's): a snapshot with ``at_ts <= at`` holds only events with
``ts <= at`` and, being a whole id prefix, every one of those with ``id <= last_event_id``.
Folding after it the events with ``id > last_event_id`` and ``ts <= at``, in id order,
therefore folds exactly the full replay's events in the full replay's order. Replay as of
``at`` uses, of the snapshots with its projection key and ``at_ts <= at``, the one with the
largest ``last_event_id``; a snapshot with ``at_ts > at`` is never used for ``at``.

**Skipping what lies after the cut.** The events after the snapshot with ``ts <= at`` can
sit anywhere up to the end of the journal (a late event), so a plain read would scan to the
end. Each row also records ``from_event_id`` (the state it was folded from) and ``min_ts``,
the oldest ``ts`` among the events ``from_event_id < id <= last_event_id``: a range whose
``min_ts > at`` holds no event of the replay and is not read (`Snapshots.ranges`); a range
is only skipped while the event at its ``last_event_id`` is still the one it folded. So a
replay as of ``at`` reads the ranges around ``at`` and the tail after the newest snapshot.

- A snapshot of another projection key (other code, other bounds) is never loaded: the
  state is rebuilt by folding, and new snapshots are written under the current key.
- A snapshot that fails to decompress, decode or rebuild is skipped with a warning (the next
  older one is tried); so is one whose ``last_event_uuid`` is no longer the ``event_id`` at
  ``last_event_id`` (the journal was rewritten, ids reused).
- Writing: during a replay with ``SnapshotPolicy(write=True)`` (`CLI_POLICY`), every
  ``every_events`` events folded, or ``every_us`` of event time with at least ``min_events``
  folded, since the last snapshot; only while the fold is a whole id prefix (a replay cut at
  ``until`` checks that no event was filtered out so far, with one count on the id range).
  `journal snapshot` folds from the newest snapshot to the end and writes one.
- A failure to read or write snapshots never fails the replay: it warns and folds from
  the events alone.
- **Base snapshots** (`journal.history.pruning`): after ``journal prune`` the events folded into the
  base are gone, so its ``last_event_uuid`` holds `BASE_MARK` and the cut instead of an
  event's id; it is trusted without its event, never dropped by `Snapshots.prune`, and no
  snapshot folded from before it is written (a replay that ran while events were deleted).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from journal.events import Event
from journal.projections.state import JournalState
from journal.sanitizing.redaction import library_logger
from journal.store.event_store import EventStore, map_db_error
from journal.store.schema import events as events_table
from journal.store.schema import snapshots as snapshots_table

log = library_logger("journal.snapshots")

MINUTE_US = 60_000_000
SNAPSHOT_EVERY_EVENTS = 5_000
SNAPSHOT_EVERY_US = 60 * MINUTE_US
SNAPSHOT_MIN_EVENTS = 2_500
_CANDIDATES = 8  # snapshots tried, newest first, before folding from the start
BASE_MARK = "prune-cut:"  # last_event_uuid of a base snapshot: the mark, then the cut (us)


def is_base(last_event_uuid: str | None) -> bool:
    """Is this the ``last_event_uuid`` of a base snapshot (the state of pruned events)?"""
    return last_event_uuid is not None and last_event_uuid.startswith(BASE_MARK)


@dataclass(frozen=True, slots=True)
class SnapshotPolicy:
    """Whether replay reads and writes snapshots, and how often it writes them."""

    read: bool = True
    write: bool = False
    every_events: int = SNAPSHOT_EVERY_EVENTS
    every_us: int = SNAPSHOT_EVERY_US
    min_events: int = SNAPSHOT_MIN_EVENTS


LIBRARY_POLICY = SnapshotPolicy()  # read, never write: a library replay changes nothing
CLI_POLICY = SnapshotPolicy(write=True)  # commands that replay leave checkpoints behind
NO_SNAPSHOTS = SnapshotPolicy(read=False, write=False)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One snapshot row, without its state."""

    id: int
    projection_version: str
    last_event_id: int
    at_ts: int
    events_seen: int
    created_at: int
    bytes: int


_INFO_COLUMNS = (
    snapshots_table.c.id,
    snapshots_table.c.projection_version,
    snapshots_table.c.last_event_id,
    snapshots_table.c.at_ts,
    snapshots_table.c.events_seen,
    snapshots_table.c.created_at,
    snapshots_table.c.bytes,
)


def encode_state(state: JournalState) -> bytes:
    """The snapshot blob: zlib-compressed compact JSON of `JournalState.to_state`."""
    text = json.dumps(state.to_state(), separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 6)


def decode_state(blob: bytes) -> JournalState:
    """The state in a snapshot blob; ValueError (or zlib.error) if it is not one this code made."""
    data = json.loads(zlib.decompress(blob).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("snapshot state is not a JSON object")
    return JournalState.from_state(data)


class Snapshots:
    """The snapshots table of one `EventStore`."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def _mapped(self, exc: Exception) -> Exception:
        return map_db_error(exc, self.store.url)

    def infos(self, key: str | None = None) -> list[SnapshotInfo]:
        """Every snapshot (of ``key`` if given), oldest fold first."""
        q = select(*_INFO_COLUMNS).order_by(snapshots_table.c.last_event_id, snapshots_table.c.id)
        if key is not None:
            q = q.where(snapshots_table.c.projection_version == key)
        try:
            with self.store.engine.connect() as conn:
                return [SnapshotInfo(*row) for row in conn.execute(q)]
        except SQLAlchemyError as exc:
            raise self._mapped(exc) from None

    def write(
        self, state: JournalState, last: Event, *, from_event_id: int, min_ts: int
    ) -> SnapshotInfo | None:
        """Store ``state`` (folded through ``last``, a stored event); None if one is there already.

        ``min_ts``: the oldest ts among the events with ``from_event_id < id <= last.id``
        (what lets a replay as of an earlier moment skip that id range).
        """
        if last.id is None or state.last_id != last.id or state.newest_ts is None:
            raise ValueError("a snapshot needs a state folded from the store")
        key = state.projection_key()
        blob = encode_state(state)
        created_at = time.time_ns() // 1000
        row: dict[str, Any] = {
            "projection_version": key,
            "last_event_id": last.id,
            "last_event_uuid": last.event_id,
            "from_event_id": from_event_id,
            "min_ts": min_ts,
            "at_ts": state.newest_ts,
            "events_seen": state.events_seen,
            "created_at": created_at,
            "state": blob,
            "bytes": len(blob),
        }
        t = snapshots_table
        try:
            with self.store.engine.begin() as conn:
                base = conn.execute(
                    select(func.max(t.c.last_event_id)).where(
                        t.c.last_event_uuid.like(f"{BASE_MARK}%")
                    )
                ).scalar()
                if base is not None and from_event_id < base:
                    # folded from before a prune's base: events may have gone under the fold
                    raise ValueError(f"folded from before the pruned events (through {base})")
                there = conn.execute(
                    select(t.c.id).where(
                        t.c.projection_version == key, t.c.last_event_id == last.id
                    )
                ).first()
                if there is not None:
                    return None
                new_id = conn.execute(t.insert().values(**row)).inserted_primary_key
        except SQLAlchemyError as exc:
            raise self._mapped(exc) from None
        assert new_id is not None
        return SnapshotInfo(
            int(new_id[0]),
            key,
            last.id,
            state.newest_ts,
            state.events_seen,
            created_at,
            len(blob),
        )

    def nearest(
        self, key: str, at: int | None, *, through_id: int | None = None
    ) -> JournalState | None:
        """The newest usable snapshot of ``key`` with ``at_ts <= at`` (any if None), loaded;
        ``through_id``: only one with ``last_event_id <= through_id``."""
        t = snapshots_table
        q = select(t.c.id, t.c.last_event_id, t.c.last_event_uuid).where(
            t.c.projection_version == key
        )
        if at is not None:
            q = q.where(t.c.at_ts <= at)
        if through_id is not None:
            q = q.where(t.c.last_event_id <= through_id)
        q = q.order_by(t.c.last_event_id.desc(), t.c.id.desc()).limit(_CANDIDATES)
        with self.store.engine.connect() as conn:
            for sid, last_id, last_uuid in conn.execute(q).all():
                stored = conn.execute(
                    select(events_table.c.event_id).where(events_table.c.id == last_id)
                ).scalar()
                if stored != last_uuid and not is_base(last_uuid):
                    log.warning(
                        "snapshot %s ignored: event %s is no longer the one it folded "
                        "(the journal was rewritten)",
                        sid,
                        last_id,
                    )
                    continue
                blob = conn.execute(select(t.c.state).where(t.c.id == sid)).scalar()
                try:
                    if not isinstance(blob, (bytes, bytearray, memoryview)):
                        raise ValueError("no state stored")
                    state = decode_state(bytes(blob))
                    if state.last_id != last_id or state.projection_key() != key:
                        raise ValueError("state does not match its row")
                except Exception as exc:  # any damage: fold from the events instead
                    log.warning("snapshot %s ignored: unreadable (%s)", sid, _short(exc))
                    continue
                return state
        return None

    def prune(self, *, older_than: int | None = None) -> int:
        """Delete the snapshots of other projection keys, and ours with ``at_ts < older_than``;
        never a base snapshot (it holds the pruned events).

        Returns how many rows went (replays as of earlier moments then fold from further back).
        """
        key = JournalState().projection_key()
        t = snapshots_table
        stale = t.c.projection_version != key
        if older_than is not None:
            stale = stale | (t.c.at_ts < older_than)
        stale = stale & t.c.last_event_uuid.notlike(f"{BASE_MARK}%")
        try:
            with self.store.engine.begin() as conn:
                return int(conn.execute(delete(t).where(stale)).rowcount)
        except SQLAlchemyError as exc:
            raise self._mapped(exc) from None

    def ranges(self, key: str, after_id: int, at: int) -> list[tuple[int, int | None]]:
        """The id ranges ``(after, through]`` (None: to the end) that can hold events with
        ``id > after_id`` and ``ts <= at``, in order.

        Every snapshot row knows the oldest ts of the id range it folded since its own base
        (``from_event_id < id <= last_event_id``): a range whose oldest ts is after ``at``
        holds no event a replay as of ``at`` folds, and is skipped. Beyond the newest
        snapshot nothing is known: read to the end.
        """
        t = snapshots_table
        q = (
            select(t.c.from_event_id, t.c.last_event_id, t.c.last_event_uuid)
            .where(
                t.c.projection_version == key,
                t.c.last_event_id > after_id,
                t.c.min_ts > at,
            )
            .order_by(t.c.from_event_id)
        )
        e = events_table
        try:
            with self.store.engine.connect() as conn:
                rows = conn.execute(q).all()
                # a row is trusted only while its last event is still the one it folded
                stored: dict[int, str] = {}
                ids = sorted({r[1] for r in rows})
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    sel = select(e.c.id, e.c.event_id).where(e.c.id.in_(chunk))
                    stored.update((int(k), str(v)) for k, v in conn.execute(sel))
        except SQLAlchemyError as exc:
            raise self._mapped(exc) from None
        skips = [(max(f, after_id), last) for f, last, uuid in rows if stored.get(last) == uuid]
        out: list[tuple[int, int | None]] = []
        pos = after_id  # everything through pos is read or skipped
        for start, end in skips:  # by start: merge the skipped ranges as we go
            if start > pos:
                out.append((pos, start))
            pos = max(pos, end)
        out.append((pos, None))
        return out

    def prefix_intact(self, after_id: int, through_id: int, folded: int) -> bool:
        """Were all the events with ``after_id < id <= through_id`` folded (``folded`` of them)?"""
        e = events_table
        q = select(func.count()).where(e.c.id > after_id, e.c.id <= through_id)
        with self.store.engine.connect() as conn:
            return int(conn.execute(q).scalar_one()) == folded


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class Checkpointer:
    """Folds events into a state and writes snapshots as a `SnapshotPolicy` says (used by replay)."""

    def __init__(
        self,
        snapshots: Snapshots,
        state: JournalState,
        policy: SnapshotPolicy,
        *,
        cut: bool,
    ) -> None:
        self.snapshots = snapshots
        self.state = state
        self.policy = policy
        self.cut = cut  # the read filters on ts: check the prefix before writing
        self.written: list[SnapshotInfo] = []
        self.enabled = policy.write
        self._base(None)

    def _base(self, min_ts: int | None) -> None:
        state = self.state
        self.base_id = state.last_id or 0
        self.base_events = state.events_seen
        self.base_ts = state.newest_ts
        self.min_ts = min_ts  # oldest ts folded since the base (None: none yet)

    def fold(self, events: Iterable[Event]) -> Event | None:
        """Fold ``events``; returns the last one folded."""
        state = self.state
        if not self.enabled:
            return state.fold(events)
        apply = state.apply
        last: Event | None = None
        policy = self.policy
        every, every_us, min_events = policy.every_events, policy.every_us, policy.min_events
        events = iter(events)
        base_ts = self.base_ts
        lo = self.min_ts
        for last in events:
            apply(last)
            ts = last.ts
            if lo is None or ts < lo:
                lo = ts
            if base_ts is None:  # from the start: event time counts from the first event
                base_ts = self.base_ts = ts
            since = state.events_seen - self.base_events
            if since >= every or (
                since >= min_events and (state.newest_ts or 0) - base_ts >= every_us
            ):
                self.min_ts = lo
                self.checkpoint(last)
                base_ts, lo = self.base_ts, self.min_ts
                if not self.enabled:  # the rest folds without checks
                    rest = state.fold(events)
                    return last if rest is None else rest
        self.min_ts = lo
        return last

    def checkpoint(self, last: Event, *, raise_errors: bool = False) -> SnapshotInfo | None:
        """Write a snapshot of the state now (folded through ``last``), if it is a whole prefix."""
        state = self.state
        folded = state.events_seen - self.base_events
        if folded == 0 or self.min_ts is None or last.id is None:
            return None
        try:
            if self.cut and not self.snapshots.prefix_intact(self.base_id, last.id, folded):
                self.enabled = False  # an event was filtered out: no later state is a prefix
                return None
            info = self.snapshots.write(state, last, from_event_id=self.base_id, min_ts=self.min_ts)
        except Exception as exc:  # never fail the replay for a checkpoint
            if raise_errors:
                raise
            log.warning("snapshot not written: %s", _short(exc))
            self.enabled = False
            return None
        self._base(None)
        if info is not None:
            self.written.append(info)
        return info


def snapshot_now(
    store: EventStore, policy: SnapshotPolicy = CLI_POLICY
) -> tuple[JournalState, SnapshotInfo | None, int]:
    """Fold from the newest snapshot to the end and write one there.

    Returns the state, the snapshot written (None: the newest one was already at the end)
    and how many events were folded. Store errors are raised (the caller asked for a write).
    """
    state = JournalState()
    found = load_nearest(store, state.projection_key(), None) if policy.read else None
    if found is not None:
        state.assign(found)
    start = state.events_seen
    snaps = Snapshots(store)
    folder = Checkpointer(snaps, state, policy, cut=False)
    last = folder.fold(store.read(after_id=state.last_id))
    folded = state.events_seen - start
    if last is None:
        return state, None, 0
    if folder.written and folder.written[-1].last_event_id == last.id:
        return state, folder.written[-1], folded
    return state, folder.checkpoint(last, raise_errors=True), folded


def load_nearest(store: EventStore, key: str, at: int | None) -> JournalState | None:
    """`Snapshots.nearest`, but a failure to read warns and returns None (fold from the start)."""
    try:
        return Snapshots(store).nearest(key, at)
    except Exception as exc:
        log.warning("snapshots not read: %s", _short(exc))
        return None


def describe(info: SnapshotInfo) -> dict[str, Any]:
    """JSON-ready description of a snapshot (for the CLI)."""
    from journal.events import iso

    return {
        "id": info.id,
        "projection_version": info.projection_version,
        "last_event_id": info.last_event_id,
        "at": iso(info.at_ts),
        "events_seen": info.events_seen,
        "created_at": iso(info.created_at),
        "bytes": info.bytes,
    }
