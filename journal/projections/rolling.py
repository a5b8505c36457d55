"""Per-second rolling counts: windowed error counts in bounded memory, O(log n) to read.

A `SecondCounts` keeps, for the seconds that had events within its horizon (900 s by
default), the pair (second, cumulative count up to and including that second), in two
``array('q')``. Recording touches the newest pair (or appends one); counting the events in
a window is two binary searches and a subtraction, whatever the traffic. Pairs at or older
than ``newest second - horizon_s`` have expired: reads skip them (one more binary search),
and a record drops them in one sweep once the arrays have doubled since the last one
(amortised O(1) per record, and no expiry work in the others), so memory is at most
``horizon_s`` live pairs of 16 bytes and as many again (or 16 in all) awaiting the sweep:
the resilience4j / Hystrix rolling-bucket idea, with a sparse ring so that an idle series
costs nothing.

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
_MIN_SWEEP = 16  # array length below which expired pairs are not swept
_NEVER = -(1 << 63)  # the newest second of an empty series: before any second


class SecondCounts:
    """Events per second over a bounded horizon, with cumulative counts for O(log n) windows."""

    __slots__ = ("_base", "_cum", "_newest", "_secs", "_sweep_len", "_total", "horizon_s")

    def __init__(self, horizon_s: int = 900) -> None:
        self.horizon_s = horizon_s
        self._secs = array("q")
        self._cum = array("q")  # _cum[i]: events recorded in seconds <= _secs[i], ever
        self._base = 0  # cumulative count before _secs[0]
        self._sweep_len = _MIN_SWEEP  # drop the expired pairs when the arrays reach this
        # the newest second and the count so far, as plain ints: a usual record reads no array
        self._newest = _NEVER
        self._total = 0

    def _live(self) -> tuple[int, int]:
        """The first live pair (expired ones may precede it) and the cumulative count before it."""
        secs = self._secs
        if not secs:
            return 0, self._base
        lo = bisect_right(secs, secs[-1] - self.horizon_s)
        return lo, self._cum[lo - 1] if lo else self._base

    def __len__(self) -> int:
        """Live (second, count) pairs held."""
        return len(self._secs) - self._live()[0]

    @property
    def newest(self) -> int | None:
        """The newest second recorded (None if empty)."""
        return self._secs[-1] if self._secs else None

    def record(self, sec: int, n: int = 1) -> bool:
        """Count ``n`` events in second ``sec``; False if it is too old to keep."""
        newest = self._newest
        if sec > newest:
            self._newest = sec
            self._total = total = self._total + n
            self._secs.append(sec)
            self._cum.append(total)
            if len(self._secs) >= self._sweep_len:
                self._sweep()
            return True
        if sec == newest:
            self._total += n
            self._cum[-1] += n
            return True
        return self._record_late(sec, n)

    def _sweep(self) -> None:
        """Drop the expired pairs: O(live pairs), once per as many records."""
        lo, self._base = self._live()
        self._secs = self._secs[lo:]
        self._cum = self._cum[lo:]
        self._sweep_len = max(_MIN_SWEEP, 2 * len(self._secs))

    def _record_late(self, sec: int, n: int) -> bool:
        secs, cum = self._secs, self._cum
        if sec <= secs[-1] - self.horizon_s:
            return False
        # sec is newer than every expired pair: the pair before i, if any, holds the count
        i = bisect_left(secs, sec)
        if secs[i] != sec:  # i < len: sec < secs[-1]
            secs.insert(i, sec)
            cum.insert(i, cum[i - 1] if i else self._base)
        for j in range(i, len(cum)):  # at most 2 * horizon_s pairs
            cum[j] += n
        self._total += n
        return True

    def _cum_at(self, sec: int, lo: int, base: int) -> int:
        i = bisect_right(self._secs, sec, lo)
        return self._cum[i - 1] if i > lo else base

    def count(self, at_sec: int, window_s: int) -> int:
        """Events in the seconds ``(at_sec - window_s, at_sec]``."""
        if not self._secs or self._secs[-1] <= at_sec - window_s:
            return 0
        lo, base = self._live()
        return self._cum_at(at_sec, lo, base) - self._cum_at(at_sec - window_s, lo, base)

    def to_state(self) -> list[object]:
        """JSON-ready state: [horizon, base, live seconds, their cumulative counts].

        Only the live pairs are kept: expired ones are never read again, and when they
        are swept changes no count.
        """
        lo, base = self._live()
        return [self.horizon_s, base, self._secs[lo:].tolist(), self._cum[lo:].tolist()]

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
        out._sweep_len = max(_MIN_SWEEP, 2 * len(secs))
        if secs:
            out._newest, out._total = out._secs[-1], out._cum[-1]
        else:
            out._total = base
        return out

    def counts(self, at_sec: int, windows_s: tuple[int, ...]) -> tuple[int, ...]:
        """`count` for each window (seconds), sharing the search for ``at_sec``."""
        secs = self._secs
        if not secs:
            return tuple(0 for _ in windows_s)
        lo, base = self._live()
        newest = secs[-1]
        top = self._cum[-1] if newest <= at_sec else self._cum_at(at_sec, lo, base)
        return tuple(
            top - self._cum_at(at_sec - w, lo, base) if newest > at_sec - w else 0
            for w in windows_s
        )
