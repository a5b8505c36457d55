"""Alert rules, evaluated on event time (pure: the same events give the same alerts).

The seed's rules, all configurable:
- ``error_count``: more than 10 errors of one error type within 5 minutes (key: the type);
- ``error_rate``: more than 5 errors per minute overall, i.e. more than 5 errors in the
  trailing 60 s (key ``*``);
- ``breaker_opened``: a breaker transitions to OPEN (key: the breaker);
- ``critical_error``: an error of severity CRITICAL (key: the type).

A fired alert is an ``alert`` event (``error_type`` = rule, ``name`` = key) with the
triggering event's time and source. The same (rule, key) fires at most once per cooldown
(5 minutes by default; per error type overridable), measured on event time. ``alert`` and
``journal`` events are never evaluated, so an alert can never trigger an alert.

Memory does not grow with traffic. A count rule "more than N in the window" needs only the
newest N+1 times to decide exactly, so each window keeps at most N+1 times (a `_Window`);
when an older in-window time had to be let go, the reported count says "at least". Types
whose window is empty and whose cooldowns have run out are forgotten (that changes no
decision); at most `MAX_TYPES` types are kept, the least recently seen going first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from journal.events import Event, alert_event

S = 1_000_000
MAX_TYPES = 10_000  # error types whose count windows are kept at once


class _Window:
    """The newest ``threshold + 1`` times of one count rule, and until when the count is a
    lower bound (an in-window time was let go to keep the size fixed)."""

    __slots__ = ("inexact_until", "last", "times")

    def __init__(self, threshold: int) -> None:
        self.times: deque[int] = deque(maxlen=threshold + 1)
        self.inexact_until = 0
        self.last = 0

    def add(self, ts: int, window: int) -> int:
        """Record an error at ``ts``; returns the count in ``(ts - window, ts]`` as known."""
        times = self.times
        while times and times[0] <= ts - window:
            times.popleft()
        if len(times) == times.maxlen:  # the oldest, still in the window, makes room
            self.inexact_until = max(self.inexact_until, times[0] + window)
        times.append(ts)
        if ts > self.last:
            self.last = ts
        return len(times)

    def exact(self, ts: int) -> bool:
        """Is the count at ``ts`` exact (no in-window time was let go)?"""
        return ts >= self.inexact_until


@dataclass(frozen=True, slots=True)
class TypeOverride:
    """Per error type: another count threshold, window or cooldown (None: the default)."""

    count_threshold: int | None = None
    window_s: float | None = None
    cooldown_s: float | None = None


@dataclass(frozen=True)
class AlertConfig:
    """Thresholds and cooldown; the defaults are the seed's."""

    error_count_threshold: int = 10
    error_count_window_s: float = 300.0
    error_rate_per_min: float = 5.0
    breaker_opened: bool = True
    critical_error: bool = True
    cooldown_s: float = 300.0
    per_type: Mapping[str, TypeOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.error_count_threshold < 1:
            raise ValueError("error_count_threshold must be >= 1")
        if self.error_count_window_s <= 0:
            raise ValueError("error_count_window_s must be > 0")
        if self.error_rate_per_min <= 0:
            raise ValueError("error_rate_per_min must be > 0")
        if self.cooldown_s < 0:
            raise ValueError("cooldown_s must be >= 0")
        for etype, o in self.per_type.items():
            if not isinstance(o, TypeOverride):
                raise ValueError(f"per_type[{etype!r}] must be a TypeOverride")
            if o.count_threshold is not None and o.count_threshold < 1:
                raise ValueError(f"per_type[{etype!r}].count_threshold must be >= 1")
            if o.window_s is not None and o.window_s <= 0:
                raise ValueError(f"per_type[{etype!r}].window_s must be > 0")
            if o.cooldown_s is not None and o.cooldown_s < 0:
                raise ValueError(f"per_type[{etype!r}].cooldown_s must be >= 0")

    def count_rule(self, etype: str) -> tuple[int, int]:
        """(threshold, window in us) of the error_count rule for a type."""
        o = self.per_type.get(etype)
        threshold = (
            o.count_threshold if o and o.count_threshold is not None else self.error_count_threshold
        )
        window = o.window_s if o and o.window_s is not None else self.error_count_window_s
        return threshold, int(window * S)

    def cooldown_us(self, etype: str | None) -> int:
        """Cooldown for alerts keyed by ``etype`` (or the global one)."""
        o = self.per_type.get(etype) if etype else None
        return int((o.cooldown_s if o and o.cooldown_s is not None else self.cooldown_s) * S)


class AlertEngine:
    """Feed it every event; it returns the alert events they fire."""

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.config = config or AlertConfig()
        self._by_type: dict[str, _Window] = {}
        self._recent = _Window(int(self.config.error_rate_per_min))
        self._sweep_at = 2 * 1024  # sweep idle types when this many are kept
        self.forgotten_types = 0
        self._last_fired: dict[tuple[str, str], int] = {}
        self._rules: dict[str, tuple[int, int]] = {}  # error type -> (threshold, window us)
        self._cooldowns: dict[str | None, int] = {}
        self.fired = 0
        self.suppressed = 0

    def _fire(
        self,
        rule: str,
        key: str,
        etype: str | None,
        event: Event,
        message: str,
        severity: str,
        ctx: dict[str, object],
    ) -> Event | None:
        last = self._last_fired.get((rule, key))
        cooldown = self._cooldowns.get(etype)
        if cooldown is None:
            cooldown = self._cooldowns[etype] = self.config.cooldown_us(etype)
        if last is not None and event.ts - last < cooldown:
            self.suppressed += 1
            return None
        self._last_fired[(rule, key)] = event.ts
        self.fired += 1
        return alert_event(
            rule, key, message, severity=severity, context=ctx, ts=event.ts, source=event.source
        )

    def apply(self, event: Event) -> list[Event]:
        """The alerts ``event`` fires (usually none)."""
        kind = event.kind
        if kind == "error":
            return self._on_error(event)
        if kind == "breaker" and event.state_to == "OPEN" and self.config.breaker_opened:
            a = self._fire(
                "breaker_opened", event.name, None, event,
                f"circuit breaker {event.name} opened ({event.state_from} -> OPEN)"
                + (f": {event.message}" if event.message else ""),
                "WARNING", {"state_from": event.state_from},
            )  # fmt: skip
            return [a] if a else []
        return []

    def _on_error(self, event: Event) -> list[Event]:
        out: list[Event] = []
        ts = event.ts
        etype = event.error_type or event.name
        rule = self._rules.get(etype)
        if rule is None:
            rule = self._rules[etype] = self.config.count_rule(etype)
        threshold, window = rule
        win = self._by_type.get(etype)
        if win is None:
            if len(self._by_type) >= self._sweep_at:
                self._sweep(ts)
            win = self._by_type[etype] = _Window(threshold)
        count = win.add(ts, window)
        if count > threshold:
            n = f"{count}" if win.exact(ts) else f"at least {count}"
            a = self._fire(
                "error_count", etype, etype, event,
                f"{etype}: {n} errors in {window / 60 / S:g} min (threshold {threshold})",
                "WARNING", {"count": count, "exact": win.exact(ts), "threshold": threshold,
                            "window_s": window / S},
            )  # fmt: skip
            if a:
                out.append(a)
        recent = self._recent
        per_minute = recent.add(ts, 60 * S)
        if per_minute > self.config.error_rate_per_min:
            n = f"{per_minute}" if recent.exact(ts) else f"at least {per_minute}"
            a = self._fire(
                "error_rate", "*", None, event,
                f"error rate {n}/min (threshold {self.config.error_rate_per_min:g}/min)",
                "WARNING", {"per_minute": per_minute, "exact": recent.exact(ts),
                            "threshold": self.config.error_rate_per_min},
            )  # fmt: skip
            if a:
                out.append(a)
        if event.severity == "CRITICAL" and self.config.critical_error:
            a = self._fire(
                "critical_error", etype, etype, event,
                f"CRITICAL {etype}: {event.message or ''}".rstrip(": "),
                "CRITICAL", {"error_name": event.name},
            )  # fmt: skip
            if a:
                out.append(a)
        return out

    def _sweep(self, now: int) -> None:
        """Forget types that can no longer change a decision; past `MAX_TYPES`, the least
        recently seen. Runs when the number kept doubles, so its cost is O(1) per error."""
        longest = max(
            [
                self.config.error_count_window_s,
                *(o.window_s or 0 for o in self.config.per_type.values()),
            ]
        )
        horizon = now - int(longest * S)
        cooldown = max(
            [self.config.cooldown_s, *(o.cooldown_s or 0 for o in self.config.per_type.values())]
        )
        fired_horizon = now - int(cooldown * S)
        self._last_fired = {k: t for k, t in self._last_fired.items() if t > fired_horizon}
        cooling = {key for (_rule, key) in self._last_fired}
        keep = {t: w for t, w in self._by_type.items() if w.last > horizon or t in cooling}
        if len(keep) > MAX_TYPES:
            newest = sorted(keep.items(), key=lambda item: item[1].last)[-MAX_TYPES:]
            keep = dict(newest)
        self.forgotten_types += len(self._by_type) - len(keep)
        self._by_type = keep
        if len(self._rules) > 2 * MAX_TYPES:  # config lookups, cheap to redo
            self._rules.clear()
            self._cooldowns.clear()
        self._sweep_at = max(2 * 1024, 2 * len(keep))

    def sizes(self) -> dict[str, int]:
        """How much state is kept (for tests and the storm benchmark)."""
        return {
            "types": len(self._by_type),
            "times": sum(len(w.times) for w in self._by_type.values()) + len(self._recent.times),
            "last_fired": len(self._last_fired),
            "rules": len(self._rules),
        }
