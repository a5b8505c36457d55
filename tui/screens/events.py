"""Events: filter the journal, page through it lazily, read one event's context, export.

The list is fixed at the newest id when the filter is applied (``through``), like
``journal export``; `r` re-applies the filter to take in newer events.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from journal.errors import ConfigError, JournalError
from journal.events import KINDS, SEVERITIES, iso, to_us
from journal.sanitizing.safetext import printable
from journal.timeparse import parse_time

from ..messages import ListCounted, PageLoaded, WorkFailed, failed
from ..model import EventFilter, split_values
from ..widgets.detail import DetailView
from ..widgets.event_list import PAGE_SIZE, EventList

FIELDS = (
    ("f-kind", "kind: error,retry,..."),
    ("f-name", "name"),
    ("f-severity", "severity: ERROR,..."),
    ("f-error-type", "error type"),
    ("f-source", "source"),
    ("f-text", "text in message/name"),
    ("f-since", "since (ISO or 2h)"),
    ("f-until", "until (ISO or 1h)"),
)


def filter_from_form(values: dict[str, str]) -> EventFilter:
    """The form's text as an `EventFilter`; `ConfigError` says what is wrong."""
    kinds = tuple(v.lower() for v in split_values(values.get("f-kind", "")))
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ConfigError(f"unknown kind {', '.join(bad)}: expected {', '.join(sorted(KINDS))}")
    severities = tuple(v.upper() for v in split_values(values.get("f-severity", "")))
    bad = [s for s in severities if s not in SEVERITIES]
    if bad:
        raise ConfigError(
            f"unknown severity {', '.join(bad)}: expected {', '.join(sorted(SEVERITIES))}"
        )
    since_raw = values.get("f-since", "").strip()
    until_raw = values.get("f-until", "").strip()
    since = to_us(parse_time(since_raw, option="since")) if since_raw else None
    until = to_us(parse_time(until_raw, option="until")) if until_raw else None
    if since is not None and until is not None and since > until:
        raise ConfigError(
            f"since ({iso(since)}) is after until ({iso(until)}): nothing could match"
        )
    return EventFilter(
        kinds=kinds,
        names=split_values(values.get("f-name", "")),
        severities=severities,
        error_types=split_values(values.get("f-error-type", "")),
        sources=split_values(values.get("f-source", "")),
        text=values.get("f-text", "").strip(),
        since=since,
        until=until,
    )


def form_from_filter(f: EventFilter) -> dict[str, str]:
    """The form's text for ``f`` (the inverse of `filter_from_form`)."""
    return {
        "f-kind": ",".join(f.kinds),
        "f-name": ",".join(f.names),
        "f-severity": ",".join(f.severities),
        "f-error-type": ",".join(f.error_types),
        "f-source": ",".join(f.sources),
        "f-text": f.text,
        "f-since": iso(f.since) if f.since is not None else "",
        "f-until": iso(f.until) if f.until is not None else "",
    }


class EventsScreen(Screen[None]):
    """Filtered, newest-first events with a detail pane."""

    AUTO_FOCUS = "#event-list"

    BINDINGS = [
        Binding("f", "focus_filter", "Filter"),
        Binding("l", "focus_list", "List"),
        Binding("r", "apply", "Apply/refresh"),
        Binding("x", "export", "Export"),
        Binding("escape", "focus_list", "Back to list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = EventFilter()
        self.generation = 0
        self.through = 0
        self.total = 0
        self.boundaries: dict[int, int] = {}  # page -> id of its last (oldest) row
        self.newest_id = 0  # the newest id the live follow has seen
        self.counted = False  # the status shows a count (not counting, not a failure)
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Grid(id="filters"):
            for fid, placeholder in FIELDS:
                yield Input(placeholder=placeholder, id=fid, compact=True)
        with Horizontal(id="export-row"):
            yield Static("export to:", id="export-label")
            yield Input("journal_export.json", id="f-export", compact=True)
        yield Static(id="events-status")
        with Horizontal(id="events-body"):
            yield EventList(id="event-list")
            yield DetailView("(no event selected)", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.set_filter(self.filter)
        self.query_one(EventList).focus()

    # ------------------------------------------------------------ filter

    def set_filter(self, f: EventFilter) -> None:
        """Show ``f`` in the form and load the list for it."""
        self.filter = f
        if not self._ready:
            return  # composed later: on_mount loads it
        for key, value in form_from_filter(f).items():
            self.query_one(f"#{key}", Input).value = value
        self._reload()

    def _form(self) -> dict[str, str]:
        return {fid: self.query_one(f"#{fid}", Input).value for fid, _ in FIELDS}

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "f-export":
            self.action_export()
        else:
            self.action_apply()

    def action_apply(self) -> None:
        try:
            self.filter = filter_from_form(self._form())
        except JournalError as exc:
            self.notify(str(exc), severity="error", title="filter", markup=False)
            return
        self._reload()
        self.query_one(EventList).focus()

    def _reload(self) -> None:
        self.generation += 1
        self.counted = False
        self.boundaries.clear()
        self.query_one("#events-status", Static).update(
            Text(
                f"Counting: {printable(self.filter.describe())}..."
            )  # the filter's text is never markup
        )
        self._count(self.generation, self.filter)

    @work(thread=True, group="events-count", exclusive=True)
    def _count(self, generation: int, f: EventFilter) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            through = source.latest_id()
            total = source.count(f, through + 1)
        except Exception as exc:
            self.post_message(failed("events", exc))
            return
        self.post_message(ListCounted(generation, total, through))

    def on_list_counted(self, message: ListCounted) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.through, self.total = message.through, message.total
        self.newest_id = max(self.newest_id, message.through)
        self.counted = True
        self._show_status()
        self.query_one(EventList).reset(message.generation, message.total)
        if not message.total:
            self.query_one(DetailView).show(
                "No events match this filter."
                if self.filter != EventFilter()
                else "The journal is empty: no events yet."
            )

    def _show_status(self) -> None:
        what = "event" if self.total == 1 else "events"
        newer = (
            f" (newer events since: r shows them, through id {self.newest_id:,})"
            if self.newest_id > self.through
            else ""
        )
        self.query_one("#events-status", Static).update(
            Text(
                f"{self.total:,} {what} (newest first, through id {self.through:,}): "
                f"{printable(self.filter.describe())}{newer}"
            )
        )

    def note_newest(self, newest_id: int) -> None:
        """The live follow saw events up to ``newest_id``: say so if the list stops before."""
        if newest_id > self.newest_id:
            self.newest_id = newest_id
            if self.counted and newest_id > self.through:
                self._show_status()

    def on_work_failed(self, message: WorkFailed) -> None:
        """A count or a page failed: say so where the count goes; `r` (or scrolling) retries."""
        if message.where != "events":
            return  # an export's failure is the app's notification alone
        self.counted = False
        self.query_one("#events-status", Static).update(
            Text(f"Could not read events (r retries): {message.error}")
        )
        self.query_one(EventList).forget_requests()

    # ------------------------------------------------------------ pages

    @on(EventList.PageWanted)
    def _page_wanted(self, message: EventList.PageWanted) -> None:
        message.stop()
        before = self.boundaries.get(message.page - 1)
        self._fetch(message.generation, message.page, self.filter, self.through, before)

    @work(thread=True, group="events-pages")
    def _fetch(
        self, generation: int, page: int, f: EventFilter, through: int, before: int | None
    ) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            if before is not None:  # keyset: the page after a known one
                events = source.page(f, before, limit=PAGE_SIZE)
            else:
                events = source.page(f, through + 1, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        except Exception as exc:
            self.post_message(failed("events", exc))
            return
        self.post_message(PageLoaded(generation, page, events))

    def on_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        if message.events and message.events[-1].id is not None:
            self.boundaries[message.page] = message.events[-1].id
        self.query_one(EventList).set_page(message.generation, message.page, message.events)

    @on(EventList.Highlighted)
    def _highlighted(self, message: EventList.Highlighted) -> None:
        message.stop()
        e = message.event
        if e is None:
            return
        fields = [
            f"id: {e.id}",
            f"time: {iso(e.ts)}",
            f"kind: {e.kind}",
            f"name: {e.name}",
            f"source: {e.source}",
        ]
        for label, value in (
            ("error type", e.error_type),
            ("severity", e.severity),
            ("message", e.message),
            ("attempt", e.attempt),
            ("delay", e.delay),
            ("state", f"{e.state_from} -> {e.state_to}" if e.state_to else None),
        ):
            if value is not None:
                fields.append(f"{label}: {value}")
        fields.append(f"event_id: {e.event_id}")
        fields.append("context:")
        source = self.app.source  # type: ignore[attr-defined]
        fields.append(source.context_text(e))
        self.query_one(DetailView).show(printable("\n".join(fields), newlines=True))

    # ------------------------------------------------------------ actions

    def action_focus_filter(self) -> None:
        self.query_one("#f-kind", Input).focus()

    def action_focus_list(self) -> None:
        self.query_one(EventList).focus()

    def action_export(self) -> None:
        path = self.query_one("#f-export", Input).value.strip()
        if not path:
            self.notify("give a file to export to", severity="error", title="export")
            return
        self._export(self.filter, path)

    @work(thread=True, group="export", exclusive=True)
    def _export(self, f: EventFilter, path: str) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        self.app.call_from_thread(self.notify, f"exporting to {path}...", title="export")
        try:
            said = source.export(f, path)
        except Exception as exc:
            self.post_message(failed("export", exc))
            return
        self.app.call_from_thread(self.notify, said or f"exported to {path}", title="export")
        self.last_export = path
