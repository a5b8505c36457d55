"""Times and durations as people type them: ISO 8601 or relative (``15m``, ``2h``, ``7d``,
``now``), and durations (``60``, ``30s``, ``5m``). Bad input is a `ConfigError` naming the
option it came from (one line, exit code 2 at the command line)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from journal.errors import ConfigError

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*(ago)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(
    text: str, *, option: str = "duration", minimum: float = 0.0, maximum: float = 86_400.0
) -> float:
    """Seconds from ``60``, ``60s``, ``5m``, ``1.5h`` or ``1d``; more than ``minimum`` and at most
    ``maximum``. Raises `ConfigError` naming ``option`` (e.g. ``--every``) on anything else."""
    raw = text.strip()
    hint = "use seconds (60) or a number with a unit: 30s, 5m, 2h, 1d"
    m = _REL.match(raw) if not raw.lower().endswith("ago") else None
    try:
        seconds = float(m.group(1)) * _UNITS[m.group(2).lower()] if m else float(raw)
    except ValueError:
        raise ConfigError(f"bad {option} {text!r}: {hint}") from None
    if not minimum < seconds <= maximum or seconds != seconds:
        raise ConfigError(
            f"{option} must be more than {minimum:g} and at most {maximum:g} seconds, got {text!r}"
        )
    return seconds


def parse_time(text: str, *, now: datetime | None = None, option: str = "time") -> datetime:
    """Parse ISO 8601 (naive = UTC) or a relative form (``15m``, ``2h``, ``7d``, ``now``).

    A relative form means that long before ``now``. Raises `ConfigError` on anything else,
    naming ``option`` (e.g. ``--at``).
    """
    now = now or datetime.now(timezone.utc)
    raw = text.strip()
    hint = "use ISO 8601 (2026-11-28T10:30:00Z) or a relative form (15m, 2h, 7d, now)"
    if not raw:
        raise ConfigError(f"empty {option}: {hint}")
    if raw.lower() == "now":
        return now
    m = _REL.match(raw)
    if m:
        try:
            return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
        except (OverflowError, ValueError):
            raise ConfigError(f"{option} {text!r} reaches before year 1: {hint}") from None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(f"bad {option} {text!r}: {hint}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ConfigError(f"{option} {text!r} is out of range: {hint}") from None
