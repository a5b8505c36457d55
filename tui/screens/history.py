"""History: the whole board as of a cursor anywhere in the journal's span.

Moves (step by event, minute, hour; jump to breaker transitions and incidents; play) are
queued and applied by one thread worker, which folds the journal as of the cursor from the
nearest projection snapshot (`JournalSource.fold_until`, as ``journal status --at`` does).
Moves that arrive while a fold runs are coalesced: only the newest cursor is folded.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from journal.events import iso

from ..messages import HistoryFolded, WorkFailed, failed
from ..model import build_board
from ..widgets.board import BoardView
from ..widgets.timeline import Timeline

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
SPEEDS = (1, 10, 100, 1000)
PLAY_TICK_S = 0.25

Move = Callable[[int], "int | None"]


class CursorMoved(HistoryFolded):
    """The cursor moved; the fold for it is on its way (``board`` unused)."""


class HistoryScreen(Screen[None]):
    """Time travel over the journal."""

    # the board scrolls (up, down, page keys); the cursor keys it would also take come first
    BINDINGS = [
        Binding("right", "step_event(1)", "Next event", priority=True),
        Binding("left", "step_event(-1)", "Prev event", priority=True),
        Binding("full_stop", "step(60000000)", "+1 min"),
        Binding("comma", "step(-60000000)", "-1 min"),
        Binding("greater_than_sign", "step(3600000000)", "+1 h"),
        Binding("less_than_sign", "step(-3600000000)", "-1 h"),
        Binding("b", "jump_breaker(1)", "Next transition"),
        Binding("B", "jump_breaker(-1)", "Prev transition"),
        Binding("n", "jump_incident(1)", "Next incident"),
        Binding("N", "jump_incident(-1)", "Prev incident"),
        Binding("home", "edge(0)", "Oldest", priority=True),
        Binding("end", "edge(1)", "Newest", priority=True),
        Binding("space", "play", "Play/pause"),
        Binding("s", "speed", "Speed"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.at: int | None = None  # the cursor (written by the worker, under the lock)
        self.folded_at: int | None = None
        self.playing = False
        self.speed = SPEEDS[0]
        self._lock = threading.Lock()
        self._moves: deque[Move] = deque()
        self._folding = False
        self.failure: str | None = None  # the last fold's error, until a fold succeeds

    def compose(self) -> ComposeResult:
        yield Header()
        yield Timeline(id="timeline")
        yield Static(id="cursor")
        yield BoardView(id="history-board")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(PLAY_TICK_S, self._tick)
        self.on_screen_resume()

    def on_screen_resume(self) -> None:
        span = self.app.span  # type: ignore[attr-defined]
        self.query_one(Timeline).span = span
        if span is None:
            self.query_one("#cursor", Static).update("The journal is empty: nothing to travel.")
            self.query_one(BoardView).display = False
            return
        self.query_one(BoardView).display = True
        pending = self.app.pending_history_at  # type: ignore[attr-defined]
        if pending is not None:
            self.app.pending_history_at = None  # type: ignore[attr-defined]
            self.go_to(pending)
        elif self.at is None and not self._folding:
            self.go_to(span[1])
        else:
            self._show_cursor()

    # ------------------------------------------------------------ moves

    def go_to(self, at: int) -> None:
        """Put the cursor at ``at`` (clamped to the span) and fold the board there."""
        self._queue(lambda _at: at)

    def _queue(self, move: Move) -> None:
        if self.app.span is None:  # type: ignore[attr-defined]
            return
        with self._lock:
            self._moves.append(move)
            start = not self._folding
            self._folding = True
        if start:
            self._fold_worker()

    def _clamp(self, at: int) -> int:
        lo, hi = self.app.span  # type: ignore[attr-defined]
        return max(int(lo), min(int(hi), at))

    @work(thread=True, group="history")
    def _fold_worker(self) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            while True:
                with self._lock:
                    moves = list(self._moves)
                    self._moves.clear()
                    if not moves and self.at == self.folded_at:
                        self._folding = False
                        return
                at: int = self.at if self.at is not None else self.app.span[1]  # type: ignore[attr-defined]
                for move in moves:
                    new = move(at)
                    if new is not None:
                        at = self._clamp(new)
                self.at = at
                self.post_message(CursorMoved(at, None))  # type: ignore[arg-type]
                with self._lock:
                    if self._moves:
                        continue  # more moves came: fold only the newest cursor
                folded = source.fold_until(at)
                board = build_board(folded.state, folded.writer, at)
                self.folded_at = at
                self.post_message(HistoryFolded(at, board))
        except Exception as exc:
            with self._lock:
                self._moves.clear()
                self._folding = False
            self.post_message(failed("history", exc))

    def action_step_event(self, direction: int) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        self._queue(lambda at: source.neighbour_ts(at, direction > 0))

    def action_step(self, delta: int) -> None:
        self._queue(lambda at: at + delta)

    def action_jump_breaker(self, direction: int) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        self._queue(lambda at: source.neighbour_ts(at, direction > 0, kind="breaker"))

    def action_jump_incident(self, direction: int) -> None:
        starts = sorted(self.app.incident_starts())  # type: ignore[attr-defined]

        def move(at: int) -> int | None:
            if direction > 0:
                return next((s for s in starts if s > at), None)
            return next((s for s in reversed(starts) if s < at), None)

        self._queue(move)

    def action_edge(self, end: int) -> None:
        span = self.app.span  # type: ignore[attr-defined]
        if span is not None:
            self.go_to(span[1] if end else span[0])

    def action_play(self) -> None:
        self.playing = not self.playing
        self._show_cursor()

    def action_speed(self) -> None:
        self.speed = SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)]
        self._show_cursor()

    def _tick(self) -> None:
        if not self.playing or self.at is None:
            return
        span = self.app.span  # type: ignore[attr-defined]
        if span is not None and self.at >= span[1]:
            self.playing = False
            self._show_cursor()
            return
        with self._lock:
            busy = self._folding and bool(self._moves)
        if not busy:
            step = int(self.speed * PLAY_TICK_S * 1_000_000)
            self._queue(lambda at: at + step)

    # ------------------------------------------------------------ drawing

    def on_work_failed(self, message: WorkFailed) -> None:
        """A fold failed: the cursor line says so until a move folds again."""
        self.failure = message.error
        self._show_cursor()

    def on_history_folded(self, message: HistoryFolded) -> None:
        message.stop()
        if isinstance(message, CursorMoved):
            self._show_cursor(message.at)
            return
        self.failure = None
        if message.at == self.at:
            self.query_one(BoardView).show(message.board)
        self._show_cursor(message.at)

    def _show_cursor(self, at: int | None = None) -> None:
        at = self.at if at is None else at
        timeline = self.query_one(Timeline)
        timeline.span = self.app.span  # type: ignore[attr-defined]
        timeline.cursor = at
        timeline.marks = tuple(self.app.incident_starts())  # type: ignore[attr-defined]
        if at is None:
            return
        state = "playing" if self.playing else "paused"
        if self.failure is not None:
            pending = f"  fold failed (any move retries): {self.failure}"
        elif at != self.folded_at:
            pending = "  (folding...)"
        else:
            pending = ""
        self.query_one("#cursor", Static).update(
            Text(f"Cursor: {iso(at)}  [{state} {self.speed}x]{pending}")
        )
