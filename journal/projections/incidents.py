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
- **Errors during an incident, and their peak per minute** (what ``journal incidents``
  lists): for a breaker the errors whose ``name`` is the breaker, for a burst the errors of
  its type, with ``start <= ts <= end``, and the most of them within any 60 seconds (a
  sliding window over their times in fold order). The fold tallies the errors it folds while
  the incident is open (`Incident.tally`); that equals the definition unless an error of
  the span was folded before the incident opened or after it closed (ties, late events).
  The fold notes when that may have happened: at the open (an error as new as the start was
  already folded), or afterwards (an error no newer than the end of some closed incident:
  its time joins a bounded set of doubtful intervals). `IncidentsSnapshot.tally` gives the
  tally only when neither touched the incident; otherwise the caller counts from the events.
"""

from __future__ import annotations

import base64
import heapq
import sys
from array import array
from bisect import bisect_right, insort
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, overload

BURST_THRESHOLD = 10
BURST_WINDOW_US = 5 * 60_000_000
MAX_INCIDENTS = 10_000
MAX_BURST_TYPES = 2_000
PEAK_BUCKET_US = 10_000_000  # resolution of a burst's peak count
PEAK_WINDOW_US = 60_000_000  # the tally's "peak errors per minute" window
MAX_TALLY_WINDOW = 10_000  # errors in one 60 s window past which a tally gives up (bounded)
MAX_DOUBT = 64  # doubtful intervals kept (merged beyond: more doubt, never less)


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
    # (errors, peak per 60 s) folded while open, None if unknown; see `IncidentsSnapshot.tally`
    tally: tuple[int, int] | None = None

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

    items: Sequence[Incident]  # an `IncidentList` when built from the fold
    resolved: int
    mttr_s: float | None
    mttr_by_kind: Mapping[str, float]
    doubt: tuple[tuple[int, int], ...] = ()  # times of errors folded out of place

    @property
    def ongoing(self) -> tuple[Incident, ...]:
        """The incidents that have not ended."""
        if isinstance(self.items, IncidentList):
            return self.items.ongoing()
        return tuple(i for i in self.items if i.end is None)

    def tally(self, incident: Incident, until: int) -> tuple[int, int] | None:
        """(errors, peak per 60 s) during ``incident`` (ongoing: up to ``until``), if the fold's
        tally is exact for it; None: count them from the events."""
        if incident.tally is None:
            return None
        end = until if incident.end is None else incident.end
        start = incident.start
        for lo, hi in self.doubt:
            if lo <= end and hi >= start:
                return None
        return incident.tally


# An open burst as a capture sees it: (start, peak, errors, end if no further error of its
# type comes). Made when read (`IncidentTracker.capture`), not on each error.
BurstView = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class IncidentsCapture:
    """The bounded parts of an `IncidentTracker` as of ``at``, copied under the fold lock."""

    at: int
    closed: tuple[list[str], array[int], int, tuple[Incident, ...]]  # `ClosedLog.view`
    open_items: tuple[Incident, ...]  # open breakers
    bursts: tuple[tuple[str, BurstView], ...]  # open bursts as folded
    sums: Mapping[str, int]
    counts: Mapping[str, int]
    tallies: Mapping[str, tuple[int, int, int] | None] = field(default_factory=dict)
    doubt: tuple[tuple[int, int], ...] = ()

    def build(self, since: int | None = None) -> IncidentsSnapshot:
        """Sort and summarise (no lock needed: the capture is immutable).

        ``since``: list only the incidents ending at or after it (and the ongoing ones);
        the counts and MTTR still cover every incident.
        """
        at = self.at
        items = list(self.open_items)
        sums = dict(self.sums)
        counts = dict(self.counts)
        tallies = self.tallies
        for etype, (start, peak, errors, end) in self.bursts:
            t = tallies.get(etype)
            if end > at:
                tally = None if t is None or t[2] > at else (t[0], t[1])
                items.append(
                    Incident("burst", etype, start, None, max(0, at - start), peak, errors, tally)
                )
            else:  # its window drained by ``at``: ended, exactly at ``end``
                tally = None if t is None or t[2] > end else (t[0], t[1])
                items.append(Incident("burst", etype, start, end, end - start, peak, errors, tally))
                sums["burst"] += end - start
                counts["burst"] += 1
        resolved = sum(counts.values())
        mttr = (sum(sums.values()) / resolved / 1e6) if resolved else None
        by_kind = {k: sums[k] / n / 1e6 for k, n in counts.items() if n}
        return IncidentsSnapshot(
            items=IncidentList(self.closed, since, tuple(items)),
            resolved=resolved,
            mttr_s=mttr,
            mttr_by_kind=by_kind,
            doubt=self.doubt,
        )


_ORDER = attrgetter("start", "kind", "key")


class IncidentList(Sequence[Incident]):
    """The incidents of a snapshot, sorted by start: the closed ones are unpacked and sorted
    on first use (a snapshot that nobody lists costs nothing per closed incident)."""

    __slots__ = ("_closed", "_current", "_items", "_since")

    def __init__(
        self,
        closed: tuple[list[str], array[int], int, tuple[Incident, ...]],
        since: int | None,
        current: tuple[Incident, ...],
    ) -> None:
        self._closed, self._since, self._current = closed, since, current
        self._items: tuple[Incident, ...] | None = None

    def _all(self) -> tuple[Incident, ...]:
        if self._items is None:
            items = unpack(self._closed, self._since)
            items.extend(self._current)
            items.sort(key=_ORDER)
            self._items = tuple(items)
        return self._items

    def ongoing(self) -> tuple[Incident, ...]:
        """The incidents that have not ended, in order (without unpacking the closed ones)."""
        return tuple(sorted((i for i in self._current if i.end is None), key=_ORDER))

    @overload
    def __getitem__(self, index: int) -> Incident: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Incident, ...]: ...
    def __getitem__(self, index: int | slice) -> Incident | tuple[Incident, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Incident]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IncidentList):
            other = other._all()
        return isinstance(other, Sequence) and self._all() == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())


_KINDS = ("breaker", "burst")
_WIDTH = 9  # int64 fields per packed closed incident
_BIG_ENDIAN = sys.byteorder == "big"


class ClosedLog:
    """The closed incidents, oldest first, at most ``maxlen`` (the oldest go first).

    A snapshot stores them packed (`to_state`: a key table and base64 of int64 rows), and a
    log loaded from one keeps the rows packed until they are read (`items`), so loading a
    snapshot costs the same whatever the journal's age; incidents closed since are kept as
    objects after the packed rows.
    """

    __slots__ = ("_items", "_keys", "_packed", "_skip", "maxlen")

    def __init__(self, maxlen: int = MAX_INCIDENTS) -> None:
        self.maxlen = maxlen
        self._items: deque[Incident] = deque(maxlen=maxlen)
        self._keys: list[str] = []
        self._packed = array("q")  # never changed in place once loaded: captures share it
        self._skip = 0  # packed rows dropped from the front (the log was full)

    def __len__(self) -> int:
        return len(self._packed) // _WIDTH - self._skip + len(self._items)

    def append(self, incident: Incident) -> None:
        """Add the newest closed incident (dropping the oldest when full)."""
        if len(self._items) < self.maxlen and len(self) >= self.maxlen:
            self._skip += 1  # the oldest is a packed row
        self._items.append(incident)

    def view(self) -> tuple[list[str], array[int], int, tuple[Incident, ...]]:
        """An immutable copy for a capture (the packed rows are shared, not copied)."""
        return self._keys, self._packed, self._skip, tuple(self._items)

    def items(self) -> list[Incident]:
        """Every closed incident, oldest first."""
        return unpack(self.view())

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: ``keys`` and ``rows`` (base64 of the int64 rows, little-endian)."""
        keys, packed, skip, items = self.view()
        index = {k: n for n, k in enumerate(keys)}
        table = list(keys)
        rows = packed[skip * _WIDTH :]
        for i in items:
            n = index.get(i.key)
            if n is None:
                n = index[i.key] = len(table)
                table.append(i.key)
            t = i.tally
            end = i.end if i.end is not None else -1
            rows.extend((_KINDS.index(i.kind), n, i.start, end, i.duration_us, i.opens, i.errors,
                         -1 if t is None else t[0], -1 if t is None else t[1]))  # fmt: skip
        if len(table) > 2 * (len(rows) // _WIDTH) + 64:  # keys of dropped rows: rebuild
            return _pack(unpack((table, rows, 0, ())))
        if _BIG_ENDIAN:
            rows.byteswap()
        return {"keys": table, "rows": base64.b64encode(rows.tobytes()).decode("ascii")}

    @classmethod
    def from_state(cls, data: Mapping[str, Any], maxlen: int = MAX_INCIDENTS) -> ClosedLog:
        """The log `to_state` described (rows stay packed until read)."""
        out = cls(maxlen)
        out._keys = [str(k) for k in data["keys"]]
        out._packed = array("q", base64.b64decode(data["rows"]))
        if _BIG_ENDIAN:
            out._packed.byteswap()
        if len(out._packed) % _WIDTH or len(out._packed) // _WIDTH > maxlen:
            raise ValueError("closed incidents of the wrong shape")
        return out


def _pack(items: list[Incident]) -> dict[str, Any]:
    log = ClosedLog(max(1, len(items)))
    log._items.extend(items)
    return log.to_state()


def unpack(
    view: tuple[list[str], array[int], int, tuple[Incident, ...]], since: int | None = None
) -> list[Incident]:
    """The incidents of a `ClosedLog.view`, oldest first (those ending at or after ``since``)."""
    keys, packed, skip, items = view
    lo = -1 if since is None else since
    out: list[Incident] = []
    append = out.append
    it = iter(packed[skip * _WIDTH :])
    for kind, key, start, end, duration, opens, errors, t_n, t_peak in zip(
        *[it] * _WIDTH, strict=True
    ):
        if end >= lo:
            append(Incident(_KINDS[kind], keys[key], start, end, duration, opens, errors,
                            None if t_n < 0 else (t_n, t_peak)))  # fmt: skip
    out.extend(i for i in items if since is None or i.end is None or i.end >= since)
    return out


class _Open:
    __slots__ = (
        "bucket",
        "due",
        "errors",
        "key",
        "kind",
        "now",
        "opens",
        "ring",
        "start",
        "t_hi",
        "t_n",
        "t_ok",
        "t_peak",
        "t_win",
    )

    def __init__(self, kind: str, key: str, start: int) -> None:
        self.kind, self.key, self.start = kind, key, start
        self.opens = 1
        self.errors = 0
        # the tally of `Incident.tally`: errors folded while open, their peak within 60 s
        # (the times of the last 60 s), the newest time counted, and whether it still holds
        self.t_n = self.t_peak = 0
        self.t_win: deque[int] = deque()
        self.t_hi = start
        self.t_ok = True
        # bursts only: a ring of per-bucket counts over the window (the rolling-number idea:
        # fixed size, a record touches one slot), its newest bucket, the count it holds, and
        # the time of the burst's live entry in the schedule
        self.ring: list[int] = []  # a list: its items are read and written without boxing
        self.bucket = 0
        self.now = 0
        self.due = 0

    def count(self, b: int) -> None:
        """One error in bucket ``b``: slide the ring, count it, keep the peak."""
        ring = self.ring
        n = len(ring)
        k = self.bucket
        now = self.now
        if b > k:
            # empty the buckets leaving the window (a plain loop: usually one step)
            stop = b if b < k + n else k + n
            while k < stop:
                k += 1
                i = k % n
                now -= ring[i]
                ring[i] = 0
            self.bucket = b
        elif b <= k - n:
            return  # a late error older than the window
        ring[b % n] += 1
        now += 1
        self.now = now
        if now > self.opens:
            self.opens = now

    def tally(self, ts: int) -> None:
        """One error of the incident folded while it is open (the CLI's sliding 60 s window)."""
        if not self.t_ok:
            return
        if ts < self.start:  # a late error from before the start: not one of the span's
            self.t_ok = False
            self.t_win = deque()
            return
        self.t_n += 1
        if ts > self.t_hi:
            self.t_hi = ts
        w = self.t_win
        w.append(ts)
        gone = ts - PEAK_WINDOW_US
        while w[0] <= gone:
            w.popleft()
        n = len(w)
        if n > self.t_peak:
            self.t_peak = n
            if n > MAX_TALLY_WINDOW:  # bounded state: give the counting back to the reader
                self.t_ok = False
                self.t_win = deque()

    def tally_until(self, end: int) -> tuple[int, int] | None:
        """The tally if it holds for a span ending at ``end``."""
        return (self.t_n, self.t_peak) if self.t_ok and self.t_hi <= end else None


def _open_to_state(o: _Open) -> list[Any]:
    tally = [o.t_n, o.t_peak, list(o.t_win), o.t_hi, o.t_ok]
    return [
        o.kind,
        o.key,
        o.start,
        o.opens,
        o.errors,
        list(o.ring),
        o.bucket,
        o.now,
        o.due,
        tally,
    ]


def _open_from_state(data: list[Any]) -> _Open:
    kind, key, start, opens, errors, ring, bucket, now, due, tally = data
    o = _Open(str(kind), str(key), int(start))
    o.opens, o.errors = int(opens), int(errors)
    o.ring = [int(n) for n in ring]
    o.bucket, o.now, o.due = int(bucket), int(now), int(due)
    t_n, t_peak, t_win, t_hi, t_ok = tally
    o.t_n, o.t_peak, o.t_win = int(t_n), int(t_peak), deque(int(t) for t in t_win)
    o.t_hi, o.t_ok = int(t_hi), bool(t_ok)
    return o


class _Track:
    """One error type's burst state: its last ``keep`` (threshold + 1) error times, ascending."""

    __slots__ = ("burst", "last")

    def __init__(self, keep: int, times: Iterable[int] = ()) -> None:
        # a deque with a maxlen: appending the newest drops the oldest, in one C call
        self.last: deque[int] = deque(times, maxlen=keep)
        self.burst: _Open | None = None


def _insort_late(last: deque[int], ts: int) -> None:
    """Put a late time in order among ``last``; if full, drop the oldest (maybe ``ts`` itself)."""
    if len(last) != last.maxlen:
        insort(last, ts)
        return
    i = bisect_right(last, ts)
    if i:  # else ts is older than every time kept: it is the one dropped
        last.popleft()
        last.insert(i - 1, ts)


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
        self.closed = ClosedLog(MAX_INCIDENTS)
        self.open_breakers: dict[str, _Open] = {}
        # error type -> its track, while it has an open burst (in the order they opened)
        self.open_bursts: dict[str, _Track] = {}
        # error type -> burst state, least recently seen first (fold order): the front is
        # what `advance` forgets when idle and what makes room at the cap
        self.tracks: OrderedDict[str, _Track] = OrderedDict()
        self.untracked_errors = 0
        self._sweep_at = 0  # no idle type to forget before this time
        self.due_at = 0  # `advance` has nothing to do before this time (it may be early)
        self._peak_buckets = max(1, window_us // PEAK_BUCKET_US)
        # (exact end of an open burst if no error comes, error type): one live entry per open
        # burst, so `advance` touches only the bursts that are due. Entries may be early.
        self._due: list[tuple[int, str]] = []
        self._sum: dict[str, int] = {"breaker": 0, "burst": 0}
        self._n: dict[str, int] = {"breaker": 0, "burst": 0}
        # for `Incident.tally`: the newest error time folded, the latest end of a closed
        # incident, and the merged intervals of error times folded at or before such an end
        self._newest_error: int | None = None
        self._closed_hi: int | None = None
        self._doubt: list[list[int]] = []

    def _close(self, o: _Open, end: int) -> None:
        duration = max(0, end - o.start)
        tally = o.tally_until(end)
        self.closed.append(
            Incident(o.kind, o.key, o.start, end, duration, o.opens, o.errors, tally)
        )
        self._sum[o.kind] += duration
        self._n[o.kind] += 1
        if self._closed_hi is None or end > self._closed_hi:
            self._closed_hi = end

    def _opening(self, o: _Open) -> _Open:
        """A new incident: its tally misses errors of its span folded already, if any."""
        if self._newest_error is not None and self._newest_error >= o.start:
            o.t_ok = False
        return o

    def _note_doubt(self, ts: int) -> None:
        """An error at ``ts`` folded after an incident that ended at or after ``ts`` closed."""
        d = self._doubt
        i = bisect_right(d, [ts, ts])  # intervals are disjoint and sorted
        if i > 0 and d[i - 1][1] >= ts:
            return
        d.insert(i, [ts, ts])
        if len(d) > MAX_DOUBT:  # merge the two closest neighbours (more doubt, never less)
            j = min(range(len(d) - 1), key=lambda k: d[k + 1][0] - d[k][1])
            d[j][1] = d[j + 1][1]
            del d[j + 1]

    # ------------------------------------------------------------ folding

    def breaker(self, name: str, state_to: str, ts: int) -> None:
        """A breaker transition."""
        current = self.open_breakers.get(name)
        if state_to == "OPEN":
            if current is None:
                self.open_breakers[name] = self._opening(_Open("breaker", name, ts))
            else:
                current.opens += 1
        elif state_to == "CLOSED" and current is not None:
            del self.open_breakers[name]
            self._close(current, ts)

    def _end_of(self, track: _Track) -> int:
        """When the trailing count falls back to the threshold if no error comes."""
        # the count exceeds the threshold while the oldest of the last threshold+1 is inside
        return track.last[0] + self.window_us

    def _view(self, track: _Track) -> BurstView:
        burst = track.burst
        assert burst is not None
        return burst.start, burst.opens, burst.errors, self._end_of(track)

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
        track = tracks[etype] = _Track(self.threshold + 1)
        return track

    def error(self, etype: str, ts: int, name: str | None = None) -> None:
        """An error of ``etype`` (from ``name``) at ``ts``."""
        if name is not None:
            o = self.open_breakers.get(name)
            if o is not None:
                o.tally(ts)
        tracks = self.tracks
        track = tracks.get(etype)
        if track is None:
            track = self._admit(etype, ts)
        else:
            tracks.move_to_end(etype)
        if track is None:
            self.untracked_errors += 1
        else:  # end, continue or open the type's burst
            window = self.window_us
            last = track.last
            burst = track.burst
            if burst is not None and last[0] + window <= ts:
                self._end_burst(etype, track, last[0] + window)
                burst = None
            if last and ts < last[-1]:
                _insort_late(last, ts)  # a late event keeps the times in order
            else:
                last.append(ts)
            if burst is not None:
                burst.errors += 1
                burst.tally(ts)
                burst.count(ts // PEAK_BUCKET_US)
                # no new heap entry: the one scheduled is now early and reschedules when it pops
            elif len(last) > self.threshold and last[0] > ts - window:
                self._open_burst(etype, track, ts)
        # after the error was folded (and any incident it ended was closed)
        closed_hi = self._closed_hi
        if closed_hi is not None and ts <= closed_hi:
            self._note_doubt(ts)
        newest = self._newest_error
        if newest is None or ts > newest:
            self._newest_error = ts

    def _open_burst(self, etype: str, track: _Track, ts: int) -> None:
        last = track.last
        o = _Open("burst", etype, ts)
        o.errors = o.opens = len(last)
        o.ring = [0] * self._peak_buckets
        o.bucket = ts // PEAK_BUCKET_US
        for t in last:
            o.count(t // PEAK_BUCKET_US)
        self._opening(o).tally(ts)
        track.burst = o
        self.open_bursts[etype] = track
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
        if now >= self._sweep_at:
            tracks = self.tracks
            horizon = now - self.window_us
            while tracks:
                etype, track = next(iter(tracks.items()))
                if track.burst is not None or track.last[-1] > horizon:
                    # no type can be idle before the front is (fold order ~ event time; a
                    # late event only makes this early, and early just means another look)
                    self._sweep_at = track.last[-1] + self.window_us
                    break
                del tracks[etype]
        self.due_at = min(due[0][0], self._sweep_at) if due else self._sweep_at

    def _schedule(self, etype: str, burst: _Open, when: int) -> None:
        burst.due = when
        if when < self.due_at:
            self.due_at = when
        heapq.heappush(self._due, (when, etype))

    # ------------------------------------------------------------ serialising

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state: everything the fold holds, so `from_state` folds on identically."""
        return {
            "bounds": [self.threshold, self.window_us, self.max_types],
            "closed": self.closed.to_state(),
            "open_breakers": [[k, _open_to_state(o)] for k, o in self.open_breakers.items()],
            "open_bursts": [[k, list(self._view(t))] for k, t in self.open_bursts.items()],
            "tracks": [
                [k, list(t.last), None if t.burst is None else _open_to_state(t.burst)]
                for k, t in self.tracks.items()
            ],
            "untracked_errors": self.untracked_errors,
            "sweep_at": self._sweep_at,
            "due": [list(d) for d in self._due],  # a heap as a list stays a heap
            "sum": dict(self._sum),
            "n": dict(self._n),
            "newest_error": self._newest_error,
            "closed_hi": self._closed_hi,
            "doubt": [list(d) for d in self._doubt],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> IncidentTracker:
        """The tracker `to_state` described."""
        threshold, window_us, max_types = data["bounds"]
        out = cls(int(threshold), int(window_us), int(max_types))
        out.closed = ClosedLog.from_state(data["closed"])
        out.open_breakers = {str(k): _open_from_state(o) for k, o in data["open_breakers"]}
        for k, last, burst in data["tracks"]:
            if len(last) > out.threshold + 1:
                raise ValueError(f"more error times of {k!r} than the threshold needs")
            track = _Track(out.threshold + 1, (int(t) for t in last))
            track.burst = None if burst is None else _open_from_state(burst)
            out.tracks[str(k)] = track
        for k, view in data["open_bursts"]:
            found = out.tracks.get(str(k))
            if found is None or found.burst is None or list(out._view(found)) != list(view):
                raise ValueError(f"open burst of {k!r} unlike its track")
            out.open_bursts[str(k)] = found
        out.untracked_errors = int(data["untracked_errors"])
        out._sweep_at = int(data["sweep_at"])
        out._due = [(int(when), str(etype)) for when, etype in data["due"]]
        out.due_at = min(out._due[0][0], out._sweep_at) if out._due else out._sweep_at
        out._sum = {str(k): int(v) for k, v in data["sum"].items()}
        out._n = {str(k): int(v) for k, v in data["n"].items()}
        newest, hi = data["newest_error"], data["closed_hi"]
        out._newest_error = None if newest is None else int(newest)
        out._closed_hi = None if hi is None else int(hi)
        out._doubt = [[int(lo), int(hi)] for lo, hi in data["doubt"]]
        return out

    # ------------------------------------------------------------ reading

    def capture(self, at: int) -> IncidentsCapture:
        """The bounded parts needed for a snapshot as of ``at`` (copies; no change to the fold)."""
        open_items = tuple(
            Incident(
                "breaker", o.key, o.start, None, max(0, at - o.start), o.opens, 0, o.tally_until(at)
            )
            for o in self.open_breakers.values()
        )
        bursts: list[tuple[str, BurstView]] = []
        tallies: dict[str, tuple[int, int, int] | None] = {}
        for etype, track in self.open_bursts.items():
            bursts.append((etype, self._view(track)))
            b = track.burst
            tallies[etype] = None if b is None or not b.t_ok else (b.t_n, b.t_peak, b.t_hi)
        return IncidentsCapture(
            at,
            self.closed.view(),
            open_items,
            tuple(bursts),
            dict(self._sum),
            dict(self._n),
            tallies,
            tuple((lo, hi) for lo, hi in self._doubt),
        )

    def snapshot(self, at: int) -> IncidentsSnapshot:
        """Incidents as of ``at`` (does not change the fold)."""
        return self.capture(at).build()
