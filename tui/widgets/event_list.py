"""A virtual list of events: Line API rendering over pages fetched on demand.

The widget holds at most `MAX_PAGES` pages of `PAGE_SIZE` rows (a few thousand rows, whatever
the journal's size); it never reads the database: it posts `EventList.PageWanted` and the
screen's worker answers with `set_page`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from journal.events import Event, iso
from journal.sanitizing.safetext import printable

PAGE_SIZE = 256
MAX_PAGES = 16
_KIND_STYLE = {
    "error": Style(color="dark_orange"),
    "breaker": Style(color="magenta"),
    "retry": Style(color="cyan"),
    "alert": Style(color="red", bold=True),
    "journal": Style(color="blue"),
    "calls": Style(dim=True),
}
_CURSOR = Style(reverse=True)


def event_line(e: Event) -> str:
    """One row: time, kind, name, what (journal text with its control characters escaped:
    the row is written to the terminal as it is)."""
    if e.kind == "breaker":
        what = f"{e.state_from} -> {e.state_to}"
    elif e.kind == "retry":
        what = f"attempt {e.attempt}, {e.error_type or ''}: {e.message or ''}"
    elif e.kind == "error":
        what = f"[{e.severity}] {e.error_type}: {e.message or ''}"
    else:
        what = e.message or e.error_type or ""
    name = printable(e.name)[:24]
    return f"{iso(e.ts)[:23].replace('T', ' ')}  {e.kind:<7} {name:<24} {printable(what)}"


class EventList(ScrollView, can_focus=True):
    """Newest-first events of one filter; rows are fetched by page as they come into view."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "Newest", show=False),
        Binding("end", "jump(-1)", "Oldest", show=False),
    ]
    DEFAULT_CSS = """
    EventList { height: 1fr; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class PageWanted(Message):
        """Page ``page`` of generation ``generation`` is needed."""

        generation: int
        page: int

    @dataclass
    class Highlighted(Message):
        """The cursor is on ``event`` (None: not loaded yet)."""

        event: Event | None
        row: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.total = 0
        self.generation = 0
        self.pages: OrderedDict[int, list[Event]] = OrderedDict()
        self._asked: set[int] = set()

    # ------------------------------------------------------------ data

    def reset(self, generation: int, total: int) -> None:
        """A new filter: ``total`` rows, none loaded."""
        self.generation = generation
        self.total = total
        self.pages.clear()
        self._asked.clear()
        self.virtual_size = Size(self.size.width, total)
        self.scroll_to(y=0, animate=False)
        self.cursor = 0
        self.refresh()

    def set_page(self, generation: int, page: int, events: list[Event]) -> None:
        """A page arrived (ignored if it belongs to an older filter)."""
        if generation != self.generation:
            return
        self._asked.discard(page)
        self.pages[page] = events
        self.pages.move_to_end(page)
        while len(self.pages) > MAX_PAGES:
            self.pages.popitem(last=False)
        self.refresh()
        if self.cursor // PAGE_SIZE == page:
            self._announce()

    def forget_requests(self) -> None:
        """Pages asked for and never answered (a failed read) are asked again when drawn."""
        self._asked.clear()
        self.refresh()

    def event_at(self, row: int) -> Event | None:
        """The event on ``row`` if its page is loaded."""
        page = self.pages.get(row // PAGE_SIZE)
        if page is None:
            return None
        i = row % PAGE_SIZE
        return page[i] if i < len(page) else None

    def _want(self, page: int) -> None:
        if page not in self.pages and page not in self._asked:
            self._asked.add(page)
            self.post_message(self.PageWanted(self.generation, page))

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if row >= self.total:
            return Strip.blank(width)
        e = self.event_at(row)
        if e is None:
            self._want(row // PAGE_SIZE)
            return Strip([Segment("…".ljust(width), Style(dim=True))])
        text = event_line(e)[: max(0, width)].ljust(width)
        style = _CURSOR if row == self.cursor and self.has_focus else _KIND_STYLE.get(e.kind)
        if row == self.cursor and not self.has_focus:
            style = Style(bold=True, underline=True)
        return Strip([Segment(text, style)])

    # ------------------------------------------------------------ moving

    def watch_cursor(self, old: int, new: int) -> None:
        self._keep_visible()
        self._announce()
        self.refresh()

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self.event_at(self.cursor), self.cursor))

    def _keep_visible(self) -> None:
        h = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False)

    def _go(self, row: int) -> None:
        self.cursor = max(0, min(max(0, self.total - 1), row))

    def action_move(self, delta: int) -> None:
        self._go(self.cursor + delta)

    def action_page(self, delta: int) -> None:
        self._go(self.cursor + delta * max(1, self.scrollable_content_region.height))

    def action_jump(self, where: int) -> None:
        self._go(0 if where == 0 else self.total - 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
