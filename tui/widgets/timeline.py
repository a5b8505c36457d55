"""A one-line timeline over the journal's span with the history cursor on it."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from journal.events import iso


class Timeline(Widget):
    """``[oldest ─────●──── newest]``: where the cursor sits in the span."""

    DEFAULT_CSS = """
    Timeline { height: 2; }
    """

    span: reactive[tuple[int, int] | None] = reactive(None)
    cursor: reactive[int | None] = reactive(None)
    marks: reactive[tuple[int, ...]] = reactive(())

    def render(self) -> Text:
        span, cursor = self.span, self.cursor
        width = max(10, self.size.width)
        if span is None or cursor is None:
            return Text("(no events)")
        lo, hi = span
        bar = ["─"] * width
        length = max(1, hi - lo)
        for m in self.marks:
            if lo <= m <= hi:
                bar[min(width - 1, (m - lo) * (width - 1) // length)] = "┃"
        pos = min(width - 1, max(0, (cursor - lo) * (width - 1) // length))
        line = Text("".join(bar[:pos]), style="cyan")
        line.append("●", style="bold yellow")
        line.append("".join(bar[pos + 1 :]), style="dim")
        left, right = iso(lo)[:19], iso(hi)[:19]
        gap = max(1, width - len(left) - len(right))
        line.append("\n" + left + " " * gap + right, style="dim")
        return line
