"""Per-second rolling counts: windowed error counts in bounded memory, O(log n) to read.

A `SecondCounts` keeps, for the seconds that had events within its horizon (900 s by
default), the pair (second, cumulative count up to and including that second), in two
``array('q')``. Recording touches the newest pair (or appends one); counting the events in
a window is two binary searches and a subtraction, whatever the traffic. Pairs older than
``newest second - horizon_s`` are dropped by time as the series advances, so memory is at
most ``horizon_s`` live pairs of 16 bytes (expired pairs are compacted away once they are
at least 16 and at least half of the arrays): the resilience4j / Hystrix rolling-bucket
idea, with a sparse ring so that an idle series costs nothing.

Seconds are ``ts // 1_000_000`` (floor, microseconds UTC). A window of ``w`` seconds read
at second ``a`` holds the events whose second ``s`` satisfies ``a - w < s <= a``.

Exactness: a read at ``a`` is exact when ``a - w >= newest - horizon_s`` (always true for
``a`` at or after the newest second and ``w <= horizon_s``). A late event (older than the
newest second) is placed in its own second if that second is within the horizon, and
dropped otherwise (it could not be in any window read at or after the newest second).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

SECOND_US = 1_000_000


class SecondCounts:
    """Events per second over a bounded horizon, with cumulative counts for O(log n) windows."""

    __slots__ = ("_base", "_cum", "_lo", "_secs", "horizon_s")

    def __init__(self, horizon_s: int = 900) -> None:
        self.horizon_s = horizon_s
        self._secs = array("q")
        self._cum = array("q")  # _cum[i]: events recorded in seconds <= _secs[i], ever
        self._lo = 0  # first live pair; pairs before it have expired (compacted lazily)
        self._base = 0  # cumulative count before _secs[_lo]

    def __len__(self) -> int:
        """Live (second, count) pairs held."""
        return len(self._secs) - self._lo

    @property
    def newest(self) -> int | None:
        """The newest second recorded (None if empty)."""
        return self._secs[-1] if len(self._secs) > self._lo else None

    def record(self, sec: int, n: int = 1) -> bool:
        """Count ``n`` events in second ``sec``; False if it is too old to keep."""
        secs, cum = self._secs, self._cum
        if len(secs) > self._lo:
            last = secs[-1]
            if sec == last:
                cum[-1] += n
                return True
            if sec < last:
                return self._record_late(sec, n)
            cum.append(cum[-1] + n)
        else:
            cum.append(self._base + n)
        secs.append(sec)
        lo = self._lo
        horizon = sec - self.horizon_s
        if secs[lo] <= horizon:
            # each pair expires once, so stepping is amortised O(1) (and cheaper than a
            # search for the usual one or two); it stops at the newest pair, > horizon
            lo += 1
            while secs[lo] <= horizon:
                lo += 1
            self._base = cum[lo - 1]
            if lo >= 16 and 2 * lo >= len(secs):  # compact: amortised O(1) per record
                self._secs = secs[lo:]
                self._cum = cum[lo:]
                lo = 0
            self._lo = lo
        return True

    def _record_late(self, sec: int, n: int) -> bool:
        secs, cum, lo = self._secs, self._cum, self._lo
        if sec <= secs[-1] - self.horizon_s:
            return False
        i = bisect_left(secs, sec, lo)
        if secs[i] != sec:  # i < len: sec < secs[-1]
            secs.insert(i, sec)
            cum.insert(i, cum[i - 1] if i > lo else self._base)
        for j in range(i, len(cum)):  # at most horizon_s pairs
            cum[j] += n
        return True

    def _cum_at(self, sec: int) -> int:
        i = bisect_right(self._secs, sec, self._lo)
        return self._cum[i - 1] if i > self._lo else self._base

    def count(self, at_sec: int, window_s: int) -> int:
        """Events in the seconds ``(at_sec - window_s, at_sec]``."""
        if len(self._secs) == self._lo or self._secs[-1] <= at_sec - window_s:
            return 0
        return self._cum_at(at_sec) - self._cum_at(at_sec - window_s)

    def to_state(self) -> list[object]:
        """JSON-ready state: [horizon, base, live seconds, their cumulative counts].

        Only the live pairs are kept: expired ones are never read again, and where the
        arrays are compacted changes no count.
        """
        lo = self._lo
        return [self.horizon_s, self._base, self._secs[lo:].tolist(), self._cum[lo:].tolist()]

    @classmethod
    def from_state(cls, data: list[object]) -> SecondCounts:
        """The series `to_state` described (counts on exactly as the original would)."""
        horizon, base, secs, cum = data
        assert isinstance(horizon, int) and isinstance(base, int)
        assert isinstance(secs, list) and isinstance(cum, list) and len(secs) == len(cum)
        out = cls(horizon)
        out._base = base
        out._secs = array("q", secs)
        out._cum = array("q", cum)
        return out

    def counts(self, at_sec: int, windows_s: tuple[int, ...]) -> tuple[int, ...]:
        """`count` for each window (seconds), sharing the search for ``at_sec``."""
        secs = self._secs
        if len(secs) == self._lo:
            return tuple(0 for _ in windows_s)
        newest = secs[-1]
        top = self._cum[-1] if newest <= at_sec else self._cum_at(at_sec)
        return tuple(
            top - self._cum_at(at_sec - w) if newest > at_sec - w else 0 for w in windows_s
        )
