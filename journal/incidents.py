"""Incidents as a pure fold: breaker outages and error bursts, with durations and MTTR.

- A **breaker incident** starts when a breaker transitions to OPEN and ends when it next
  reaches CLOSED; HALF_OPEN -> OPEN flapping stays one incident (``opens`` counts them).
- An **error burst** of an error type starts at the error that makes the count of that
  type within the trailing window (5 min) exceed the threshold (10), and ends at the moment
  the trailing count falls back to the threshold: when the error that tipped it leaves the
  window, i.e. at ``ts + window`` of that error. The end is exact, whenever it is observed.
  Only the last ``threshold + 1`` times of a type are needed for both, so that is all the
  fold keeps per type. A burst's ``opens`` is its peak: the most errors of the type in one
  window while it lasted, counted in 10-second buckets (``ts // 10 s``; the window read at
  bucket ``b`` holds buckets ``(b - 30, b]``), and at least threshold + 1. Buckets keep the
  state of an open burst to at most 30 counters whatever the traffic.
- Burst tracking is bounded: a type with no error for a whole window is forgotten (by
  event time, in `IncidentTracker.advance`), and at most ``max_types`` (2,000) types are
  followed at once; past that, the least recently seen type without an open burst makes
  room, or, if it has one, the new type is not followed until room is made
  (``untracked_errors`` counts those errors). So in a storm over many more types than that,
  a rarely seen type can be evicted before it reaches the threshold and its burst is not
  reported (the error rates and health still show the storm); the journal keeps every
  event, and a replay with a larger ``max_burst_types`` or over one type finds it. This also
  bounds what a snapshot itemises: at most 2,000 ongoing bursts and 10,000 closed incidents.
- MTTR is the mean duration of resolved incidents (overall and per kind), over every
  incident ever resolved; the list of incidents kept is bounded.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import insort
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

BURST_THRESHOLD = 10
BURST_WINDOW_US = 5 * 60_000_000
MAX_INCIDENTS = 10_000
MAX_BURST_TYPES = 2_000
PEAK_BUCKET_US = 10_000_000  # resolution of a burst's peak count


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


# An open burst as folded: (start, peak, errors, end if no further error of its type comes).
# A plain tuple, replaced (not mutated) on each error, so a read copies them all at C speed.
BurstView = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class IncidentsCapture:
    """The bounded parts of an `IncidentTracker` as of ``at``, copied under the fold lock."""

    at: int
    closed: tuple[Incident, ...]
    open_items: tuple[Incident, ...]  # open breakers
    bursts: tuple[tuple[str, BurstView], ...]  # open bursts as folded
    sums: Mapping[str, int]
    counts: Mapping[str, int]

    def build(self) -> IncidentsSnapshot:
        """Sort and summarise (no lock needed: the capture is immutable)."""
        at = self.at
        items = [*self.closed, *self.open_items]
        sums = dict(self.sums)
        counts = dict(self.counts)
        for etype, (start, peak, errors, end) in self.bursts:
            if end > at:
                items.append(
                    Incident("burst", etype, start, None, max(0, at - start), peak, errors)
                )
            else:  # its window drained by ``at``: ended, exactly at ``end``
                items.append(Incident("burst", etype, start, end, end - start, peak, errors))
                sums["burst"] += end - start
                counts["burst"] += 1
        items.sort(key=_ORDER)
        resolved = sum(counts.values())
        mttr = (sum(sums.values()) / resolved / 1e6) if resolved else None
        by_kind = {k: sums[k] / n / 1e6 for k, n in counts.items() if n}
        return IncidentsSnapshot(
            items=tuple(items), resolved=resolved, mttr_s=mttr, mttr_by_kind=by_kind
        )


_ORDER = attrgetter("start", "kind", "key")


def _incident_fields(i: Incident) -> tuple[Any, ...]:
    return (i.kind, i.key, i.start, i.end, i.duration_us, i.opens, i.errors)


class _Open:
    __slots__ = ("bucket", "due", "errors", "key", "kind", "now", "opens", "ring", "start")

    def __init__(self, kind: str, key: str, start: int) -> None:
        self.kind, self.key, self.start = kind, key, start
        self.opens = 1
        self.errors = 0
        # bursts only: a ring of per-bucket counts over the window (the rolling-number idea:
        # fixed size, a record touches one slot), its newest bucket, the count it holds, and
        # the time of the burst's live entry in the schedule
        self.ring = _EMPTY
        self.bucket = 0
        self.now = 0
        self.due = 0

    def count(self, b: int) -> None:
        """One error in bucket ``b``: slide the ring, count it, keep the peak."""
        ring = self.ring
        n = len(ring)
        newest = self.bucket
        if b > newest:
            for k in range(newest + 1, min(b, newest + n) + 1):  # buckets leaving the window
                i = k % n
                self.now -= ring[i]
                ring[i] = 0
            self.bucket = b
        elif b <= newest - n:
            return  # a late error older than the window
        ring[b % n] += 1
        self.now += 1
        if self.now > self.opens:
            self.opens = self.now


_EMPTY = array("i")


def _open_to_state(o: _Open) -> list[Any]:
    return [o.kind, o.key, o.start, o.opens, o.errors, o.ring.tolist(), o.bucket, o.now, o.due]


def _open_from_state(data: list[Any]) -> _Open:
    kind, key, start, opens, errors, ring, bucket, now, due = data
    o = _Open(str(kind), str(key), int(start))
    o.opens, o.errors = int(opens), int(errors)
    o.ring = array("i", ring) if ring else _EMPTY
    o.bucket, o.now, o.due = int(bucket), int(now), int(due)
    return o


class _Track:
    """One error type's burst state: its last ``threshold + 1`` error times (ascending)."""

    __slots__ = ("burst", "last")

    def __init__(self) -> None:
        self.last = array("q")
        self.burst: _Open | None = None


class IncidentTracker:
    """The mutable fold behind `IncidentsSnapshot`."""

    def __init__(
        self,
        threshold: int = BURST_THRESHOLD,
        window_us: int = BURST_WINDOW_US,
        max_types: int = MAX_BURST_TYPES,
    ) -> None:
        self.threshold = threshold
        self.window_us = window_us
        self.max_types = max(1, max_types)
        self.closed: deque[Incident] = deque(maxlen=MAX_INCIDENTS)
        self.open_breakers: dict[str, _Open] = {}
        self.open_bursts: dict[str, BurstView] = {}  # error type -> its open burst
        # error type -> burst state, least recently seen first (fold order): the front is
        # what `advance` forgets when idle and what makes room at the cap
        self.tracks: OrderedDict[str, _Track] = OrderedDict()
        self.untracked_errors = 0
        self._sweep_at = 0  # no idle type to forget before this time
        self._peak_buckets = max(1, window_us // PEAK_BUCKET_US)
        # (exact end of an open burst if no error comes, error type): one live entry per open
        # burst, so `advance` touches only the bursts that are due. Entries may be early.
        self._due: list[tuple[int, str]] = []
        self._sum: dict[str, int] = {"breaker": 0, "burst": 0}
        self._n: dict[str, int] = {"breaker": 0, "burst": 0}

    def _close(self, o: _Open, end: int) -> None:
        duration = max(0, end - o.start)
        self.closed.append(Incident(o.kind, o.key, o.start, end, duration, o.opens, o.errors))
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

    def _end_of(self, track: _Track) -> int:
        """When the trailing count falls back to the threshold if no error comes."""
        # the count exceeds the threshold while the oldest of the last threshold+1 is inside
        return track.last[0] + self.window_us

    def _end_burst(self, etype: str, track: _Track, end: int) -> None:
        burst = track.burst
        assert burst is not None
        track.burst = None
        del self.open_bursts[etype]
        self._close(burst, end)

    def _admit(self, etype: str, ts: int) -> _Track | None:
        tracks = self.tracks
        if len(tracks) >= self.max_types:
            self.advance(ts)  # bursts that ended and idle types by now make room first
        if len(tracks) >= self.max_types:
            oldest, front = next(iter(tracks.items()))
            if front.burst is not None:
                return None
            del tracks[oldest]
        track = tracks[etype] = _Track()
        return track

    def error(self, etype: str, ts: int) -> None:
        """An error of ``etype`` at ``ts``."""
        track = self.tracks.get(etype)
        if track is None:
            track = self._admit(etype, ts)
            if track is None:
                self.untracked_errors += 1
                return
        else:
            self.tracks.move_to_end(etype)
        last = track.last
        burst = track.burst
        if burst is not None and last[0] + self.window_us <= ts:
            self._end_burst(etype, track, last[0] + self.window_us)
            burst = None
        if last and ts < last[-1]:
            insort(last, ts)  # a late event keeps the times in order
        else:
            last.append(ts)
        if len(last) > self.threshold + 1:
            del last[0]
        if burst is not None:
            burst.errors += 1
            burst.count(ts // PEAK_BUCKET_US)
            self.open_bursts[etype] = (
                burst.start,
                burst.opens,
                burst.errors,
                last[0] + self.window_us,
            )
            # no new heap entry: the one scheduled is now early and reschedules when it pops
        elif len(last) > self.threshold and last[0] > ts - self.window_us:
            o = _Open("burst", etype, ts)
            o.errors = o.opens = len(last)
            o.ring = array("i", bytes(4 * self._peak_buckets))
            o.bucket = ts // PEAK_BUCKET_US
            for t in last:
                o.count(t // PEAK_BUCKET_US)
            track.burst = o
            self.open_bursts[etype] = (o.start, o.opens, o.errors, self._end_of(track))
            self._schedule(etype, o, self._end_of(track))

    def advance(self, now: int) -> None:
        """Time moved to ``now``: close bursts whose window has drained, forget idle types."""
        due = self._due
        while due and due[0][0] <= now:
            when, etype = heapq.heappop(due)
            track = self.tracks.get(etype)
            burst = track.burst if track is not None else None
            if track is None or burst is None or burst.due != when:
                continue  # a stale entry
            end = self._end_of(track)
            if end <= now:
                self._end_burst(etype, track, end)
            else:
                self._schedule(etype, burst, end)
        if now < self._sweep_at:
            return
        tracks = self.tracks
        horizon = now - self.window_us
        while tracks:
            etype, track = next(iter(tracks.items()))
            if track.burst is not None or track.last[-1] > horizon:
                # no type can be idle before the front is (fold order ~ event time; a late
                # event only makes this early, and early just means another look)
                self._sweep_at = track.last[-1] + self.window_us
                break
            del tracks[etype]

    def _schedule(self, etype: str, burst: _Open, when: int) -> None:
        burst.due = when
        heapq.heappush(self._due, (when, etype))

    # ------------------------------------------------------------ serialising

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state: everything the fold holds, so `from_state` folds on identically."""
        return {
            "bounds": [self.threshold, self.window_us, self.max_types],
            "closed": [list(_incident_fields(i)) for i in self.closed],
            "open_breakers": [[k, _open_to_state(o)] for k, o in self.open_breakers.items()],
            "open_bursts": [[k, list(v)] for k, v in self.open_bursts.items()],
            "tracks": [
                [k, t.last.tolist(), None if t.burst is None else _open_to_state(t.burst)]
                for k, t in self.tracks.items()
            ],
            "untracked_errors": self.untracked_errors,
            "sweep_at": self._sweep_at,
            "due": [list(d) for d in self._due],  # a heap as a list stays a heap
            "sum": dict(self._sum),
            "n": dict(self._n),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> IncidentTracker:
        """The tracker `to_state` described."""
        threshold, window_us, max_types = data["bounds"]
        out = cls(int(threshold), int(window_us), int(max_types))
        out.closed.extend(Incident(*i) for i in data["closed"])
        out.open_breakers = {str(k): _open_from_state(o) for k, o in data["open_breakers"]}
        out.open_bursts = {
            str(k): (int(a), int(b), int(c), int(d)) for k, (a, b, c, d) in data["open_bursts"]
        }
        for k, last, burst in data["tracks"]:
            track = _Track()
            track.last = array("q", last)
            track.burst = None if burst is None else _open_from_state(burst)
            out.tracks[str(k)] = track
        out.untracked_errors = int(data["untracked_errors"])
        out._sweep_at = int(data["sweep_at"])
        out._due = [(int(when), str(etype)) for when, etype in data["due"]]
        out._sum = {str(k): int(v) for k, v in data["sum"].items()}
        out._n = {str(k): int(v) for k, v in data["n"].items()}
        return out

    # ------------------------------------------------------------ reading

    def capture(self, at: int) -> IncidentsCapture:
        """The bounded parts needed for a snapshot as of ``at`` (C-level copies; no change to the fold)."""
        open_items = tuple(
            Incident("breaker", o.key, o.start, None, max(0, at - o.start), o.opens, 0)
            for o in self.open_breakers.values()
        )
        return IncidentsCapture(
            at,
            tuple(self.closed),
            open_items,
            tuple(self.open_bursts.items()),
            dict(self._sum),
            dict(self._n),
        )

    def snapshot(self, at: int) -> IncidentsSnapshot:
        """Incidents as of ``at`` (does not change the fold)."""
        return self.capture(at).build()
