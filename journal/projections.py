"""Pure projections: folds of events into counts, rates, breaker states, incidents, health.

No IO, no threads, no wall clock. Time is the events' ``ts`` (int microseconds UTC)
or the explicit ``at`` of `JournalState.snapshot`. The live process and replay
feed the same `JournalState`, so they give the same answers.

Definitions (all on event time):
- *rates*: errors in the trailing window ``(at - w, at]`` divided by the window in
  minutes, for w = 1, 5, 15 minutes; per type likewise.
- *per-type rate since first seen*: count / max(1, minutes from the first error of that
  type (since the last clear) to ``at``) -- the seed dashboard's ``25 errors (2.50/min)``.
- a ``journal`` event ``tracker_cleared`` restarts counts and rates (history stays); the
  other ``journal`` events (store outages, spool drains, sink errors, resets) are counted,
  and the last store outage is kept with its duration.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from journal.events import Event
from journal.incidents import IncidentsSnapshot, IncidentTracker

MINUTE_US = 60_000_000
RATE_WINDOWS_MIN = (1, 5, 15)
RECENT_ERRORS = 1000
RECENT_ALERTS = 100


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Error counts since the last clear."""

    total: int
    by_type: Mapping[str, int]
    by_name: Mapping[str, int]
    by_severity: Mapping[str, int]
    diversity: int
    first_seen: Mapping[str, int]
    last_seen: Mapping[str, int]
    rate_since_first: Mapping[str, float]
    cleared_at: int | None


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


class JournalState:
    """The aggregate fold: ``apply(event)`` for each event, ``snapshot(at)`` to read."""

    def __init__(self) -> None:
        self.events_seen = 0
        self.newest_ts: int | None = None
        self.last_id: int | None = None
        self._reset_errors(None)
        self.recent_errors: deque[Event] = deque(maxlen=RECENT_ERRORS)
        self.alerts_by_rule: Counter[str] = Counter()
        self.alerts_by_key: Counter[str] = Counter()
        self.recent_alerts: deque[Event] = deque(maxlen=RECENT_ALERTS)
        self.breakers: dict[str, _Breaker] = {}
        self.incidents = IncidentTracker()
        self.journal_counts: Counter[str] = Counter()
        self.last_outage_start: int | None = None
        self.last_outage_seconds: float | None = None

    def _reset_errors(self, at: int | None) -> None:
        self.cleared_at = at
        self.total = 0
        self.by_type: Counter[str] = Counter()
        self.by_name: Counter[str] = Counter()
        self.by_severity: Counter[str] = Counter()
        self.first_seen: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}
        # (ts, error_type) of errors within the widest rate window of the newest error
        self.window: deque[tuple[int, str]] = deque()

    # ------------------------------------------------------------ folding

    def apply(self, e: Event) -> None:
        """Fold one event in (events should arrive in ts order per source; late ones are tolerated)."""
        self.events_seen += 1
        ts = e.ts
        if self.newest_ts is None or ts > self.newest_ts:
            self.newest_ts = ts
        if e.id is not None:
            self.last_id = e.id
        kind = e.kind
        if kind == "error":
            self._apply_error(e, ts)
        elif kind == "calls":
            self._apply_calls(e, ts)
        elif kind == "breaker":
            self._apply_breaker(e, ts)
        elif kind == "alert":
            self.alerts_by_rule[e.error_type or ""] += 1
            self.alerts_by_key[e.name] += 1
            self.recent_alerts.append(e)
        elif kind == "journal":
            self._apply_journal(e, ts)
        self.incidents.advance(ts)

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
        self.total += 1
        self.by_type[etype] += 1
        self.by_name[e.name] += 1
        self.by_severity[e.severity or "ERROR"] += 1
        if etype not in self.first_seen:
            self.first_seen[etype] = ts
        if ts > self.last_seen.get(etype, ts - 1):
            self.last_seen[etype] = ts
        self.recent_errors.append(e)
        window = self.window
        window.append((ts, etype))
        horizon = (self.newest_ts or ts) - RATE_WINDOWS_MIN[-1] * MINUTE_US
        while window and window[0][0] <= horizon:
            window.popleft()
        self.incidents.error(etype, ts)

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

    # ------------------------------------------------------------ reading

    def rates(self, at: int) -> ErrorRates:
        """Errors/minute in the trailing windows ending at ``at``."""
        total = {}
        by_type: dict[str, dict[int, float]] = {}
        for minutes in RATE_WINDOWS_MIN:
            lo = at - minutes * MINUTE_US
            n = 0
            per: Counter[str] = Counter()
            for ts, etype in self.window:
                if lo < ts <= at:
                    n += 1
                    per[etype] += 1
            total[minutes] = n / minutes
            for etype, c in per.items():
                by_type.setdefault(etype, {m: 0.0 for m in RATE_WINDOWS_MIN})[minutes] = c / minutes
        return ErrorRates(total=total, by_type=by_type)

    def snapshot(self, at: int | None = None) -> JournalSnapshot:
        """Everything as of ``at`` (default: the newest event time seen)."""
        at = self.newest_ts if at is None else at
        ref = at if at is not None else 0
        rate_since_first = {
            t: self.by_type[t] / max(1.0, (ref - first) / MINUTE_US)
            for t, first in self.first_seen.items()
        }
        errors = ErrorStats(
            total=self.total,
            by_type=dict(self.by_type.most_common()),
            by_name=dict(self.by_name.most_common()),
            by_severity=dict(self.by_severity),
            diversity=len(self.by_type),
            first_seen=dict(self.first_seen),
            last_seen=dict(self.last_seen),
            rate_since_first=rate_since_first,
            cleared_at=self.cleared_at,
        )
        rates = self.rates(ref)
        breakers = {
            name: BreakerRow(
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
        }
        alerts = AlertStats(
            total=sum(self.alerts_by_rule.values()),
            by_rule=dict(self.alerts_by_rule),
            by_key=dict(self.alerts_by_key),
            recent=tuple(self.recent_alerts),
        )
        incidents = self.incidents.snapshot(ref)
        recent = tuple(self.recent_errors)
        from journal.health import assess

        health = assess(errors, rates, recent, breakers, incidents, ref)
        life = JournalLife(
            counts=dict(self.journal_counts),
            outages=self.journal_counts.get("store_unavailable", 0),
            last_outage_start=self.last_outage_start,
            last_outage_seconds=self.last_outage_seconds,
            outage_ongoing=self.last_outage_start is not None and self.last_outage_seconds is None,
        )
        return JournalSnapshot(
            at=at,
            events_seen=self.events_seen,
            last_id=self.last_id,
            errors=errors,
            rates=rates,
            recent_errors=recent,
            alerts=alerts,
            breakers=breakers,
            incidents=incidents,
            health=health,
            journal=life,
        )
