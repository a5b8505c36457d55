"""The board: statistics, error types, recent errors, breakers, health and a chart.

`BoardView.show(board)` redraws every section from a frozen `Board`; the same widget
serves the Live screen (as of the wall clock) and History (as of the cursor).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Sparkline, Static

from journal.dashboard import span_text
from journal.events import iso
from journal.projections.state import RATE_WINDOWS_MIN
from journal.sanitizing.safetext import printable

from ..model import SPARK_MINUTES, Board

TOP_TYPES = 8
RECENT = 8
STATE_STYLE = {"CLOSED": "green", "HALF_OPEN": "yellow", "OPEN": "bold red"}
HEALTH_STYLE = {"OK": "bold green", "WARNING": "bold yellow", "CRITICAL": "bold red"}
SEVERITY_STYLE = {"CRITICAL": "bold red", "ERROR": "dark_orange", "WARNING": "yellow"}
EMPTY_TEXT = (
    "The journal is empty: no events yet.\n"
    "Events appear here as soon as a process writes to this journal."
)


def _ago(at: int | None, ts: int | None) -> str:
    if at is None or ts is None:
        return "-"
    return span_text((at - ts) / 1e6)


class BoardView(VerticalScroll):
    """Every section of the dashboard for one `Board`."""

    DEFAULT_CSS = """
    BoardView { height: 1fr; }
    BoardView .section { height: auto; margin: 0 0 1 0; }
    BoardView DataTable { height: auto; max-height: 12; }
    BoardView #spark { height: 3; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board: Board | None = None

    def compose(self) -> ComposeResult:
        # What needs attention first: at 80x24 statistics, health and the breakers fit above
        # the fold. Wide terminals put statistics beside health and types beside the chart;
        # the breakers and recent errors always have the whole width for their columns.
        yield Static(EMPTY_TEXT, id="empty")
        with Vertical(id="sections"):
            yield Static(id="stats", classes="section")
            yield Static(id="health", classes="section")
            yield DataTable(id="breakers", classes="section whole", cursor_type="none")
            with Vertical(id="types-box", classes="section"):
                yield DataTable(id="types", cursor_type="none")
                yield Static(id="types-more")
            with Vertical(id="chart-box", classes="section"):
                yield Static(id="spark-label")
                yield Sparkline([], id="spark")
            yield DataTable(id="recent", classes="section whole", cursor_type="none")

    def on_mount(self) -> None:
        types = self.query_one("#types", DataTable)
        types.add_columns("error type", "count", *(f"/min {m}m" for m in RATE_WINDOWS_MIN))
        recent = self.query_one("#recent", DataTable)
        recent.add_columns("time", "severity", "type", "message")
        breakers = self.query_one("#breakers", DataTable)
        breakers.add_columns(
            "breaker", "state", "in state", "calls", "success", "failed", "rejected"
        )
        self.query_one("#sections").display = False

    def show(self, board: Board) -> None:
        """Redraw from ``board``."""
        self.board = board
        empty = board.empty
        self.query_one("#empty").display = empty
        self.query_one("#sections").display = not empty
        if empty:
            return
        snap, at = board.snap, board.at
        rates = snap.rates.total
        stats = Text()
        stats.append("OVERALL  ", style="bold")
        stats.append(f"as of {iso(at)[:19].replace('T', ' ') if at is not None else '-'}")
        if board.newest_ts is not None:
            stats.append(f"   newest event {_ago(at, board.newest_ts)} ago")
        stats.append(f"\nTotal errors: {snap.errors.total:,}", style="bold")
        exact = "" if snap.errors.diversity_exact else ">= "
        stats.append(f"   Types: {exact}{snap.errors.diversity:,}")
        stats.append(f"   Events: {snap.events_seen:,}\n")
        stats.append(
            "Errors/min: " + "  ".join(f"{rates.get(m, 0.0):.2f} ({m}m)" for m in RATE_WINDOWS_MIN)
        )
        self.query_one("#stats", Static).update(stats)

        types = self.query_one("#types", DataTable)
        types.clear()
        by_type = list(snap.errors.by_type.items())
        for etype, count in by_type[:TOP_TYPES]:
            r = snap.rates.by_type.get(etype, {})
            types.add_row(
                Text(printable(etype)),
                f"{count:,}",
                *(f"{r.get(m, 0.0):.2f}" for m in RATE_WINDOWS_MIN),
            )
        hidden = len(by_type) - TOP_TYPES
        more = self.query_one("#types-more", Static)
        more.update(f"... and {hidden:,} more type(s)" if hidden > 0 else "")
        more.display = hidden > 0
        types.display = bool(by_type)

        recent = self.query_one("#recent", DataTable)
        recent.clear()
        for e in reversed(list(snap.recent_errors)[-RECENT:]):
            sev = e.severity or ""
            recent.add_row(
                iso(e.ts)[11:19],
                Text(sev, style=SEVERITY_STYLE.get(sev, "")),
                # text from the journal: never markup, never a terminal's control
                Text(printable(e.error_type or e.name)),
                Text(printable((e.message or "")[:200])),
            )

        breakers = self.query_one("#breakers", DataTable)
        breakers.clear()
        for b in snap.breakers.values():
            breakers.add_row(
                Text(printable(b.name)),
                Text(printable(b.state), style=STATE_STYLE.get(b.state, "")),
                _ago(at, b.since),
                f"{b.calls:,}",
                f"{b.success_rate:.2f}%",
                f"{b.failures:,}",
                f"{b.rejected:,}",
                key=b.name,
            )

        self.query_one("#health", Static).update(self._health(board))
        self.query_one("#spark-label", Static).update(
            f"Errors per minute, last {SPARK_MINUTES} min (max {max(board.per_minute or (0,))})"
        )
        self.query_one("#spark", Sparkline).data = list(board.per_minute)

    @staticmethod
    def _health(board: Board) -> Text:
        snap, w, at = board.snap, board.writer, board.at
        h = snap.health
        out = Text()
        out.append("HEALTH: ", style="bold")
        out.append(h.label, style=HEALTH_STYLE.get(h.level, ""))
        for reason in h.reasons:
            out.append(f"\n  - {printable(reason)}")
        if w.outages_open:
            source, start = w.outages_open[-1]
            out.append("\nWRITER: store UNAVAILABLE", style="bold red")
            out.append(f" for {_ago(at, start)} (writer {printable(source)})")
        else:
            out.append("\nWRITER: store available")
        last = f", last lasted {span_text(w.last_outage_s)}" if w.last_outage_s is not None else ""
        out.append(f"; outages: {w.outages}{last}")
        inc = snap.incidents
        mttr = "n/a" if inc.mttr_s is None else span_text(inc.mttr_s)
        out.append(f"\nINCIDENTS: ongoing {len(inc.ongoing)}, resolved {inc.resolved}, MTTR {mttr}")
        if snap.alerts.total:
            out.append(f"; alerts fired: {snap.alerts.total}")
        return out
