"""The error tracker: the seed's ``record_error`` / ``get_error_tracker`` API over the journal.

Recording costs the caller an event build and an in-memory fold: no database IO in the
caller's thread, and journaling problems never raise into it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journal.events import (
    SEVERITIES,
    Event,
    Severity,
    default_source,
    error_event,
    iso,
    journal_event,
    new_event_id,
    now_us,
)
from journal.sanitizing.redaction import library_logger
from journal.sanitizing.safetext import describe_exception, safe_str

if TYPE_CHECKING:
    from journal.process.lifecycle import Journal
    from journal.projections.state import JournalSnapshot

log = library_logger("journal.tracker")
SUMMARY_RECENT = 10
UNRECORDABLE = "unrecordable_error"
_NAME_LIMIT = 200
_LOG_EVERY_S = 60.0


def describe(error: object) -> str | None:
    """``Type: message`` of an exception, or the text given; never raises."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        return describe_exception(error)
    return safe_str(error)


class _RateLimitedLog:
    """Log a journaling problem at most once a minute, with how many were not logged."""

    def __init__(self, every: float = _LOG_EVERY_S, clock: Any = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._next = 0.0
        self._suppressed = 0
        self._lock = threading.Lock()

    def __call__(self, msg: str, *args: object) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._suppressed += 1
                return
            self._next = now + self.every
            suppressed, self._suppressed = self._suppressed, 0
        try:
            log.warning(msg + " (%d similar not logged)", *args, suppressed, exc_info=True)
        except Exception:
            pass


_warn_unrecordable = _RateLimitedLog()


def _text_field(value: object, default: str) -> str:
    """A name-like field as a short str (objects are named by their text)."""
    text = value if type(value) is str else safe_str(value, _NAME_LIMIT)
    return text[:_NAME_LIMIT] if text else default


def build_error_event(
    error_type: object,
    error: object,
    context: object = None,
    severity: object = "ERROR",
    *,
    name: object = None,
    source: str | None = None,
) -> Event:
    """The error event for what a caller handed `record_error`; never raises.

    Odd input is made recordable rather than refused: an object as ``error_type`` or ``name``
    is named by its text, an unknown severity becomes ERROR (the one given is kept in the
    context as ``severity_given``), a context that is not a mapping is kept as its text.
    If the event still cannot be built, an ``unrecordable_error`` event says so.
    """
    try:
        if (
            type(error_type) is str
            and error_type
            and type(severity) is str
            and severity in SEVERITIES
            and (context is None or type(context) is dict)
            and (name is None or type(name) is str)
        ):  # the common, well-formed call: nothing to normalise
            return error_event(
                error_type,
                describe(error),
                severity=severity,
                name=name or None,
                context=context,
                source=source,
            )
        etype = _text_field(error_type, UNRECORDABLE)
        sev = severity.value if isinstance(severity, Severity) else safe_str(severity, 40).upper()
        ctx: Mapping[str, Any] | None
        if context is None or isinstance(context, Mapping):
            ctx = context
        else:
            ctx = {"context": safe_str(context, 1000)}
        if sev not in SEVERITIES:
            ctx = {**(ctx or {}), "severity_given": safe_str(severity, 40)}
            sev = "ERROR"
        return error_event(
            etype,
            describe(error),
            severity=sev,
            name=None if name is None else _text_field(name, etype),
            context=ctx,
            source=source,
        )
    except Exception as exc:
        _warn_unrecordable("journal: record_error could not record an error: %s", _brief(exc))
        return _unrecordable(error_type, exc, source)


def _brief(exc: BaseException) -> str:
    return describe_exception(exc, 200)


def _unrecordable(error_type: object, exc: BaseException, source: str | None) -> Event:
    """A minimal event saying an error was handed to us that we could not record."""
    message = f"could not record an error of type {_text_field(error_type, '?')!r}: {_brief(exc)}"
    try:
        return error_event(UNRECORDABLE, message, severity="ERROR", source=source)
    except Exception:  # even the fallback failed: build the record by hand, no redaction pass
        return Event(
            None,
            new_event_id(),
            now_us(),
            "error",
            source or default_source(),
            UNRECORDABLE,
            error_type=UNRECORDABLE,
            severity="ERROR",
            message=UNRECORDABLE,
        )


def error_dict(e: Event) -> dict[str, Any]:
    """An error event as the seed's report shows it."""
    return {
        "timestamp": iso(e.ts),
        "error_type": e.error_type,
        "name": e.name,
        "severity": e.severity,
        "message": e.message,
        "context": e.context,
        "source": e.source,
        "event_id": e.event_id,
    }


class ErrorTracker:
    """Live error counts, rates, recent errors and alerts of the configured journal."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def record_error(
        self,
        error_type: str,
        error: BaseException | str | None,
        context: Mapping[str, Any] | None = None,
        severity: str = "ERROR",
        *,
        name: str | None = None,
    ) -> Event:
        """Record an error (severity ERROR, WARNING or CRITICAL; an unknown one is kept as ERROR).

        Never raises because of what it was handed: see `build_error_event`.
        """
        # The message carries the exception type ("ConnectionError: ...").
        event = build_error_event(
            error_type, error, context, severity, name=name, source=self._journal.source
        )
        try:
            self._journal.publish(event)
        except Exception as exc:  # the bus already shields handlers; this is belt and braces
            _warn_unrecordable("journal: publishing an error event failed: %s", _brief(exc))
        return event

    def snapshot(self, at: int | None = None) -> JournalSnapshot:
        """The live projections (as of ``at``, default now)."""
        return self._journal.snapshot(at)

    def get_error_summary(self) -> dict[str, Any]:
        """Totals, per type counts and errors/minute, recent errors, alerts, diversity, breakers, health."""
        snap = self.snapshot()
        errors = snap.errors
        return {
            "total_errors": errors.total,
            "error_counts": dict(errors.by_type),
            "error_rates": {t: round(r, 4) for t, r in errors.rate_since_first.items()},
            "errors_per_minute": {f"{m}m": round(v, 4) for m, v in snap.rates.total.items()},
            "by_severity": dict(errors.by_severity),
            "by_name": dict(errors.by_name),
            "error_diversity": errors.diversity,
            "error_diversity_exact": errors.diversity_exact,
            "untracked_errors": errors.untracked,  # of types evicted from the live per-type counts
            "recent_errors": [error_dict(e) for e in list(snap.recent_errors)[-SUMMARY_RECENT:]],
            "alert_counts": dict(snap.alerts.by_rule),
            "total_alerts": snap.alerts.total,
            "recent_alerts": [
                {"timestamp": iso(a.ts), "rule": a.error_type, "key": a.name, "severity": a.severity, "message": a.message}
                for a in list(snap.alerts.recent)[-SUMMARY_RECENT:]
            ],
            "breakers": {
                b.name: {"state": b.state, "calls": b.calls, "success_rate": round(b.success_rate, 2),
                         "failures": b.failures, "rejected": b.rejected, "opens": b.opens}
                for b in snap.breakers.values()
            },
            "incidents_ongoing": len(snap.incidents.ongoing),
            "mttr_seconds": snap.incidents.mttr_s,
            "health": {"level": snap.health.level, "label": snap.health.label, "reasons": list(snap.health.reasons)},
            "since": iso(errors.cleared_at) if errors.cleared_at else None,
            "as_of": iso(snap.at) if snap.at is not None else None,
            "writer": self._journal.writer_stats(),
        }  # fmt: skip

    def print_summary(self, console: Any = None) -> None:
        """Print the dashboard (Rich)."""
        from rich.console import Console

        from journal.dashboard import render

        (console or Console()).print(render(self.snapshot(), title="ERROR SUMMARY"))

    def export_errors(self, path: str | Path) -> Path:
        """Write the summary and every recent error (up to 1000) to a JSON file; returns its path."""
        snap = self.snapshot()
        out = Path(path)
        data = {
            "summary": self.get_error_summary(),
            "errors": [error_dict(e) for e in snap.recent_errors],
        }
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(
            json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        tmp.replace(out)
        return out

    def clear_errors(self) -> None:
        """Restart live counts (a ``tracker_cleared`` event; the history stays in the journal)."""
        self._journal.publish(
            journal_event("tracker_cleared", "error tracker cleared", source=self._journal.source)
        )
