"""Incidents as a pure fold: breaker outages and error bursts, with durations and MTTR.

- A **breaker incident** starts when a breaker transitions to OPEN and ends when it next
  reaches CLOSED; HALF_OPEN -> OPEN flapping stays one incident (``opens`` counts them).
- An **error burst** of an error type starts at the error that makes the count of that
  type within the trailing window (5 min) exceed the threshold (10), and ends at the moment
  the trailing count falls back to the threshold: when the error that tipped it leaves the
  window, i.e. at ``ts + window`` of that error. The end is exact, whenever it is observed.
- MTTR is the mean duration of resolved incidents (overall and per kind), over every
  incident ever resolved; the list of incidents kept is bounded.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

BURST_THRESHOLD = 10
BURST_WINDOW_US = 5 * 60_000_000
MAX_INCIDENTS = 10_000


@dataclass(frozen=True, slots=True)
class Incident:
    """A breaker outage or an error burst."""

    kind: str  # "breaker" | "burst"
    key: str  # breaker name or error type
    start: int
    end: int | None
    duration_us: int  # up to ``at`` while ongoing
    opens: int = 0  # breaker: transitions to OPEN within; burst: peak count in the window
    errors: int = 0  # burst: errors of the type during the incident

    @property
    def ongoing(self) -> bool:
        """Has it not ended yet?"""
        return self.end is None

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.duration_us / 1e6


@dataclass(frozen=True, slots=True)
class IncidentsSnapshot:
    """Incidents (oldest first, bounded), ongoing ones included, and MTTR."""

    items: tuple[Incident, ...]
    resolved: int
    mttr_s: float | None
    mttr_by_kind: Mapping[str, float]

    @property
    def ongoing(self) -> tuple[Incident, ...]:
        """The incidents that have not ended."""
        return tuple(i for i in self.items if i.end is None)


class _Open:
    __slots__ = ("errors", "key", "kind", "opens", "start")

    def __init__(self, kind: str, key: str, start: int) -> None:
        self.kind, self.key, self.start = kind, key, start
        self.opens = 1
        self.errors = 0


class IncidentTracker:
    """The mutable fold behind `IncidentsSnapshot`."""

    def __init__(self, threshold: int = BURST_THRESHOLD, window_us: int = BURST_WINDOW_US) -> None:
        self.threshold = threshold
        self.window_us = window_us
        self.closed: deque[Incident] = deque(maxlen=MAX_INCIDENTS)
        self.open_breakers: dict[str, _Open] = {}
        self.open_bursts: dict[str, _Open] = {}
        self.recent: dict[str, deque[int]] = {}  # error type -> ts within the window
        # (earliest time its window can drain, error type): one entry per open burst, so
        # `advance` touches only the bursts that are due. Entries may be early, never late.
        self._due: list[tuple[int, str]] = []
        self._scheduled: dict[str, int] = {}  # error type -> time of its live heap entry
        self._sum: dict[str, int] = {"breaker": 0, "burst": 0}
        self._n: dict[str, int] = {"breaker": 0, "burst": 0}

    def _close(self, o: _Open, end: int) -> None:
        duration = max(0, end - o.start)
        peak = o.opens
        self.closed.append(Incident(o.kind, o.key, o.start, end, duration, peak, o.errors))
        self._sum[o.kind] += duration
        self._n[o.kind] += 1

    # ------------------------------------------------------------ folding

    def breaker(self, name: str, state_to: str, ts: int) -> None:
        """A breaker transition."""
        current = self.open_breakers.get(name)
        if state_to == "OPEN":
            if current is None:
                self.open_breakers[name] = _Open("breaker", name, ts)
            else:
                current.opens += 1
        elif state_to == "CLOSED" and current is not None:
            del self.open_breakers[name]
            self._close(current, ts)

    def _expire(self, etype: str, dq: deque[int], now: int) -> None:
        horizon = now - self.window_us
        burst = self.open_bursts.get(etype)
        while dq and dq[0] <= horizon:
            t = dq.popleft()
            if burst is not None and len(dq) <= self.threshold:
                # the trailing count fell back to the threshold when ``t`` left the window
                del self.open_bursts[etype]
                self._close(burst, t + self.window_us)
                burst = None

    def error(self, etype: str, ts: int) -> None:
        """An error of ``etype`` at ``ts``."""
        dq = self.recent.get(etype)
        if dq is None:
            dq = self.recent[etype] = deque()
        self._expire(etype, dq, ts)
        dq.append(ts)
        burst = self.open_bursts.get(etype)
        if burst is not None:
            burst.errors += 1
            burst.opens = max(burst.opens, len(dq))
        elif len(dq) > self.threshold:
            o = _Open("burst", etype, ts)
            o.errors = len(dq)
            o.opens = len(dq)
            self.open_bursts[etype] = o
            self._schedule(etype, dq[0] + self.window_us)

    def advance(self, now: int) -> None:
        """Time moved to ``now``: close bursts whose window has drained."""
        due = self._due
        while due and due[0][0] <= now:
            when, etype = heapq.heappop(due)
            if self._scheduled.get(etype) != when or etype not in self.open_bursts:
                continue  # a stale entry
            del self._scheduled[etype]
            dq = self.recent[etype]
            self._expire(etype, dq, now)
            if etype in self.open_bursts:
                self._schedule(etype, dq[0] + self.window_us)

    def _schedule(self, etype: str, when: int) -> None:
        self._scheduled[etype] = when
        heapq.heappush(self._due, (when, etype))

    # ------------------------------------------------------------ reading

    def _burst_end(self, etype: str, at: int) -> int | None:
        """When an open burst ends if time reaches ``at`` with no new error (None: still on)."""
        dq = self.recent[etype]
        horizon = at - self.window_us
        remaining = len(dq)
        for t in dq:
            if t > horizon:
                break
            remaining -= 1
            if remaining <= self.threshold:
                return t + self.window_us
        return None

    def snapshot(self, at: int) -> IncidentsSnapshot:
        """Incidents as of ``at`` (does not change the fold)."""
        items = list(self.closed)
        sums = dict(self._sum)
        counts = dict(self._n)
        for o in self.open_breakers.values():
            items.append(
                Incident("breaker", o.key, o.start, None, max(0, at - o.start), o.opens, 0)
            )
        for etype, o in self.open_bursts.items():
            end = self._burst_end(etype, at)
            if end is None:
                items.append(
                    Incident("burst", etype, o.start, None, max(0, at - o.start), o.opens, o.errors)
                )
            else:
                items.append(
                    Incident("burst", etype, o.start, end, end - o.start, o.opens, o.errors)
                )
                sums["burst"] += end - o.start
                counts["burst"] += 1
        items.sort(key=lambda i: (i.start, i.kind, i.key))
        resolved = sum(counts.values())
        mttr = (sum(sums.values()) / resolved / 1e6) if resolved else None
        by_kind = {k: sums[k] / counts[k] / 1e6 for k in counts if counts[k]}
        return IncidentsSnapshot(
            items=tuple(items), resolved=resolved, mttr_s=mttr, mttr_by_kind=by_kind
        )
