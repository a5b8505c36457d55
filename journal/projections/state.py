"""Pure projections: folds of events into counts, rates, breaker states, incidents, health.

No IO, no threads, no wall clock. Time is the events' ``ts`` (int microseconds UTC)
or the explicit ``at`` of `JournalState.snapshot`. The live process and replay
feed the same `JournalState`, so they give the same answers.

Definitions (all on event time):
- *rates*: errors per minute over the trailing 1, 5 and 15-minute windows, counted by
  whole seconds: with ``sec = ts // 1 s``, the window of ``w`` minutes read at ``at`` holds
  the errors whose second lies in ``(at // 1 s - 60 w, at // 1 s]`` (for a whole-second
  ``at`` that is exactly the errors with ``at - w < ts <= at``; for a mid-second ``at`` the
  window ends with its whole second). Per type likewise. A window with no new errors decays
  to 0 when read later. Reads at ``at`` are exact from the newest second on; a read further
  in the past than ``newest - (15 min - w)`` misses errors older than 15 minutes before the
  newest (replay to that time is exact).
- *per-type rate since first seen*: count / max(1, minutes from the first error of that
  type (since the last clear, or since it was last admitted to live tracking) to ``at``) --
  the seed dashboard's ``25 errors (2.50/min)``.
- *bounded live detail*: at most ``max_live_types`` error types (and as many names) are
  tracked in detail (count, first/last seen, per-second rates); admitting one more evicts
  the least recently seen (fold order). ``total`` and ``by_severity`` stay exact;
  ``untracked`` counts the errors of evicted types (``sum(by_type) + untracked == total``), and
  an evicted type that comes back starts again from 0. ``diversity`` is the exact number of
  distinct types since the clear while it is at most ``max_distinct_types`` (their names are
  kept in a set); past that it is a lower bound and ``diversity_exact`` is False. The journal
  keeps every event: replay over a range, or SQL on the store, gives exact per-type counts.
- memory does not depend on traffic: each rate series holds at most 900 live (second,
  cumulative count) pairs of 16 bytes (and at most as many again awaiting a sweep), so
  the per-type detail is at most ~29 KB per type at the cap; the recent errors (1000) and
  alerts (100) are rings; alert counts by key use the same cap as the types; incidents are
  bounded (see `journal.projections.incidents`).
- a ``journal`` event ``tracker_cleared`` restarts counts and rates (history stays); the
  other ``journal`` events (store outages, spool drains, sink errors, resets) are counted,
  and the last store outage is kept with its duration.

Serialising: `JournalState.to_state` gives a JSON-ready dict of everything the fold holds
(bounded, like the state) and `JournalState.from_state` rebuilds a state that folds on
exactly as the original would; `JournalState.projection_key` names the code and bounds that
made it (`PROJECTION_VERSION` plus a hash of the bounds), so a snapshot is only ever loaded
into a state of the same key (see `journal.history.snapshots`).

Reading is split so the live journal holds its fold lock only briefly: `JournalState.capture`
copies the bounded state needed as of ``at`` (O(live types) with small constants), and
`SnapshotParts.build` sorts and assembles the `JournalSnapshot` outside the lock.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from journal.events import Event
from journal.projections.incidents import (
    MAX_BURST_TYPES,
    IncidentsCapture,
    IncidentsSnapshot,
    IncidentTracker,
)
from journal.projections.rolling import SECOND_US, SecondCounts

MINUTE_US = 60_000_000
RATE_WINDOWS_MIN = (1, 5, 15)
RATE_WINDOWS_S = tuple(60 * m for m in RATE_WINDOWS_MIN)
RATE_HORIZON_S = RATE_WINDOWS_S[-1]
CRITICAL_LOOKBACK_S = 5 * 60
RECENT_ERRORS = 1000
RECENT_ALERTS = 100
MAX_LIVE_TYPES = 1000
MAX_DISTINCT_TYPES = 100_000
# Bump whenever the folding code (here, `journal.projections.incidents`, `journal.projections.rolling`) or the
# `to_state` layout changes: snapshots written by other code are then ignored and rebuilt.
PROJECTION_VERSION = 2


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Error counts since the last clear (per type: the live-tracked types)."""

    total: int
    by_type: Mapping[str, int]
    by_name: Mapping[str, int]
    by_severity: Mapping[str, int]
    diversity: int
    first_seen: Mapping[str, int]
    last_seen: Mapping[str, int]
    rate_since_first: Mapping[str, float]
    cleared_at: int | None
    untracked: int = 0  # errors of types evicted from live tracking
    evicted_types: int = 0  # evictions from live tracking since the clear
    diversity_exact: bool = True  # False once more than max_distinct_types were seen


@dataclass(frozen=True, slots=True)
class ErrorRates:
    """Errors per minute over trailing 1, 5 and 15-minute windows ending at ``at``."""

    total: Mapping[int, float]
    by_type: Mapping[str, Mapping[int, float]]


@dataclass(frozen=True, slots=True)
class AlertStats:
    """Alerts fired, by rule and key, with the most recent ones."""

    total: int
    by_rule: Mapping[str, int]
    by_key: Mapping[str, int]
    recent: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class BreakerRow:
    """One breaker on the board."""

    name: str
    state: str
    since: int | None
    calls: int
    successes: int
    failures: int
    rejected: int
    opens: int
    last_failure: int | None

    @property
    def success_rate(self) -> float:
        """Percent of calls that succeeded (100.0 with no calls)."""
        return 100.0 if self.calls == 0 else 100.0 * self.successes / self.calls


@dataclass(frozen=True, slots=True)
class Health:
    """OK / WARNING / CRITICAL with the reasons."""

    level: str
    label: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JournalLife:
    """The journal's own history: store outages, spool drains, sink errors, operator actions."""

    counts: Mapping[str, int]
    outages: int
    last_outage_start: int | None
    last_outage_seconds: float | None
    outage_ongoing: bool


@dataclass(frozen=True, slots=True)
class JournalSnapshot:
    """Everything the projections know, as of ``at``."""

    at: int | None
    events_seen: int
    last_id: int | None
    errors: ErrorStats
    rates: ErrorRates
    recent_errors: tuple[Event, ...]
    alerts: AlertStats
    breakers: Mapping[str, BreakerRow]
    incidents: IncidentsSnapshot
    health: Health
    journal: JournalLife


class _Breaker:
    __slots__ = (
        "calls",
        "failures",
        "last_failure",
        "opens",
        "rejected",
        "since",
        "state",
        "successes",
    )

    def __init__(self) -> None:
        self.state = "CLOSED"
        self.since: int | None = None
        self.calls = self.successes = self.failures = self.rejected = self.opens = 0
        self.last_failure: int | None = None


class _TypeStats:
    __slots__ = ("count", "first_seen", "last_seen", "per_second")

    def __init__(self, ts: int) -> None:
        self.count = 0
        self.first_seen = self.last_seen = ts
        self.per_second = SecondCounts(RATE_HORIZON_S)


class _CappedCounts:
    """Counts by key for at most ``cap`` keys, least recently counted evicted first."""

    __slots__ = ("cap", "counts", "evicted", "evicted_keys")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: OrderedDict[str, int] = OrderedDict()
        self.evicted = 0  # counts of evicted keys
        self.evicted_keys = 0

    def add(self, key: str) -> None:
        counts = self.counts
        n = counts.get(key)
        if n is None:
            if len(counts) >= self.cap:
                self.evicted += counts.popitem(last=False)[1]
                self.evicted_keys += 1
            counts[key] = 1
        else:
            counts[key] = n + 1
            counts.move_to_end(key)


def _capped_to_state(c: _CappedCounts) -> list[Any]:
    return [c.cap, list(c.counts.items()), c.evicted, c.evicted_keys]


def _capped_from_state(data: list[Any]) -> _CappedCounts:
    cap, counts, evicted, evicted_keys = data
    out = _CappedCounts(int(cap))
    out.counts.update((str(k), int(v)) for k, v in counts)
    out.evicted, out.evicted_keys = int(evicted), int(evicted_keys)
    return out


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _by_count(items: Mapping[str, int]) -> dict[str, int]:
    """Most first, then by name (deterministic, whatever the fold order)."""
    return dict(sorted(items.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True, slots=True)
class SnapshotParts:
    """Bounded copies of a `JournalState` as of ``at``; `build` makes the snapshot (no lock needed)."""

    at: int | None
    ref: int
    events_seen: int
    last_id: int | None
    total: int
    # (error type, count, first seen, last seen, errors in each rate window)
    types: tuple[tuple[str, int, int, int, tuple[int, ...]], ...]
    by_name: Mapping[str, int]
    by_severity: Mapping[str, int]
    diversity: int
    diversity_exact: bool
    untracked: int
    evicted_types: int
    cleared_at: int | None
    window_counts: tuple[int, ...]
    critical_recent: int
    recent_errors: tuple[Event, ...]
    alerts_by_rule: Mapping[str, int]
    alerts_by_key: Mapping[str, int]
    alerts_total: int
    recent_alerts: tuple[Event, ...]
    breakers: tuple[BreakerRow, ...]
    incidents: IncidentsCapture
    journal: JournalLife

    def build(self) -> JournalSnapshot:
        """Assemble the `JournalSnapshot` (sorting and rates happen here, outside any lock)."""
        from journal.projections.health import assess

        ref = self.ref
        by_type: dict[str, int] = {}
        first_seen: dict[str, int] = {}
        last_seen: dict[str, int] = {}
        rate_since_first: dict[str, float] = {}
        rates_by_type: dict[str, dict[int, float]] = {}
        for etype, count, first, last, windows in self.types:
            by_type[etype] = count
            first_seen[etype] = first
            last_seen[etype] = last
            rate_since_first[etype] = count / max(1.0, (ref - first) / MINUTE_US)
            if any(windows):
                rates_by_type[etype] = {
                    m: n / m for m, n in zip(RATE_WINDOWS_MIN, windows, strict=True)
                }
        errors = ErrorStats(
            total=self.total,
            by_type=_by_count(by_type),
            by_name=_by_count(self.by_name),
            by_severity=dict(self.by_severity),
            diversity=self.diversity,
            first_seen=first_seen,
            last_seen=last_seen,
            rate_since_first=rate_since_first,
            cleared_at=self.cleared_at,
            untracked=self.untracked,
            evicted_types=self.evicted_types,
            diversity_exact=self.diversity_exact,
        )
        rates = ErrorRates(
            total={m: n / m for m, n in zip(RATE_WINDOWS_MIN, self.window_counts, strict=True)},
            by_type=rates_by_type,
        )
        breakers = {b.name: b for b in self.breakers}
        incidents = self.incidents.build()
        health = assess(errors, rates, self.critical_recent, breakers, incidents, ref)
        alerts = AlertStats(
            total=self.alerts_total,
            by_rule=dict(self.alerts_by_rule),
            by_key=dict(self.alerts_by_key),
            recent=self.recent_alerts,
        )
        return JournalSnapshot(
            at=self.at,
            events_seen=self.events_seen,
            last_id=self.last_id,
            errors=errors,
            rates=rates,
            recent_errors=self.recent_errors,
            alerts=alerts,
            breakers=breakers,
            incidents=incidents,
            health=health,
            journal=self.journal,
        )


class JournalState:
    """The aggregate fold: ``apply(event)`` for each event, ``snapshot(at)`` to read."""

    def __init__(
        self,
        *,
        max_live_types: int = MAX_LIVE_TYPES,
        max_distinct_types: int = MAX_DISTINCT_TYPES,
        max_burst_types: int = MAX_BURST_TYPES,
    ) -> None:
        self.max_live_types = max(1, max_live_types)
        self.max_distinct_types = max_distinct_types
        self.events_seen = 0
        self.newest_ts: int | None = None
        self.last_id: int | None = None
        self._reset_errors(None)
        self.recent_errors: deque[Event] = deque(maxlen=RECENT_ERRORS)
        self.alerts_total = 0
        self.alerts_by_rule: Counter[str] = Counter()
        self.alerts_by_key = _CappedCounts(self.max_live_types)
        self.recent_alerts: deque[Event] = deque(maxlen=RECENT_ALERTS)
        self.breakers: dict[str, _Breaker] = {}
        self.incidents = IncidentTracker(max_types=max_burst_types)
        self.journal_counts: Counter[str] = Counter()
        self.last_outage_start: int | None = None
        self.last_outage_seconds: float | None = None

    def _reset_errors(self, at: int | None) -> None:
        self.cleared_at = at
        self.total = 0
        self.by_severity: dict[str, int] = {}  # a plain dict: a Counter's += costs twice as much
        # error type -> live detail, least recently seen first (the eviction order)
        self.types: OrderedDict[str, _TypeStats] = OrderedDict()
        self.names = _CappedCounts(self.max_live_types)
        self.untracked = 0
        self.evicted_types = 0
        self.seen_types: set[str] = set()
        self.diversity_exact = True
        self.per_second = SecondCounts(RATE_HORIZON_S)  # every error, for the total rates
        self.critical = SecondCounts(CRITICAL_LOOKBACK_S)  # CRITICAL errors, for health

    # ------------------------------------------------------------ folding

    def apply(self, e: Event) -> None:
        """Fold one event in (events should arrive in ts order per source; late ones are tolerated)."""
        self.events_seen += 1
        ts = e.ts
        newest = self.newest_ts
        if newest is None or ts > newest:
            self.newest_ts = ts
        eid = e.id
        if eid is not None:
            self.last_id = eid
        kind = e.kind
        if kind == "error":
            self._apply_error(e, ts)
        elif kind == "retry":
            pass  # counted in events_seen; nothing else folds a retry
        elif kind == "calls":
            self._apply_calls(e, ts)
        elif kind == "breaker":
            self._apply_breaker(e, ts)
        elif kind == "alert":
            self.alerts_total += 1
            self.alerts_by_rule[e.error_type or ""] += 1
            self.alerts_by_key.add(e.name)
            self.recent_alerts.append(e)
        elif kind == "journal":
            self._apply_journal(e, ts)
        incidents = self.incidents
        if ts >= incidents.due_at:
            incidents.advance(ts)

    def fold(self, events: Iterable[Event]) -> Event | None:
        """`apply` each event in order and return the last (None if none); errors and retries,
        most of a journal, take a shorter path.

        The shorter path is `apply` without the call and the chain of kinds: the state is
        the same as from `apply` (a test folds mixed streams both ways).
        """
        apply, apply_error = self.apply, self._apply_error
        e = None
        for e in events:
            kind = e.kind
            if kind != "error" and kind != "retry":
                apply(e)
                continue
            self.events_seen += 1
            ts = e.ts
            newest = self.newest_ts
            if newest is None or ts > newest:
                self.newest_ts = ts
            eid = e.id
            if eid is not None:
                self.last_id = eid
            if kind == "error":
                apply_error(e, ts)
            incidents = self.incidents
            if ts >= incidents.due_at:
                incidents.advance(ts)
        return e

    def _apply_journal(self, e: Event, ts: int) -> None:
        name = e.name
        self.journal_counts[name] += 1
        if name == "tracker_cleared":
            self._reset_errors(ts)
            self.recent_errors.clear()
        elif name == "store_unavailable":
            self.last_outage_start = ts
            self.last_outage_seconds = None
        elif name == "store_recovered":
            seconds = json.loads(e.context_json).get("outage_seconds")
            self.last_outage_seconds = float(seconds) if seconds is not None else None

    def _apply_error(self, e: Event, ts: int) -> None:
        etype = e.error_type or e.name
        severity = e.severity or "ERROR"
        sec = ts // SECOND_US
        self.total += 1
        by_severity = self.by_severity
        by_severity[severity] = by_severity.get(severity, 0) + 1
        self.per_second.record(sec)
        if severity == "CRITICAL":
            self.critical.record(sec)
        types = self.types
        stats = types.get(etype)
        if stats is None:
            if len(types) >= self.max_live_types:
                self.untracked += types.popitem(last=False)[1].count
                self.evicted_types += 1
            stats = types[etype] = _TypeStats(ts)
            seen = self.seen_types
            if etype not in seen:
                if len(seen) < self.max_distinct_types:
                    seen.add(etype)
                else:
                    self.diversity_exact = False
        else:
            types.move_to_end(etype)
            if ts > stats.last_seen:
                stats.last_seen = ts
        stats.count += 1
        stats.per_second.record(sec)
        # by name, capped like the types (inlined: this is the caller's hot path)
        names = self.names
        counts = names.counts
        name = e.name
        n = counts.get(name)
        if n is None:
            names.add(name)
        else:
            counts[name] = n + 1
            counts.move_to_end(name)
        self.recent_errors.append(e)
        self.incidents.error(etype, ts, name)

    def _apply_calls(self, e: Event, ts: int) -> None:
        b = self.breakers.get(e.name)
        if b is None:
            b = self.breakers[e.name] = _Breaker()
        ctx: dict[str, Any] = json.loads(e.context_json)
        ok = int(ctx.get("successes", 0))
        bad = int(ctx.get("failures", 0))
        b.successes += ok
        b.failures += bad
        b.calls += ok + bad
        b.rejected += int(ctx.get("rejected", 0))
        if bad and (b.last_failure is None or ts > b.last_failure):
            b.last_failure = ts

    def _apply_breaker(self, e: Event, ts: int) -> None:
        b = self.breakers.get(e.name)
        if b is None:
            b = self.breakers[e.name] = _Breaker()
        to = e.state_to or b.state
        b.state = to
        b.since = ts
        if to == "OPEN":
            b.opens += 1
            if b.last_failure is None or ts > b.last_failure:
                b.last_failure = ts
        self.incidents.breaker(e.name, to, ts)

    # ------------------------------------------------------------ serialising

    def bounds(self) -> dict[str, int]:
        """Every bound that shapes the fold (two states with equal bounds fold alike)."""
        inc = self.incidents
        return {
            "max_live_types": self.max_live_types,
            "max_distinct_types": self.max_distinct_types,
            "max_burst_types": inc.max_types,
            "burst_threshold": inc.threshold,
            "burst_window_us": inc.window_us,
            "max_incidents": inc.closed.maxlen,
            "recent_errors": RECENT_ERRORS,
            "recent_alerts": RECENT_ALERTS,
            "rate_horizon_s": RATE_HORIZON_S,
            "critical_lookback_s": CRITICAL_LOOKBACK_S,
        }

    def projection_key(self) -> str:
        """``p<PROJECTION_VERSION>-<hash of the bounds>``: what a snapshot must match to be used."""
        digest = hashlib.sha256(json.dumps(self.bounds(), sort_keys=True).encode()).hexdigest()
        return f"p{PROJECTION_VERSION}-{digest[:12]}"

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state: everything the fold holds (`from_state` folds on identically)."""
        return {
            "version": PROJECTION_VERSION,
            "bounds": self.bounds(),
            "events_seen": self.events_seen,
            "newest_ts": self.newest_ts,
            "last_id": self.last_id,
            "cleared_at": self.cleared_at,
            "total": self.total,
            "by_severity": list(self.by_severity.items()),
            "types": [
                [t, s.count, s.first_seen, s.last_seen, s.per_second.to_state()]
                for t, s in self.types.items()
            ],
            "names": _capped_to_state(self.names),
            "untracked": self.untracked,
            "evicted_types": self.evicted_types,
            "seen_types": sorted(self.seen_types),
            "diversity_exact": self.diversity_exact,
            "per_second": self.per_second.to_state(),
            "critical": self.critical.to_state(),
            "recent_errors": [list(e) for e in self.recent_errors],
            "alerts_total": self.alerts_total,
            "alerts_by_rule": list(self.alerts_by_rule.items()),
            "alerts_by_key": _capped_to_state(self.alerts_by_key),
            "recent_alerts": [list(e) for e in self.recent_alerts],
            "breakers": [
                [
                    n,
                    b.state,
                    b.since,
                    b.calls,
                    b.successes,
                    b.failures,
                    b.rejected,
                    b.opens,
                    b.last_failure,
                ]
                for n, b in self.breakers.items()
            ],
            "incidents": self.incidents.to_state(),
            "journal_counts": list(self.journal_counts.items()),
            "last_outage_start": self.last_outage_start,
            "last_outage_seconds": self.last_outage_seconds,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> JournalState:
        """The state `to_state` described; ValueError if it was made by other projection code."""
        if data.get("version") != PROJECTION_VERSION:
            raise ValueError(
                f"state of projection version {data.get('version')!r}, not {PROJECTION_VERSION}"
            )
        b = data["bounds"]
        out = cls(
            max_live_types=int(b["max_live_types"]),
            max_distinct_types=int(b["max_distinct_types"]),
            max_burst_types=int(b["max_burst_types"]),
        )
        out.incidents = IncidentTracker.from_state(data["incidents"])
        if out.bounds() != b:
            raise ValueError("state made with other bounds than this code has")
        out.events_seen = int(data["events_seen"])
        out.newest_ts = _opt_int(data["newest_ts"])
        out.last_id = _opt_int(data["last_id"])
        out.cleared_at = _opt_int(data["cleared_at"])
        out.total = int(data["total"])
        out.by_severity = {str(k): int(v) for k, v in data["by_severity"]}
        for t, count, first, last, per_second in data["types"]:
            stats = _TypeStats(int(first))
            stats.count, stats.last_seen = int(count), int(last)
            stats.per_second = SecondCounts.from_state(per_second)
            out.types[str(t)] = stats
        out.names = _capped_from_state(data["names"])
        out.untracked = int(data["untracked"])
        out.evicted_types = int(data["evicted_types"])
        out.seen_types = {str(t) for t in data["seen_types"]}
        out.diversity_exact = bool(data["diversity_exact"])
        out.per_second = SecondCounts.from_state(data["per_second"])
        out.critical = SecondCounts.from_state(data["critical"])
        out.recent_errors.extend(Event(*e) for e in data["recent_errors"])
        out.alerts_total = int(data["alerts_total"])
        out.alerts_by_rule = Counter({str(k): int(v) for k, v in data["alerts_by_rule"]})
        out.alerts_by_key = _capped_from_state(data["alerts_by_key"])
        out.recent_alerts.extend(Event(*e) for e in data["recent_alerts"])
        for n, state, since, calls, ok, bad, rejected, opens, last_failure in data["breakers"]:
            br = out.breakers[str(n)] = _Breaker()
            br.state, br.since = str(state), _opt_int(since)
            br.calls, br.successes, br.failures = int(calls), int(ok), int(bad)
            br.rejected, br.opens, br.last_failure = (
                int(rejected),
                int(opens),
                _opt_int(last_failure),
            )
        out.journal_counts = Counter({str(k): int(v) for k, v in data["journal_counts"]})
        out.last_outage_start = _opt_int(data["last_outage_start"])
        seconds = data["last_outage_seconds"]
        out.last_outage_seconds = None if seconds is None else float(seconds)
        return out

    def assign(self, other: JournalState) -> None:
        """Become ``other`` (takes its containers: do not use ``other`` afterwards)."""
        vars(self).update(vars(other))

    # ------------------------------------------------------------ reading

    def rates(self, at: int) -> ErrorRates:
        """Errors/minute in the trailing windows ending at ``at`` (whole seconds)."""
        return self.capture(at).build().rates

    def capture(self, at: int | None = None) -> SnapshotParts:
        """Copy what a snapshot as of ``at`` needs (default: the newest event time seen).

        Bounded work: one entry per live-tracked type (at most ``max_live_types``), the
        rings, the breakers and the incidents kept; nothing proportional to traffic.
        """
        at = self.newest_ts if at is None else at
        ref = at if at is not None else 0
        a = ref // SECOND_US
        windows = RATE_WINDOWS_S
        types = tuple(
            (t, s.count, s.first_seen, s.last_seen, s.per_second.counts(a, windows))
            for t, s in self.types.items()
        )
        life = JournalLife(
            counts=dict(self.journal_counts),
            outages=self.journal_counts.get("store_unavailable", 0),
            last_outage_start=self.last_outage_start,
            last_outage_seconds=self.last_outage_seconds,
            outage_ongoing=self.last_outage_start is not None and self.last_outage_seconds is None,
        )
        return SnapshotParts(
            at=at,
            ref=ref,
            events_seen=self.events_seen,
            last_id=self.last_id,
            total=self.total,
            types=types,
            by_name=dict(self.names.counts),
            by_severity=dict(self.by_severity),
            diversity=len(self.seen_types),
            diversity_exact=self.diversity_exact,
            untracked=self.untracked,
            evicted_types=self.evicted_types,
            cleared_at=self.cleared_at,
            window_counts=self.per_second.counts(a, windows),
            critical_recent=self.critical.count(a, CRITICAL_LOOKBACK_S),
            recent_errors=tuple(self.recent_errors),
            alerts_by_rule=dict(self.alerts_by_rule),
            alerts_by_key=dict(self.alerts_by_key.counts),
            alerts_total=self.alerts_total,
            recent_alerts=tuple(self.recent_alerts),
            breakers=tuple(
                BreakerRow(
                    name,
                    b.state,
                    b.since,
                    b.calls,
                    b.successes,
                    b.failures,
                    b.rejected,
                    b.opens,
                    b.last_failure,
                )
                for name, b in sorted(self.breakers.items())
            ),
            incidents=self.incidents.capture(ref),
            journal=life,
        )

    def snapshot(self, at: int | None = None) -> JournalSnapshot:
        """Everything as of ``at`` (default: the newest event time seen)."""
        return self.capture(at).build()

    def sizes(self) -> dict[str, int]:
        """Lengths of the live containers (bounded whatever the traffic; for tests and benchmarks)."""
        inc = self.incidents
        return {
            "types": len(self.types),
            "type_seconds_max": max((len(s.per_second) for s in self.types.values()), default=0),
            "names": len(self.names.counts),
            "seen_types": len(self.seen_types),
            "seconds": len(self.per_second),
            "recent_errors": len(self.recent_errors),
            "alert_keys": len(self.alerts_by_key.counts),
            "breakers": len(self.breakers),
            "burst_types": len(inc.tracks),
            "open_bursts": len(inc.open_bursts),
            "burst_schedule": len(inc._due),
            "incidents": len(inc.closed),
        }
