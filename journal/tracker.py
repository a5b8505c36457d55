"""The error tracker: the seed's ``record_error`` / ``get_error_tracker`` API over the journal.

Recording costs the caller an event build and an in-memory fold: no database IO in the
caller's thread, and journaling problems never raise into it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journal.events import Event, error_event, iso, journal_event

if TYPE_CHECKING:
    from journal.api import Journal
    from journal.projections import JournalSnapshot

log = logging.getLogger("journal.tracker")
SUMMARY_RECENT = 10


def describe(error: BaseException | str | None) -> str | None:
    """``Type: message`` of an exception, or the text given."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        text = str(error)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return str(error)


def _error_dict(e: Event) -> dict[str, Any]:
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
        """Record an error (severity ERROR, WARNING or CRITICAL; anything else is a ValueError)."""
        # The message carries the exception type ("ConnectionError: ..."); severity is checked
        # once, by error_event (a bad one is the caller's bug: ValueError).
        event = error_event(
            error_type,
            describe(error),
            severity=severity,
            name=name,
            context=context,
            source=self._journal.source,
        )
        self._journal.publish(event)
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
            "recent_errors": [_error_dict(e) for e in list(snap.recent_errors)[-SUMMARY_RECENT:]],
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
            "errors": [_error_dict(e) for e in snap.recent_errors],
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
