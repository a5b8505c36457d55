"""`MonitorApp`: the Textual monitor of a journal (Live, History, Events, Incidents).

The app owns the one `JournalSource` and the live fold. A thread worker replays the
journal once (from the nearest snapshot), then a timer asks a thread worker to fold only
the rows after the last id seen and to rebuild the board as of the clock; widgets never
touch the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

from journal.dashboard import span_text
from journal.events import iso, now_us
from journal.sanitizing.safetext import printable
from journal.settings import redact_url

from .messages import LiveLoaded, LiveUpdated, WorkFailed, failed
from .model import Board, EventFilter, build_board
from .screens.events import EventsScreen
from .screens.help import HelpScreen
from .screens.history import HistoryScreen
from .screens.incidents import IncidentsScreen
from .screens.live import LiveScreen
from .source import Folded, JournalSource

POLL_INTERVAL_S = 1.0
RETRY_REPLAY_S = 2.0  # the first replay failed (database down): try again after this
NOTIFY_AGAIN_S = 30.0  # the same failure is notified again only after this


class MonitorApp(App[int]):
    """``journal monitor``."""

    TITLE = "journal monitor"
    CSS_PATH = "monitor.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        "live": LiveScreen,
        "history": HistoryScreen,
        "events": EventsScreen,
        "incidents": IncidentsScreen,
    }
    DEFAULT_MODE = "live"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("1", "switch_mode('live')", "Live"),
        Binding("2", "switch_mode('history')", "History"),
        Binding("3", "switch_mode('events')", "Events"),
        Binding("4", "switch_mode('incidents')", "Incidents"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        url: str,
        *,
        poll_interval: float = POLL_INTERVAL_S,
        clock: Callable[[], int] = now_us,
        follow: bool = True,
    ) -> None:
        super().__init__()
        self.url = url
        self.source = JournalSource(url)
        self.clock = clock
        self.poll_interval = poll_interval
        self.following = follow
        self.live: Folded | None = None
        self.live_board: Board | None = None
        self.last_id = 0
        self.span: tuple[int, int] | None = None
        self.incidents_report: Any = None
        self.followed = 0  # events folded by the follow worker
        self._fold_lock = threading.Lock()
        self._loading = True
        self._latest_hint = 0
        self.pending_history_at: int | None = None
        # the database as the follow worker last found it: the failure and since when
        self.db_error: str | None = None
        self.db_down_since: int | None = None
        self._notified: dict[str, float] = {}  # failure text -> when it was last notified

    # ------------------------------------------------------------ life

    def on_mount(self) -> None:
        self.sub_title = redact_url(self.url)
        self._load_live()
        self.progress_timer = self.set_interval(0.2, self._show_progress)
        self.poll_timer = self.set_interval(self.poll_interval, self._poll, pause=True)

    def on_unmount(self) -> None:
        self.source.close()

    @work(thread=True, group="live", exclusive=True)
    def _load_live(self) -> None:
        try:
            with self._fold_lock:
                span = self.source.span()
                self._latest_hint = self.source.latest_id()
                folded = self.source.fold_until(None)
                board = build_board(folded.state, folded.writer, self.clock())
                self.live = folded
        except Exception as exc:
            self.post_message(failed("replay", exc))
            return
        self.post_message(LiveLoaded(board, span))

    def _replay_failed(self) -> None:
        """The first replay failed: say so on the Live screen and try again shortly."""
        self._loading = False
        try:
            for screen in self._live_screens():
                screen.waiting(self.live_status_text())
        except NoMatches:
            return  # the app is quitting
        self.set_timer(RETRY_REPLAY_S, self._retry_replay)

    def _retry_replay(self) -> None:
        self._loading = True
        self.progress_timer.resume()
        self._load_live()

    def _show_progress(self) -> None:
        if not self._loading:
            self.progress_timer.pause()
            return
        screen = self.screen
        if isinstance(screen, LiveScreen):
            latest = max(1, self._latest_hint)
            try:
                screen.progress(self.source.store.progress_id, latest)
            except NoMatches:
                pass  # the app is quitting

    def on_live_loaded(self, message: LiveLoaded) -> None:
        self._loading = False
        self._recovered()
        self.span = message.span
        self.last_id = message.board.newest_id or 0
        self._show_live(message.board)
        if self.following:
            self.poll_timer.resume()

    def _poll(self) -> None:
        if self.live is not None:
            self._follow()

    @work(thread=True, group="follow", exclusive=False)
    def _follow(self) -> None:
        if self.live is None or not self._fold_lock.acquire(blocking=False):
            return  # the previous poll is still folding
        try:
            self.last_id, new = self.source.follow(self.live, self.last_id)
            board = build_board(self.live.state, self.live.writer, self.clock())
        except Exception as exc:
            self.post_message(failed("follow", exc))
            return
        finally:
            self._fold_lock.release()
        self.post_message(LiveUpdated(board, new, self.live.state.newest_ts))

    def on_live_updated(self, message: LiveUpdated) -> None:
        self._recovered()
        self.followed += message.new
        if message.new and message.newest_ts is not None:
            if self.span is None:
                self.span = (message.newest_ts, message.newest_ts)
            else:
                self.span = (self.span[0], max(self.span[1], message.newest_ts))
            # the oldest too: an import or a late spool may add events older than any seen
            self._refresh_span()
        self._show_live(message.board)

    @work(thread=True, group="span", exclusive=True)
    def _refresh_span(self) -> None:
        try:
            span = self.source.span()
        except Exception:
            return  # the follow worker reports the database's state
        if span is not None:
            self.call_from_thread(setattr, self, "span", span)

    def _show_live(self, board: Board) -> None:
        self.live_board = board
        try:
            for screen in self._live_screens():
                screen.show(board, self.live_status_text())
            events = self._mode_screen("events")
            if isinstance(events, EventsScreen) and events.is_mounted:
                events.note_newest(self.last_id)
        except NoMatches:
            pass  # a follow that lands while the app quits: its screens are being taken down

    def _live_screens(self) -> Iterable[LiveScreen]:
        for stack in self._screen_stacks.values():
            for screen in stack:
                if isinstance(screen, LiveScreen) and screen.is_mounted:
                    yield screen

    def live_status_text(self) -> str:
        """The follow line: following or paused, and what was followed; or the outage."""
        if self.db_error is not None:
            since = iso(self.db_down_since)[11:19] if self.db_down_since is not None else "?"
            again = "retrying" if self.following or self.live is None else "paused (p retries)"
            return f"Database unreachable since {since} UTC, {again}: {self.db_error}"
        state = "following" if self.following else "paused (p follows)"
        return f"Live, {state}: last id {self.last_id:,}; {self.followed:,} new event(s) followed"

    def on_work_failed(self, message: WorkFailed) -> None:
        """Notify a failure once (again only after `NOTIFY_AGAIN_S`); the follow and the first
        replay keep their outage in the Live status line and notify when it starts and ends."""
        if message.where in ("follow", "replay"):
            first = self.db_error is None
            self.db_error = message.error
            if first:
                self.db_down_since = self.clock()
            if message.where == "replay":
                self._replay_failed()
            elif self.live_board is not None:
                self._show_live(self.live_board)
            if not first:
                return
        now = time.monotonic()
        last = self._notified.get(message.text)
        if last is not None and now - last < NOTIFY_AGAIN_S:
            return
        self._notified[message.text] = now
        self.notify(message.text, severity="error", title="database", timeout=8, markup=False)

    def _recovered(self) -> None:
        """The database answered again after a failed follow or replay: say so, once."""
        if self.db_error is None:
            return
        down = self.db_down_since
        self.db_error = self.db_down_since = None
        self._notified.clear()
        lasted = "" if down is None else f" after {span_text((self.clock() - down) / 1e6)}"
        self.notify(f"database reachable again{lasted}", title="database", markup=False)

    # ------------------------------------------------------------ actions

    def action_toggle_follow(self) -> None:
        """Pause or resume following new events."""
        self.following = not self.following
        if self.following:
            self.poll_timer.resume()
        else:
            self.poll_timer.pause()
        if self.live_board is not None:
            self._show_live(self.live_board)

    def action_help(self) -> None:
        """The help screen: every binding."""
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.binding_sections()))

    @classmethod
    def binding_sections(cls) -> list[tuple[str, list[Binding]]]:
        """Every binding, by screen."""
        from .widgets.event_list import EventList

        sections = [
            ("everywhere", cls.BINDINGS),
            ("live", LiveScreen.BINDINGS),
            ("history", HistoryScreen.BINDINGS),
            ("events", EventsScreen.BINDINGS),
            ("events list", EventList.BINDINGS),
            ("incidents", IncidentsScreen.BINDINGS),
        ]
        return [(title, [b for b in bs if isinstance(b, Binding)]) for title, bs in sections]

    def incident_starts(self) -> list[int]:
        """Start times of the known incidents (the live board's, and the listed ones)."""
        starts: set[int] = set()
        if self.live_board is not None:
            starts.update(i.start for i in self.live_board.snap.incidents.items)
        if self.incidents_report is not None:
            starts.update(r.start for r in self.incidents_report.rows)
        return sorted(starts)

    def open_incident(self, row: Any, until: int) -> None:
        """Show the incident's events and put the history cursor at its start."""
        from journal.history.incident_report import incident_filters

        scope = incident_filters(row, until)
        f = EventFilter(
            kinds=tuple(scope.get("kinds", ())),
            names=tuple(scope.get("names", ())),
            error_types=tuple(scope.get("error_types", ())),
            since=int(scope["since"]),
            until=int(scope["until"]),
        )
        history = self._mode_screen("history")
        if isinstance(history, HistoryScreen) and history.is_mounted:
            history.go_to(row.start)
        else:
            self.pending_history_at = row.start
        self.switch_mode("events")
        events = self._mode_screen("events")
        if isinstance(events, EventsScreen):
            events.set_filter(f)
        self.notify(f"incident {row.id}: {printable(f.describe())}", title="incident", markup=False)

    def _mode_screen(self, mode: str) -> Screen[Any] | None:
        stack = self._screen_stacks.get(mode)
        return stack[0] if stack else None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Live", "The board as of now", lambda: self.switch_mode("live"))
        yield SystemCommand(
            "History", "Travel in time over the journal", lambda: self.switch_mode("history")
        )
        yield SystemCommand(
            "Events", "Filter, read and export events", lambda: self.switch_mode("events")
        )
        yield SystemCommand(
            "Incidents", "Incidents and MTTR", lambda: self.switch_mode("incidents")
        )
        yield SystemCommand("Key bindings", "Every key of every screen", self.action_help)
        yield SystemCommand(
            "Pause or resume following", "Stop or start live follow", self.action_toggle_follow
        )
        if isinstance(screen, EventsScreen):
            yield SystemCommand(
                "Export events", "The current filter to a file", screen.action_export
            )
        if isinstance(screen, HistoryScreen):
            yield SystemCommand("Play or pause history", "Replay in time", screen.action_play)
