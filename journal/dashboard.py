"""The seed's monitoring dashboard: what ``journal status`` shows, as Rich, plain text or JSON.

`render` draws a `JournalSnapshot` (plus, for ``journal status``, the writer's outages and
the newest event's age); `status_dict` is the same view as the documented JSON schema;
`error_report` is the seed's ``errors_report.json``. `WriterFold` is the small pure fold of
the journal's own ``journal`` events (outages, spool drains, refused and dropped events).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from journal.events import Event, iso
from journal.projections.state import RATE_WINDOWS_MIN, JournalSnapshot
from journal.resilience.tracker import error_dict
from journal.sanitizing.safetext import printable

STATUS_SCHEMA_VERSION = 1
_HEALTH_STYLE = {"OK": "bold green", "WARNING": "bold yellow", "CRITICAL": "bold red"}
_STATE_STYLE = {"CLOSED": "green", "HALF_OPEN": "yellow", "OPEN": "red"}
_SEV_MARK = {"CRITICAL": "[red]●[/]", "ERROR": "[dark_orange]●[/]", "WARNING": "[yellow]●[/]"}


@dataclass(frozen=True, slots=True)
class WriterLife:
    """The writers' own history, from the ``journal`` events."""

    outages: int
    outages_open: tuple[tuple[str, int], ...]  # (source, start) of outages not yet recovered
    last_outage_start: int | None
    last_outage_s: float | None
    spool_drains: int
    drained_events: int
    rejected_events: int
    dropped_events: int
    sink_errors: int


class WriterFold:
    """Fold ``journal`` events into a `WriterLife` (pure; feed it in id order)."""

    def __init__(self) -> None:
        self.outages = 0
        self.open: dict[str, int] = {}
        self.last_start: int | None = None
        self.last_s: float | None = None
        self.spool_drains = self.drained = self.rejected = self.dropped = self.sink_errors = 0

    def apply(self, e: Event) -> None:
        """Fold one event (events of other kinds are ignored)."""
        if e.kind != "journal":
            return
        name = e.name
        if name == "store_unavailable":
            self.outages += 1
            self.open[e.source] = e.ts
            self.last_start, self.last_s = e.ts, None
        elif name == "store_recovered":
            start = self.open.pop(e.source, None)
            seconds = _num(e, "outage_seconds")
            if seconds is None and start is not None:
                seconds = (e.ts - start) / 1e6
            self.last_s = seconds
        elif name == "spool_drained":
            self.spool_drains += 1
            self.drained += int(_num(e, "events") or 0)
        elif name == "event_rejected":
            self.rejected += int(_num(e, "count") or 0)
        elif name in ("events_dropped", "events_dropped_after_shutdown"):
            self.dropped += int(_num(e, "dropped") or 0)
        elif name == "alert_sink_error":
            self.sink_errors += 1

    def result(self) -> WriterLife:
        """The history so far."""
        return WriterLife(
            self.outages,
            tuple(sorted(self.open.items(), key=lambda kv: kv[1])),
            self.last_start,
            self.last_s,
            self.spool_drains,
            self.drained,
            self.rejected,
            self.dropped,
            self.sink_errors,
        )


def fold_writer(events: Iterable[Event]) -> WriterLife:
    """`WriterFold` over ``events``."""
    fold = WriterFold()
    for e in events:
        fold.apply(e)
    return fold.result()


def _num(e: Event, key: str) -> float | None:
    try:
        value = json.loads(e.context_json).get(key)
        return None if value is None or isinstance(value, bool) else float(value)
    except (ValueError, TypeError, AttributeError):
        return None


def span_text(seconds: float) -> str:
    """A duration for people: ``12.3s``, ``4m 05s``, ``2h 03m``, ``3d 04h``."""
    s = max(0.0, seconds)
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m}m {sec:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h:02d}h"


def _windows_label() -> str:
    return ", ".join(f"{m}m" for m in RATE_WINDOWS_MIN)


def render(
    snap: JournalSnapshot,
    *,
    title: str = "ERROR MONITORING DASHBOARD",
    recent: int = 5,
    types: int = 20,
    writer: WriterLife | None = None,
    newest_ts: int | None = None,
) -> RenderableType:
    """The dashboard: totals, error types with rates, recent errors, breakers, incidents, health.

    ``writer`` adds the writers' outages; ``newest_ts`` shows the newest event's age as of
    ``snap.at``.
    """
    at = iso(snap.at) if snap.at is not None else "(no events)"
    parts: list[RenderableType] = [Rule(f"{title} - as of {at}")]
    if newest_ts is not None and snap.at is not None:
        parts.append(
            Text(f"newest event: {iso(newest_ts)} ({span_text((snap.at - newest_ts) / 1e6)} ago)")
        )
    elif snap.at is not None and newest_ts is None and writer is not None:
        parts.append(Text("newest event: (none)"))

    rates = snap.rates.total
    parts.append(
        Text.from_markup(
            f"[bold]OVERALL STATISTICS[/]  Total Errors: [bold]{snap.errors.total}[/]"
            f"   Diversity: {'' if snap.errors.diversity_exact else '>= '}"
            f"{snap.errors.diversity} type(s)"
            "   Errors/min: "
            + "  ".join(f"{rates.get(m, 0.0):.2f} ({m}m)" for m in RATE_WINDOWS_MIN)
        )
    )

    by_type = snap.errors.by_type
    table = Table(
        title=f"ERROR TYPES (errors/min over the last {_windows_label()})",
        title_justify="left",
        expand=False,
    )
    table.add_column("error type")
    table.add_column("errors", justify="right")
    for m in RATE_WINDOWS_MIN:
        table.add_column(f"/min {m}m", justify="right")
    table.add_column("last seen", justify="right")
    for etype, count in list(by_type.items())[: max(0, types)]:  # most first
        r = snap.rates.by_type.get(etype, {})
        last = snap.errors.last_seen.get(etype)
        table.add_row(
            Text(printable(etype)),  # journal text: never markup, never a terminal's control
            str(count),
            *(f"{r.get(m, 0.0):.2f}" for m in RATE_WINDOWS_MIN),
            span_text((snap.at - last) / 1e6) + " ago"
            if last is not None and snap.at is not None
            else "",
        )
    if not by_type:
        parts.append(Text("ERROR TYPES: none"))
    else:
        parts.append(table if types > 0 else Text("ERROR TYPES: not listed (--top 0)"))
    hidden = len(by_type) - max(0, types)
    if hidden > 0 or snap.errors.untracked:
        more = [f"and {hidden:,} more type(s) tracked"] if hidden > 0 else []
        if snap.errors.untracked:
            more.append(
                f"{snap.errors.untracked} error(s) of types evicted from live tracking"
                f" ({snap.errors.evicted_types} eviction(s); the journal has them all)"
            )
        parts.append(Text("  ... " + "; ".join(more)))

    shown = list(snap.recent_errors)[-recent:] if recent > 0 else []
    if shown:
        rec = Table(title=f"RECENT ERRORS (last {recent})", title_justify="left")
        rec.add_column("")
        rec.add_column("time")
        rec.add_column("type")
        rec.add_column("message", overflow="fold")
        for e in shown:
            rec.add_row(
                _SEV_MARK.get(e.severity or "", ""),
                iso(e.ts)[:19],
                Text(printable(e.error_type or e.name)),
                Text(printable(e.message or "", newlines=True)),
            )
        parts.append(rec)

    if snap.breakers:
        br = Table(title="CIRCUIT BREAKERS", title_justify="left")
        for col, just in (
            ("breaker", "left"),
            ("state", "left"),
            ("in state", "right"),
            ("calls", "right"),
            ("success", "right"),
            ("failed", "right"),
            ("rejected", "right"),
            ("opens", "right"),
        ):
            br.add_column(col, justify=just)  # type: ignore[arg-type]
        for b in snap.breakers.values():
            style = _STATE_STYLE.get(b.state, "")
            in_state = (
                span_text((snap.at - b.since) / 1e6)
                if b.since is not None and snap.at is not None
                else "-"
            )
            br.add_row(
                Text(printable(b.name)),
                Text(printable(b.state), style=style),
                in_state,
                str(b.calls),
                f"{b.success_rate:.2f}%",
                str(b.failures),
                str(b.rejected),
                str(b.opens),
            )
        parts.append(br)

    inc = snap.incidents
    if inc.items:
        it = Table(
            title=f"INCIDENTS (ongoing {len(inc.ongoing)}, resolved {inc.resolved},"
            f" MTTR {_mttr(inc.mttr_s)}; see: journal incidents)",
            title_justify="left",
        )
        for col in ("kind", "key", "start", "end", "duration"):
            it.add_column(col)
        for i in list(inc.items)[-8:]:
            it.add_row(
                i.kind,
                Text(printable(i.key)),
                iso(i.start)[:19],
                "ongoing" if i.end is None else iso(i.end)[:19],
                span_text(i.duration_s),
            )
        parts.append(it)

    if snap.alerts.total:
        parts.append(
            Text(
                f"ALERTS: {snap.alerts.total} fired ("
                + ", ".join(f"{printable(k)}: {v}" for k, v in snap.alerts.by_rule.items())
                + ")"
            )
        )

    parts.extend(_writer_lines(snap, writer))

    h = snap.health
    parts.append(Text.from_markup(f"[bold]HEALTH:[/] [{_HEALTH_STYLE[h.level]}]{h.label}[/]"))
    for reason in h.reasons:
        parts.append(Text(f"  - {printable(reason)}"))
    parts.append(Rule())
    return Group(*parts)


def _writer_lines(snap: JournalSnapshot, writer: WriterLife | None) -> list[RenderableType]:
    if writer is None:  # the live tracker's view: what the fold counted
        life = snap.journal
        bits = []
        if life.outages:
            bits.append(f"{life.outages} store outage(s)")
        for name in ("spool_drained", "spool_unwritable", "alert_sink_error", "breaker_reset"):
            if life.counts.get(name):
                bits.append(f"{name}: {life.counts[name]}")
        return [Text("JOURNAL: " + "; ".join(bits))] if bits else []
    w = writer
    if w.outages_open:
        source, start = w.outages_open[-1]
        ago = f" for {span_text((snap.at - start) / 1e6)}" if snap.at is not None else ""
        state = f"store UNAVAILABLE since {iso(start)[:19]}{ago} (writer {printable(source)})"
    else:
        state = "store available"
    last = (
        f", last lasted {span_text(w.last_outage_s)}"
        if w.last_outage_s is not None and not w.outages_open
        else ""
    )
    return [
        Text(
            f"WRITER: {state}; outages: {w.outages}{last}\n  spool drains: {w.spool_drains}"
            f" ({w.drained_events} event(s)); events refused: {w.rejected_events};"
            f" events dropped: {w.dropped_events}; alert sink errors: {w.sink_errors}"
        )
    ]


def _mttr(mttr_s: float | None) -> str:
    return "n/a" if mttr_s is None else span_text(mttr_s)


# ---------------------------------------------------------------- JSON


def _per_minute(values: dict[int, float] | Any) -> dict[str, float]:
    return {f"{m}m": round(float(values.get(m, 0.0)), 4) for m in RATE_WINDOWS_MIN}


def status_dict(
    snap: JournalSnapshot,
    *,
    writer: WriterLife,
    newest_ts: int | None,
    newest_id: int | None,
    as_of_wall_clock: bool,
    recent: int = 5,
    types: int = 20,
) -> dict[str, Any]:
    """The dashboard as JSON (schema version `STATUS_SCHEMA_VERSION`; see ``journal status --help``)."""
    at = snap.at
    by_type = snap.errors.by_type
    listed = list(by_type.items())[: max(0, types)]
    return {
        "schema_version": STATUS_SCHEMA_VERSION,
        "as_of": iso(at) if at is not None else None,
        "as_of_wall_clock": as_of_wall_clock,
        "newest_event": {
            "id": newest_id,
            "timestamp": iso(newest_ts) if newest_ts is not None else None,
            "age_s": round((at - newest_ts) / 1e6, 3)
            if newest_ts is not None and at is not None
            else None,
        },
        "events_folded": snap.events_seen,
        "errors": {
            "total": snap.errors.total,
            "diversity": snap.errors.diversity,
            "diversity_exact": snap.errors.diversity_exact,
            "per_minute": _per_minute(snap.rates.total),
            "by_severity": dict(snap.errors.by_severity),
        },
        "error_types": [
            {
                "error_type": t,
                "count": n,
                "per_minute": _per_minute(snap.rates.by_type.get(t, {})),
                "last_seen": iso(snap.errors.last_seen[t]) if t in snap.errors.last_seen else None,
            }
            for t, n in listed
        ],
        "error_types_more": max(0, len(by_type) - len(listed)),
        "recent_errors": [
            error_dict(e) for e in (list(snap.recent_errors)[-recent:] if recent > 0 else [])
        ],
        "breakers": [
            {
                "name": b.name,
                "state": b.state,
                "since": iso(b.since) if b.since is not None else None,
                "in_state_s": round((at - b.since) / 1e6, 3)
                if b.since is not None and at is not None
                else None,
                "calls": b.calls,
                "successes": b.successes,
                "failures": b.failures,
                "rejected": b.rejected,
                "success_rate": round(b.success_rate, 2),
                "opens": b.opens,
            }
            for b in snap.breakers.values()
        ],
        "incidents": {
            "ongoing": len(snap.incidents.ongoing),
            "resolved": snap.incidents.resolved,
            "mttr_s": round(snap.incidents.mttr_s, 3)
            if snap.incidents.mttr_s is not None
            else None,
        },
        "alerts": {"total": snap.alerts.total, "by_rule": dict(snap.alerts.by_rule)},
        "health": {
            "level": snap.health.level,
            "label": snap.health.label,
            "reasons": list(snap.health.reasons),
        },
        "writer": writer_dict(writer),
    }


def writer_dict(w: WriterLife) -> dict[str, Any]:
    """`WriterLife` as JSON."""
    return {
        "store_available": not w.outages_open,
        "outages": w.outages,
        "outages_open": [{"source": s, "since": iso(t)} for s, t in w.outages_open],
        "last_outage_start": iso(w.last_outage_start) if w.last_outage_start is not None else None,
        "last_outage_s": w.last_outage_s,
        "spool_drains": w.spool_drains,
        "drained_events": w.drained_events,
        "rejected_events": w.rejected_events,
        "dropped_events": w.dropped_events,
        "alert_sink_errors": w.sink_errors,
    }


def error_report(snap: JournalSnapshot, writer: WriterLife) -> dict[str, Any]:
    """The seed's ``errors_report.json``: a summary and every recent error (up to 1000)."""
    errors = snap.errors
    summary = {
        "total_errors": errors.total,
        "error_counts": dict(errors.by_type),
        "error_rates": {t: round(r, 4) for t, r in errors.rate_since_first.items()},
        "errors_per_minute": _per_minute(snap.rates.total),
        "by_severity": dict(errors.by_severity),
        "by_name": dict(errors.by_name),
        "error_diversity": errors.diversity,
        "error_diversity_exact": errors.diversity_exact,
        "alert_counts": dict(snap.alerts.by_rule),
        "total_alerts": snap.alerts.total,
        "breakers": {
            b.name: {
                "state": b.state,
                "calls": b.calls,
                "success_rate": round(b.success_rate, 2),
                "failures": b.failures,
                "rejected": b.rejected,
                "opens": b.opens,
            }
            for b in snap.breakers.values()
        },
        "incidents_ongoing": len(snap.incidents.ongoing),
        "mttr_seconds": snap.incidents.mttr_s,
        "health": {
            "level": snap.health.level,
            "label": snap.health.label,
            "reasons": list(snap.health.reasons),
        },
        "since": iso(errors.cleared_at) if errors.cleared_at else None,
        "as_of": iso(snap.at) if snap.at is not None else None,
        "writer": writer_dict(writer),
    }
    return {"summary": summary, "errors": [error_dict(e) for e in snap.recent_errors]}
