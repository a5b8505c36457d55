"""`?`: every key binding of every screen."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "question_mark": "?",
    "comma": ",",
    "full_stop": ".",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "space": "space",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(key: str) -> str:
    """A binding's key as people type it."""
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def binding_rows(sections: list[tuple[str, list[Binding]]]) -> list[tuple[str, str, str]]:
    """(section, keys, description) for every binding listed."""
    return [
        (title, key_label(b.key), b.description) for title, bindings in sections for b in bindings
    ]


class HelpScreen(ModalScreen[None]):
    """The bindings, grouped by screen; any of escape, ? or q closes it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close"),
        Binding("q", "app.pop_screen", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.rows = binding_rows(sections)

    def compose(self) -> ComposeResult:
        table = Table(title="journal monitor: keys", expand=True, box=None)
        table.add_column("screen", style="dim")
        table.add_column("key", style="bold")
        table.add_column("does")
        for section, key, desc in self.rows:
            table.add_row(section, key, desc)
        with VerticalScroll():
            yield Static(table, id="help-table")
            yield Static(
                "Ctrl+P opens the command palette. Times are UTC. escape closes this help.",
                id="help-foot",
            )
