"""Incidents: breaker outages, error bursts and store outages, with the MTTR summary.

The list is `journal incidents` over the whole journal (`journal.history.incident_report.collect`).
Enter opens the incident's events (the filter of ``journal incidents show``) and puts the
history cursor at its start.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from journal.dashboard import span_text
from journal.events import iso
from journal.sanitizing.safetext import printable

from ..messages import IncidentsLoaded, WorkFailed, failed


class IncidentsScreen(Screen[None]):
    """The incidents of the journal, oldest first."""

    AUTO_FOCUS = "#incidents"

    BINDINGS = [
        Binding("r", "reload", "Reload"),
        Binding("enter", "open", "Open events"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None
        self.until = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading incidents...", id="incidents-summary")
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        # the name last: the one column of any width, so at 80 columns it, not the numbers,
        # is what the screen cuts
        self.query_one(DataTable).add_columns(
            "id", "kind", "start (UTC)", "duration", "errors", "peak/min", "name"
        )
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#incidents-summary", Static).update("Loading incidents...")
        self._load(self.app.clock())  # type: ignore[attr-defined]

    @work(thread=True, group="incidents", exclusive=True)
    def _load(self, until: int) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            report = source.incidents(until)
        except Exception as exc:
            self.post_message(failed("incidents", exc))
            return
        self.post_message(IncidentsLoaded(report, until))

    def on_incidents_loaded(self, message: IncidentsLoaded) -> None:
        message.stop()
        self.report, self.until = message.report, message.until
        self.app.incidents_report = message.report  # type: ignore[attr-defined]
        report = message.report
        table = self.query_one(DataTable)
        table.clear()
        for r in report.rows:
            table.add_row(
                r.id,
                r.kind,
                iso(r.start)[:19].replace("T", " "),
                ("ongoing " if r.end is None else "") + span_text(r.duration_s),
                # an incident begun before a prune's cut: at least what the fold counted
                f"{r.errors:,}" if r.exact else f">={r.errors:,}",
                f"{r.peak_per_min:,}" if r.exact else f">={r.peak_per_min:,}",
                Text(printable(r.name)),  # journal text: never markup, never a control
                key=r.id,
            )
        ongoing = sum(1 for r in report.rows if r.end is None)
        mttr = "n/a" if report.mttr_s is None else span_text(report.mttr_s)
        if not report.rows:
            text = "No incidents in the journal."
        else:
            text = (
                f"{len(report.rows)} incident(s): {ongoing} ongoing,"
                f" {len(report.rows) - ongoing} resolved; MTTR {mttr}. Enter opens one."
            )
        self.query_one("#incidents-summary", Static).update(text)
        table.focus()

    def on_work_failed(self, message: WorkFailed) -> None:
        """Loading failed: say so in the summary; `r` retries."""
        self.query_one("#incidents-summary", Static).update(
            Text(f"Could not load incidents (r retries): {message.error}")
        )

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_open()

    def action_open(self) -> None:
        if self.report is None or not self.report.rows:
            return
        table = self.query_one(DataTable)
        row = self.report.rows[table.cursor_row]
        self.app.open_incident(row, self.until)  # type: ignore[attr-defined]
