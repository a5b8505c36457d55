"""Render a `JournalSnapshot` as the seed's monitoring dashboard, with Rich."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from journal.events import iso
from journal.projections import JournalSnapshot

_HEALTH_STYLE = {"OK": "bold green", "WARNING": "bold yellow", "CRITICAL": "bold red"}
_STATE_STYLE = {"CLOSED": "green", "HALF_OPEN": "yellow", "OPEN": "red"}
_SEV_MARK = {"CRITICAL": "[red]●[/]", "ERROR": "[dark_orange]●[/]", "WARNING": "[yellow]●[/]"}


def render(
    snap: JournalSnapshot,
    *,
    title: str = "ERROR MONITORING DASHBOARD",
    recent: int = 5,
    types: int = 20,
) -> RenderableType:
    """The dashboard: totals, error types with rates, recent errors, breakers, incidents, health."""
    at = iso(snap.at) if snap.at is not None else "(no events)"
    parts: list[RenderableType] = [Rule(f"{title} - {at}")]

    parts.append(
        Text.from_markup(
            f"[bold]OVERALL STATISTICS[/]  Total Errors: [bold]{snap.errors.total}[/]"
            f"   Diversity: {'' if snap.errors.diversity_exact else '>= '}"
            f"{snap.errors.diversity} type(s)"
            f"   Rate: {snap.rates.total.get(1, 0.0):.2f}/min (1m)"
            f" {snap.rates.total.get(5, 0.0):.2f}/min (5m)"
            f" {snap.rates.total.get(15, 0.0):.2f}/min (15m)"
        )
    )

    by_type = snap.errors.by_type
    table = Table(title="ERROR TYPES", title_justify="left", expand=False)
    table.add_column("error type")
    table.add_column("errors", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("last 5m", justify="right")
    for etype, count in list(by_type.items())[:types]:  # most first; a storm has thousands
        r5 = snap.rates.by_type.get(etype, {}).get(5, 0.0)
        table.add_row(
            etype,
            str(count),
            f"{snap.errors.rate_since_first.get(etype, 0.0):.2f}/min",
            f"{r5:.2f}/min",
        )
    parts.append(table if by_type else Text("ERROR TYPES: none"))
    hidden = len(by_type) - types
    if hidden > 0 or snap.errors.untracked:
        more = [f"{hidden} more type(s) tracked"] if hidden > 0 else []
        if snap.errors.untracked:
            more.append(
                f"{snap.errors.untracked} error(s) of types evicted from live tracking"
                f" ({snap.errors.evicted_types} eviction(s); the journal has them all)"
            )
        parts.append(Text("  ... " + "; ".join(more)))

    if snap.recent_errors:
        rec = Table(title=f"RECENT ERRORS (last {recent})", title_justify="left")
        rec.add_column("")
        rec.add_column("time")
        rec.add_column("type")
        rec.add_column("message", overflow="fold")
        for e in list(snap.recent_errors)[-recent:]:
            rec.add_row(
                _SEV_MARK.get(e.severity or "", ""),
                iso(e.ts)[:19],
                e.error_type or e.name,
                e.message or "",
            )
        parts.append(rec)

    if snap.breakers:
        br = Table(title="CIRCUIT BREAKERS", title_justify="left")
        for col, just in (
            ("breaker", "left"),
            ("state", "left"),
            ("calls", "right"),
            ("success", "right"),
            ("failed", "right"),
            ("rejected", "right"),
            ("opens", "right"),
        ):
            br.add_column(col, justify=just)  # type: ignore[arg-type]
        for b in snap.breakers.values():
            style = _STATE_STYLE.get(b.state, "")
            br.add_row(
                b.name,
                f"[{style}]{b.state}[/]",
                str(b.calls),
                f"{b.success_rate:.2f}%",
                str(b.failures),
                str(b.rejected),
                str(b.opens),
            )
        parts.append(br)

    inc = snap.incidents
    if inc.items:
        it = Table(title=f"INCIDENTS (MTTR {_mttr(inc.mttr_s)})", title_justify="left")
        for col in ("kind", "key", "start", "end", "duration"):
            it.add_column(col)
        for i in list(inc.items)[-8:]:
            it.add_row(
                i.kind,
                i.key,
                iso(i.start)[:19],
                "ongoing" if i.end is None else iso(i.end)[:19],
                f"{i.duration_s:.0f}s",
            )
        parts.append(it)

    if snap.alerts.total:
        parts.append(
            Text(
                f"ALERTS: {snap.alerts.total} fired ("
                + ", ".join(f"{k}: {v}" for k, v in snap.alerts.by_rule.items())
                + ")"
            )
        )

    life = snap.journal
    if life.counts:
        bits = []
        if life.outages:
            last = (
                "ongoing"
                if life.outage_ongoing
                else f"last {life.last_outage_seconds:.1f}s"
                if life.last_outage_seconds is not None
                else ""
            )
            bits.append(
                f"{life.outages} store outage(s) ({last})"
                if last
                else f"{life.outages} store outage(s)"
            )
        for name in (
            "spool_drained",
            "spool_unwritable",
            "alert_sink_error",
            "breaker_reset",
            "tracker_cleared",
        ):
            if life.counts.get(name):
                bits.append(f"{name}: {life.counts[name]}")
        if bits:
            parts.append(Text("JOURNAL: " + "; ".join(bits)))

    h = snap.health
    parts.append(Text.from_markup(f"[bold]HEALTH:[/] [{_HEALTH_STYLE[h.level]}]{h.label}[/]"))
    for reason in h.reasons:
        parts.append(Text(f"  - {reason}"))
    parts.append(Rule())
    return Group(*parts)


def _mttr(mttr_s: float | None) -> str:
    if mttr_s is None:
        return "n/a"
    return f"{mttr_s / 60:.1f} min" if mttr_s >= 60 else f"{mttr_s:.0f}s"
