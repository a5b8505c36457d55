"""Retention: delete the events older than a cut, keeping their folded state as a base snapshot.

**What goes.** `plan` fixes the newest id ``M`` first (writers keep appending; nothing newer
is touched), then ``P``: one less than the smallest id ``<= M`` whose ``ts`` is at or after
the cut (at most ``M - 1``: the newest event always stays, so SQLite never reuses an id).
Every event with ``id <= P`` is older than the cut, so those events are an id prefix of the
journal, and the ones deleted are those with ``id <= P`` except ``journal`` events.

- *Late events* (``ts`` before the cut, recorded after an event at or after the cut: a spool
  drained after an outage, a host's clock behind) are kept. Deleting them would fold them
  before events they came after, and answers would change; they go with a later prune, once
  every event recorded before them is older than its cut.
- *``journal`` events* (outages, spool drains, rejected or dropped events: a handful per
  outage) are kept: `journal status` reads the writers' history and `journal incidents` the
  store outages from them, and both stay as they were.

**The base snapshot.** Before anything is deleted, the state folded through ``P`` (from the
nearest snapshot at or before ``P``) is written as a snapshot whose ``last_event_uuid`` is
`journal.history.snapshots.BASE_MARK` and the cut: it is the deleted events, trusted without them.
A replay folds the events after it in id order, exactly the events and the order a full
replay of the unpruned journal folds after ``P``; so every answer as of a moment at or after
the cut is unchanged, and a replay that needs the deleted events (as of, or since, a moment
before the cut) raises `PrunedRangeError` (`replay_floor`). One base is kept: an older one
and the snapshots folded only from deleted events are dropped once the new one is written.

**Order, and a stop midway.** Plan, write the base, drop older snapshots, delete in batches
of `BATCH_IDS` ids (each its own short transaction, oldest first). Killed at any point, the
journal answers as before (the base is written before any event goes, and replays start from
it); running the same prune again finishes the deletion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from journal.errors import JournalError
from journal.events import KINDS, iso, to_us
from journal.history.snapshots import BASE_MARK, Snapshots, encode_state
from journal.projections.state import JournalState
from journal.sanitizing.redaction import library_logger
from journal.store.event_store import EventStore, map_db_error
from journal.store.schema import events as events_table
from journal.store.schema import snapshots as snapshots_table

log = library_logger("journal.pruning")

BATCH_IDS = 10_000  # ids per delete transaction
KEPT_KINDS = frozenset({"journal"})
DELETED_KINDS = tuple(sorted(KINDS - KEPT_KINDS))


class PrunedRangeError(JournalError):
    """A replay (or prune) that needs events a prune deleted."""


@dataclass(frozen=True, slots=True)
class Base:
    """A base snapshot: the folded state of the events a prune deleted."""

    snapshot_id: int
    projection_version: str
    cut: int  # events before it (us UTC) were pruned
    through_id: int  # the state holds every event with id <= through_id
    at_ts: int  # the newest ts among them
    min_ts: int  # the oldest
    events_seen: int
    bytes: int


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What a prune at ``cut`` deletes and keeps (`plan`)."""

    cut: int
    latest_id: int  # the newest id when planned: nothing newer is touched
    through_id: int  # events with id <= through_id go (journal events excepted)
    deleted: int  # how many events go
    first_ts: int | None  # their span
    last_ts: int | None
    first_id: int | None
    kept_journal: int  # journal events older than the cut, kept
    kept_late: int  # events older than the cut recorded after a newer one, kept
    previous: Base | None  # the journal's base before this prune


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a prune did."""

    plan: PrunePlan
    deleted: int
    batches: int
    base: Base | None  # None: nothing was deleted, no base written
    snapshots_deleted: int
    seconds: float


def _mapped(store: EventStore, exc: Exception) -> Exception:
    return map_db_error(exc, store.url)


def bases(store: EventStore) -> list[Base]:
    """The base snapshots in the journal (normally none or one), oldest first."""
    t = snapshots_table
    q = (
        select(
            t.c.id,
            t.c.projection_version,
            t.c.last_event_uuid,
            t.c.last_event_id,
            t.c.at_ts,
            t.c.min_ts,
            t.c.events_seen,
            t.c.bytes,
        )
        .where(t.c.last_event_uuid.like(f"{BASE_MARK}%"))
        .order_by(t.c.last_event_id, t.c.id)
    )
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(q).all()
    except SQLAlchemyError as exc:
        raise _mapped(store, exc) from None
    return [
        Base(int(r[0]), r[1], int(r[2][len(BASE_MARK) :]), *(int(v) for v in r[3:])) for r in rows
    ]


def current_base(store: EventStore) -> Base | None:
    """The base replays start from (the newest), with the latest cut; None: never pruned."""
    found = bases(store)
    if not found:
        return None
    newest = found[-1]
    cut = max(b.cut for b in found)
    return newest if newest.cut == cut else _with_cut(newest, cut)


def _with_cut(b: Base, cut: int) -> Base:
    return Base(
        b.snapshot_id, b.projection_version, cut, b.through_id, b.at_ts, b.min_ts,
        b.events_seen, b.bytes,
    )  # fmt: skip


# ------------------------------------------------------------ replay's side


def replay_floor(
    store: EventStore,
    state: JournalState,
    since: datetime | int | None,
    until: int | None,
    names: Iterable[str] | None,
) -> int:
    """The id a replay must start from (its base), 0 if the journal was never pruned or the
    replay starts at or after the cut; `PrunedRangeError` if it needs deleted events."""
    try:
        base = current_base(store)
    except Exception as exc:  # as for snapshots: a broken table warns, and hurts no replay
        log.warning("prune base not read: %s", exc)
        return 0
    if base is None:
        return 0
    cut = iso(base.cut)
    if since is not None:
        if to_us(since) < base.cut:
            raise PrunedRangeError(
                f"the journal was pruned before {cut}: events since {iso(to_us(since))} are "
                "not all kept (start at or after the cut)"
            )
        return 0
    if until is not None and until < base.cut:
        raise PrunedRangeError(
            f"the journal was pruned before {cut}: it cannot be replayed as of "
            f"{iso(until - 1)} (ask for a moment at or after the cut)"
        )
    if names is not None or state.events_seen:
        raise PrunedRangeError(
            f"the journal was pruned before {cut}: replaying chosen names or onto a folded "
            "state needs a start at or after the cut"
        )
    if base.projection_version != state.projection_key():
        raise PrunedRangeError(
            f"the journal was pruned before {cut} by another version of the projections "
            f"(or with other bounds: {base.projection_version}): this one cannot read its base"
        )
    return base.through_id


def base_unreadable(through_id: int) -> PrunedRangeError:
    """The error when a pruned journal's base snapshot cannot be loaded."""
    return PrunedRangeError(
        f"the journal's base snapshot (the pruned events, through event {through_id}) could "
        "not be read: see the warning above"
    )


# ------------------------------------------------------------ planning


def plan(store: EventStore, cut: datetime | int) -> PrunePlan:
    """What `prune` at ``cut`` would delete and keep; changes nothing."""
    cut_us = to_us(cut)
    e = events_table
    previous = current_base(store)
    try:
        with store.engine.connect() as conn:
            latest = int(conn.execute(select(func.coalesce(func.max(e.c.id), 0))).scalar_one())
            first_new = conn.execute(
                select(func.min(e.c.id)).where(e.c.ts >= cut_us, e.c.id <= latest)
            ).scalar()
            through = (latest if first_new is None else int(first_new)) - 1
            if previous is not None and through < previous.through_id:
                through = previous.through_id  # an earlier cut: finish the last prune only
            gone = e.c.kind.notin_(KEPT_KINDS)
            n, lo, hi, first_id = conn.execute(
                select(func.count(), func.min(e.c.ts), func.max(e.c.ts), func.min(e.c.id)).where(
                    e.c.id <= through, gone
                )
            ).one()
            kept_journal = conn.execute(
                select(func.count()).where(e.c.kind.in_(KEPT_KINDS), e.c.ts < cut_us)
            ).scalar_one()
            kept_late = conn.execute(
                select(func.count()).where(
                    gone, e.c.ts < cut_us, e.c.id > through, e.c.id <= latest
                )
            ).scalar_one()
    except SQLAlchemyError as exc:
        raise _mapped(store, exc) from None
    return PrunePlan(
        cut=cut_us if previous is None else max(cut_us, previous.cut),
        latest_id=latest,
        through_id=max(through, 0),
        deleted=int(n),
        first_ts=None if lo is None else int(lo),
        last_ts=None if hi is None else int(hi),
        first_id=None if first_id is None else int(first_id),
        kept_journal=int(kept_journal),
        kept_late=int(kept_late),
        previous=previous,
    )


# ------------------------------------------------------------ pruning


def prune(
    store: EventStore,
    cut_or_plan: datetime | int | PrunePlan,
    *,
    batch_ids: int = BATCH_IDS,
    on_batch: Callable[[int, int], None] | None = None,
) -> PruneResult:
    """Delete the events older than the cut (see the module docstring for which), after
    writing their base snapshot. ``on_batch(deleted_so_far, batches)`` runs after each batch."""
    if batch_ids < 1:
        raise ValueError("batch_ids must be >= 1")
    started = time.monotonic()
    p = cut_or_plan if isinstance(cut_or_plan, PrunePlan) else plan(store, cut_or_plan)
    if p.deleted == 0:
        return PruneResult(p, 0, 0, p.previous, 0, time.monotonic() - started)
    base = write_base(store, p)
    dropped = _drop_snapshots(store, base)
    deleted = batches = 0
    e = events_table
    lo = (p.first_id or 1) - 1
    while lo < p.through_id:
        hi = min(lo + batch_ids, p.through_id)
        q = e.delete().where(e.c.id > lo, e.c.id <= hi, e.c.kind.notin_(KEPT_KINDS))
        try:
            with store.engine.begin() as conn:  # one short transaction per batch
                deleted += int(conn.execute(q).rowcount)
        except SQLAlchemyError as exc:
            raise _mapped(store, exc) from None
        batches += 1
        lo = hi
        if on_batch is not None:
            on_batch(deleted, batches)
    return PruneResult(p, deleted, batches, base, dropped, time.monotonic() - started)


def write_base(store: EventStore, p: PrunePlan) -> Base:
    """Fold the events through ``p.through_id`` and store them as the base (or find it stored)."""
    state = JournalState()
    key = state.projection_key()
    previous = p.previous
    if previous is not None and previous.projection_version != key:
        raise PrunedRangeError(
            f"the journal was pruned before {iso(previous.cut)} by another version of the "
            f"projections ({previous.projection_version}): this one cannot extend its base"
        )
    found = Snapshots(store).nearest(key, None, through_id=p.through_id)
    if found is not None:
        state.assign(found)
    if previous is not None and (state.last_id or 0) < previous.through_id:
        raise base_unreadable(previous.through_id)
    for event in store.read(after_id=state.last_id or 0, before_id=p.through_id + 1):
        state.apply(event)
    if previous is not None and state.last_id == previous.through_id:
        return previous  # nothing newer to fold: a stopped prune run again
    if state.last_id is None or state.newest_ts is None:
        raise PrunedRangeError("nothing to fold into a base snapshot")
    min_ts = min(
        v for v in (p.first_ts, None if previous is None else previous.min_ts) if v is not None
    )
    blob = encode_state(state)
    row: dict[str, Any] = {
        "projection_version": key,
        "last_event_id": state.last_id,
        "last_event_uuid": f"{BASE_MARK}{p.cut}",
        "from_event_id": 0,
        "min_ts": min_ts,
        "at_ts": state.newest_ts,
        "events_seen": state.events_seen,
        "created_at": time.time_ns() // 1000,
        "state": blob,
        "bytes": len(blob),
    }
    t = snapshots_table
    try:
        with store.engine.begin() as conn:
            there = conn.execute(
                select(t.c.id).where(
                    t.c.projection_version == key,
                    t.c.last_event_id == state.last_id,
                    t.c.last_event_uuid == row["last_event_uuid"],
                )
            ).scalar()
            if there is None:
                new_id = conn.execute(t.insert().values(**row)).inserted_primary_key
                assert new_id is not None
                there = new_id[0]
    except SQLAlchemyError as exc:
        raise _mapped(store, exc) from None
    return Base(
        int(there), key, p.cut, state.last_id, state.newest_ts, min_ts, state.events_seen,
        len(blob),
    )  # fmt: skip


def _drop_snapshots(store: EventStore, base: Base) -> int:
    """Delete the snapshots folded only from events through the base (older bases too)."""
    t = snapshots_table
    q = t.delete().where(t.c.last_event_id <= base.through_id, t.c.id != base.snapshot_id)
    try:
        with store.engine.begin() as conn:
            return int(conn.execute(q).rowcount)
    except SQLAlchemyError as exc:
        raise _mapped(store, exc) from None


def vacuum(store: EventStore) -> tuple[int, int]:
    """Give the space of deleted rows back: SQLite ``VACUUM`` (the file shrinks; writers wait
    while it runs), PostgreSQL ``VACUUM`` (space reused, the files keep their size).
    Returns the journal's size on disk before and after."""
    before = store.storage_bytes()
    try:
        with store.engine.connect() as conn:
            if store.dialect == "sqlite":
                conn.exec_driver_sql("VACUUM")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                auto.exec_driver_sql("VACUUM (ANALYZE) events, snapshots")
    except SQLAlchemyError as exc:
        raise _mapped(store, exc) from None
    return before, store.storage_bytes()
