"""The Events screen's detail pane: one event's fields and context JSON.

Drawn line by line (Textual's Line API) from text wrapped to the pane's width: showing
another event redraws this pane only. A `Static` in a scrolling container made every cursor
move in the list lay out the whole screen again, which cost more than the move itself.
"""

from __future__ import annotations

from rich.cells import chop_cells
from rich.segment import Segment
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class DetailView(ScrollView):
    """Plain text (already made printable by the caller), wrapped, scrolled vertically."""

    DEFAULT_CSS = """
    DetailView { height: 1fr; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text
        self._lines: list[str] = []

    @property
    def content(self) -> str:
        """The text shown (unwrapped)."""
        return self._text

    def show(self, text: str) -> None:
        """Show ``text`` from its first line."""
        self._text = text
        self._wrap()
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def _wrap(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        lines: list[str] = []
        for line in self._text.split("\n"):
            lines.extend(chop_cells(line, width) or [""])
        self._lines = lines
        self.virtual_size = Size(width, len(lines))

    def on_mount(self) -> None:
        self._wrap()

    def on_resize(self, event: Resize) -> None:
        self._wrap()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if row >= len(self._lines):
            return Strip.blank(width)
        return Strip([Segment(self._lines[row])]).adjust_cell_length(width)
