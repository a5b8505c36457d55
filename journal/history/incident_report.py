"""The incidents report over a time range: breaker outages, error bursts and store outages.

What `journal incidents` lists and the monitor's Incidents screen shows. An incident overlaps
the range ``[since, until]`` (since None: the whole journal, from its oldest event, pruned
ones included). Breaker and burst incidents come from the replayed projections
(`journal.projections.incidents`); store outages from the writers' ``journal`` events
(``store_unavailable`` then ``store_recovered`` from the same source). Each incident's id is
a short hash of its kind, key and start, so it is the same in every listing.

Errors during an incident: for a breaker the errors whose ``name`` is the breaker, for a
burst the errors of its type, for a store outage every error. Peak errors/minute: the
most of those errors within any 60 seconds of the incident.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journal.errors import ConfigError

if TYPE_CHECKING:
    from journal.events import Event
    from journal.projections.state import BreakerRow, JournalState
    from journal.store.event_store import EventStore

SCHEMA_VERSION = 1
KINDS = ("breaker", "burst", "outage")
# the seed's KPI targets
TARGET_ERRORS_PER_MIN = 1.0
TARGET_SUCCESS_PCT = 99.0
TARGET_BREAKER_OPENS = 0
TARGET_MTTR_S = 300.0
PEAK_WINDOW_US = 60_000_000


@dataclass(frozen=True, slots=True)
class Row:
    """One incident as listed."""

    id: str
    kind: str
    name: str
    start: int
    end: int | None
    duration_s: float
    errors: int
    peak_per_min: int
    opens: int
    exact: bool = True  # False: begun before a prune's cut, counted from the events left

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        from journal.events import iso

        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "start": iso(self.start),
            "end": iso(self.end) if self.end is not None else None,
            "open": self.end is None,
            "duration_s": round(self.duration_s, 3),
            "errors": self.errors,
            "peak_errors_per_min": self.peak_per_min,
            "opens": self.opens,
            "counts_exact": self.exact,
        }


@dataclass(frozen=True, slots=True)
class Kpis:
    """The seed's KPIs over a range."""

    minutes: float
    errors: int
    diversity: int
    calls: int
    successes: int
    opens: int
    mttr_s: float | None

    @property
    def error_rate(self) -> float:
        """Errors per minute over the range."""
        return self.errors / self.minutes if self.minutes > 0 else 0.0

    @property
    def success_rate(self) -> float | None:
        """Percent of breaker calls that succeeded (None with no calls)."""
        return 100.0 * self.successes / self.calls if self.calls else None

    def met(self) -> dict[str, bool | None]:
        """Each target met (None: nothing to judge)."""
        sr = self.success_rate
        return {
            "error_rate": self.error_rate < TARGET_ERRORS_PER_MIN,
            "success_rate": None if sr is None else sr > TARGET_SUCCESS_PCT,
            "breaker_opens": self.opens <= TARGET_BREAKER_OPENS,
            "mttr": None if self.mttr_s is None else self.mttr_s < TARGET_MTTR_S,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Incidents over a range, with the summary and KPIs."""

    since: int
    until: int
    rows: tuple[Row, ...]
    kpis: Kpis

    @property
    def mttr_s(self) -> float | None:
        """Mean duration of the resolved incidents listed."""
        done = [r.duration_s for r in self.rows if r.end is not None]
        return sum(done) / len(done) if done else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (schema `SCHEMA_VERSION`)."""
        from journal.events import iso

        k = self.kpis
        mttr = self.mttr_s
        return {
            "schema_version": SCHEMA_VERSION,
            "range": {"since": iso(self.since), "until": iso(self.until)},
            "incidents": [r.to_dict() for r in self.rows],
            "summary": {
                "count": len(self.rows),
                "open": sum(1 for r in self.rows if r.end is None),
                "resolved": sum(1 for r in self.rows if r.end is not None),
                "mttr_s": None if mttr is None else round(mttr, 3),
            },
            "kpis": {
                "errors": k.errors,
                "error_rate_per_min": round(k.error_rate, 4),
                "success_rate": None if k.success_rate is None else round(k.success_rate, 2),
                "breaker_opens": k.opens,
                "mttr_s": None if k.mttr_s is None else round(k.mttr_s, 3),
                "error_diversity": k.diversity,
                "met": k.met(),
            },
        }


def incident_id(kind: str, key: str, start: int) -> str:
    """Stable short id: the same incident has the same id in every listing."""
    return hashlib.sha1(f"{kind}\0{key}\0{start}".encode()).hexdigest()[:10]


@dataclass
class _Tally:
    """Errors of one incident, with the most within any 60 s."""

    start: int
    end: int | None
    errors: int = 0
    peak: int = 0
    window: deque[int] = field(default_factory=deque)

    def add(self, ts: int) -> None:
        self.errors += 1
        w = self.window
        w.append(ts)
        while w[0] <= ts - PEAK_WINDOW_US:
            w.popleft()
        self.peak = max(self.peak, len(w))


def outages(store: EventStore, until: int) -> list[tuple[str, int, int | None]]:
    """(source, start, end or None) of each store outage begun before ``until``, in order."""
    open_: dict[str, int] = {}
    found: list[tuple[str, int, int | None]] = []
    for e in store.read(
        kinds=["journal"], names=["store_unavailable", "store_recovered"], until=until + 1
    ):
        if e.name == "store_unavailable":
            if e.source not in open_:
                open_[e.source] = e.ts
        else:
            start = open_.pop(e.source, None)
            if start is not None:
                found.append((e.source, start, e.ts))
    found.extend((s, t, None) for s, t in open_.items())
    found.sort(key=lambda o: o[1])
    return found


def collect(
    store: EventStore,
    since: int | None,
    until: int,
    *,
    names: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    only_open: bool = False,
) -> Report:
    """List the incidents overlapping the range, from the journal's state as of ``until``.

    The states as of ``since`` and ``until`` come from replays that start at projection
    snapshots; the errors and peak of a breaker or burst incident come from the fold's tally
    when it is exact for it (`IncidentsSnapshot.tally`), else from its error events; store
    outages count their errors from the events; the KPIs' errors and diversity are the
    difference of the two states' per-type counts (counted by the database instead when a
    clear or an evicted type makes those inexact).
    """
    from journal.history.pruning import current_base
    from journal.history.replay import replay
    from journal.history.snapshots import CLI_POLICY
    from journal.projections.state import JournalState

    base = current_base(store)
    if since is None:  # from the oldest event the journal knows of, pruned ones included
        span = store.span()
        oldest = [span[0]] if span else []
        if base is not None and base.events_seen:
            oldest.append(base.min_ts)
        lo = min(oldest, default=until)
        start_state = JournalState()
    else:  # the state as the range begins (events with ts < since)
        lo = since
        start_state = replay(store, until=since, snapshots=CLI_POLICY)
    state = replay(store, until=until + 1, snapshots=CLI_POLICY)
    parts = state.capture(until)
    incidents = parts.incidents.build(since=lo)  # only those that overlap the range
    found: list[tuple[str, str, int, int | None, int, tuple[int, int] | None]] = [
        (
            i.kind,
            i.key,
            i.start,
            i.end,
            i.opens if i.kind == "breaker" else 0,
            incidents.tally(i, until),
        )
        for i in incidents.items
    ]
    found.extend(("outage", src, start, end, 0, None) for src, start, end in outages(store, until))
    selected = sorted(
        (
            f
            for f in found
            if f[2] <= until
            and (f[3] is None or f[3] >= lo)
            and (not kinds or f[0] in kinds)
            and (not names or f[1] in names)
            and (not only_open or f[3] is None)
        ),
        key=lambda f: (f[2], f[0], f[1]),
    )
    rows = []
    for kind, key, start, end, opens, tally in selected:
        exact = True
        if tally is None:
            tally = _count_errors(store, kind, key, start, until if end is None else end)
            # the events a prune deleted are not there to count: what is left is a lower bound
            exact = base is None or start >= base.cut
        errors, peak = tally
        rows.append(
            Row(
                incident_id(kind, key, start),
                kind,
                key,
                start,
                end,
                ((until if end is None else end) - start) / 1e6,
                errors,
                peak,
                opens,
                exact,
            )
        )
    counted = _errors_between(start_state, state)
    errors_in_range, diversity = counted if counted else _error_kpis(store, lo, until)
    before = {b.name: b for b in start_state.capture(lo).breakers}
    after = {b.name: b for b in parts.breakers}
    calls, successes, opens_in_range = _deltas(before, after)
    in_range = [(f[3] - f[2]) / 1e6 for f in found if f[3] is not None and lo <= f[3] <= until]
    kpis = Kpis(
        minutes=max(0, until - lo) / 60e6,
        errors=errors_in_range,
        diversity=diversity,
        calls=calls,
        successes=successes,
        opens=opens_in_range,
        mttr_s=sum(in_range) / len(in_range) if in_range else None,
    )
    return Report(lo, until, tuple(rows), kpis)


def _count_errors(store: EventStore, kind: str, key: str, start: int, end: int) -> tuple[int, int]:
    """(errors, peak per 60 s) of one incident, read from its error events."""
    span: dict[str, Any] = {"kinds": ["error"], "since": start, "until": end + 1}
    if kind == "breaker":
        found: Iterable[Event] = store.read(names=[key], **span)
    elif kind == "burst":  # its type, or its name when the error has no type
        found = heapq.merge(
            store.read(error_types=[key], **span),
            (e for e in store.read(names=[key], **span) if not e.error_type),
            key=lambda e: e.id or 0,
        )
    else:
        found = store.read(**span)
    tally = _Tally(start, end)
    for e in found:
        tally.add(e.ts)
    return tally.errors, tally.peak


def _errors_between(before: JournalState, after: JournalState) -> tuple[int, int] | None:
    """Errors folded into ``after`` but not ``before`` and their distinct types, from the
    per-type counts; None unless both are exact (no clear, no type evicted)."""
    for s in (before, after):
        if s.journal_counts.get("tracker_cleared", 0) or s.evicted_types or s.untracked:
            return None
    old = before.types
    types = 0
    for etype, stats in after.types.items():
        seen = old.get(etype)
        if stats.count > (0 if seen is None else seen.count):
            types += 1
    return after.total - before.total, types


def _error_kpis(store: EventStore, lo: int, until: int) -> tuple[int, int]:
    """Errors with ``lo <= ts <= until`` and how many distinct types they have."""
    from sqlalchemy import case, distinct, func, select
    from sqlalchemy.exc import SQLAlchemyError

    from journal.store.event_store import map_db_error
    from journal.store.schema import events as e

    etype = case((func.coalesce(e.c.error_type, "") == "", e.c.name), else_=e.c.error_type)
    q = select(func.count(), func.count(distinct(etype))).where(
        e.c.kind == "error", e.c.ts >= lo, e.c.ts <= until
    )
    try:
        with store.engine.connect() as conn:
            n, types = conn.execute(q).one()
    except SQLAlchemyError as exc:
        raise map_db_error(exc, store.url) from None
    return int(n), int(types)


def _deltas(
    before: Mapping[str, BreakerRow], after: Mapping[str, BreakerRow]
) -> tuple[int, int, int]:
    calls = successes = opens = 0
    for name, b in after.items():
        p = before.get(name)
        calls += b.calls - (p.calls if p else 0)
        successes += b.successes - (p.successes if p else 0)
        opens += b.opens - (p.opens if p else 0)
    return calls, successes, opens


# ---------------------------------------------------------------- the command


def find_incident(store: EventStore, incident: str, since: int | None, until: int) -> Row:
    """The incident with this id in the range; `ConfigError` (one line) if there is none."""
    wanted = incident.strip().lower()
    report = collect(store, since, until)
    row = next((r for r in report.rows if r.id == wanted), None)
    if row is None:
        raise ConfigError(
            f"no incident {incident!r} in the journal (list them with: journal incidents)"
        )
    return row


def incident_filters(row: Row, until: int) -> dict[str, Any]:
    """`EventStore.read` filters for an incident's events: its time span and what it is about
    (the breaker's name, the burst's error type; for an outage, errors and journal events)."""
    end = until if row.end is None else row.end
    filters: dict[str, Any] = {"since": row.start, "until": end + 1}
    if row.kind == "breaker":
        filters["names"] = [row.name]
    elif row.kind == "burst":
        filters["error_types"] = [row.name]
    else:
        filters["kinds"] = ["journal", "error"]
    return filters
