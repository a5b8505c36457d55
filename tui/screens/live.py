"""Live: the board as of the wall clock, following new events from every writer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from ..model import Board
from ..widgets.board import BoardView


class LiveScreen(Screen[None]):
    """The dashboard, refreshed by the app's follow worker."""

    BINDINGS = [Binding("p", "app.toggle_follow", "Pause/follow")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Replaying the journal...", id="live-status")
        yield ProgressBar(id="live-progress", show_eta=False)
        yield BoardView(id="live-board")
        yield Footer()

    def on_mount(self) -> None:
        board = self.app.live_board  # type: ignore[attr-defined]
        if board is not None:
            self.show(board, self.app.live_status_text())  # type: ignore[attr-defined]

    def show(self, board: Board, status: str) -> None:
        """Draw ``board`` and the follow status line."""
        self.query_one("#live-progress").display = False
        self.query_one("#live-status", Static).update(status)
        self.query_one(BoardView).show(board)

    def waiting(self, status: str) -> None:
        """No board yet: the first replay failed and will be tried again."""
        self.query_one("#live-progress").display = False
        self.query_one("#live-status", Static).update(status)

    def progress(self, done: int, total: int) -> None:
        """Replay progress (ids folded of the newest id)."""
        bar = self.query_one("#live-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(1, total), progress=min(done, total))
