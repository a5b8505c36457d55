"""The monitor's shell and Live screen: the board's numbers, live follow, empty journal,
help, quitting, and ``journal monitor --db`` errors before any UI (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import DataTable

from journal.tui.app import MonitorApp
from journal.tui.screens.help import HelpScreen, key_label
from journal.tui.screens.live import LiveScreen
from journal.tui.widgets.board import BoardView
from tests.journal_cli import assert_one_line_error, run_journal
from tests.test_tui_support import END, T0, S, seed, settle, table_rows, text_of


@pytest.fixture
def journal_url(db_url: str) -> str:
    seed(db_url)
    return db_url


def _app(url: str, **kw: object) -> MonitorApp:
    return MonitorApp(url, clock=lambda: END, **kw)  # type: ignore[arg-type]


async def test_live_board_shows_counts_rates_breakers_and_health(journal_url: str) -> None:
    app = _app(journal_url, follow=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LiveScreen)
        stats = text_of(app.screen.query_one("#stats"))
        assert "Total errors: 16" in stats
        assert "Types: 3" in stats
        # at T0+600s: nothing in the last 1 or 5 minutes (DiskFull at T0+300s is on the edge,
        # excluded); 16 errors in the last 15 minutes = 1.07/min
        assert "0.00 (1m)  0.00 (5m)  1.07 (15m)" in stats
        types = table_rows(app.screen.query_one("#types", DataTable))
        assert [r[:2] for r in types] == [
            ["TimeoutError", "12"],
            ["ValueError", "3"],
            ["DiskFull", "1"],
        ]
        breakers = table_rows(app.screen.query_one("#breakers", DataTable))
        # api_a: 200 calls, 190 ok, 10 failed, 5 rejected, CLOSED since T0+140s (7m 40s)
        assert breakers == [
            ["api_a", "CLOSED", "7m 40s", "200", "95.00%", "10", "5"],
            ["api_b", "CLOSED", "-", "50", "100.00%", "0", "0"],
        ]
        health = text_of(app.screen.query_one("#health"))
        assert app.live_board is not None
        assert app.live_board.snap.health.label in health
        assert "WRITER: store available; outages: 1, last lasted 30.0s" in health
        recent = table_rows(app.screen.query_one("#recent", DataTable))
        assert recent[0][1:3] == ["CRITICAL", "DiskFull"]
        # minute m before END holds the errors with 60m <= END - ts < 60m + 60 (oldest first):
        # TimeoutError at 540..590 s before END (11) and 535 s (1), ValueError 380..400 s, DiskFull 300 s
        assert app.live_board.per_minute == (0, 0, 0, 0, 0, 11, 1, 0, 3, 1, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)])
async def test_the_board_fits_health_and_breakers_first(
    journal_url: str, size: tuple[int, int]
) -> None:
    # What needs attention first is on screen without scrolling, even at 80x24; no table of
    # the board is cut short (every row shown, no scrollbar of its own) at any width, and the
    # breakers' columns all fit from 80 columns up
    app = _app(journal_url, follow=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        board = app.screen.query_one(BoardView)
        visible = board.content_region.bottom
        for wid in ("#stats", "#health", "#breakers"):
            assert app.screen.query_one(wid).region.bottom <= visible, wid
        for wid in ("#breakers", "#types", "#recent"):
            table = app.screen.query_one(wid, DataTable)
            assert table.max_scroll_y == 0 and table.region.height == table.row_count + 1, wid
        breakers = app.screen.query_one("#breakers", DataTable)
        assert breakers.virtual_size.width <= breakers.region.width


async def test_live_follows_events_appended_by_another_process(journal_url: str) -> None:
    app = _app(journal_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Total errors: 16" in text_of(app.screen.query_one("#stats"))
        code = textwrap.dedent(
            f"""
            from journal.events import error_event
            from journal.store.event_store import EventStore
            with EventStore({journal_url!r}) as store:
                store.append([error_event("NewError", "n", name="api_c", ts={T0 + 590 * S} + i)
                              for i in range(4)])
            """
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        for _ in range(50):
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if app.followed >= 4:
                break
        stats = text_of(app.screen.query_one("#stats"))
        assert "Total errors: 20" in stats
        assert "4.00 (1m)" in stats  # the four new errors are within the last minute
        assert ["NewError", "4"] in [
            r[:2] for r in table_rows(app.screen.query_one("#types", DataTable))
        ]
        assert "4 new event(s) followed" in text_of(app.screen.query_one("#live-status"))


async def test_followed_events_older_than_the_span_widen_it(journal_url: str) -> None:
    # an import or a late spool can add events older than any seen: History's span takes them
    app = _app(journal_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.span is not None and app.span[0] == T0 + 10 * S
        from journal.events import error_event
        from journal.store.event_store import EventStore

        with EventStore(journal_url) as store:
            store.append([error_event("OldError", "late", name="api_c", ts=T0 - 3600 * S)])
        for _ in range(50):
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if app.span[0] == T0 - 3600 * S:
                break
        assert app.span == (T0 - 3600 * S, T0 + 480 * S)


async def test_a_follow_landing_while_the_app_quits_is_ignored(journal_url: str) -> None:
    # a poll's board can arrive while the app takes its screens down: no error on the way out
    app = _app(journal_url, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        board = app.live_board
        assert board is not None
        await app.screen.query_one("#live-status").remove()
        app._show_live(board)
        app._replay_failed()


async def test_pause_stops_following(journal_url: str) -> None:
    app = _app(journal_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert not app.following
        assert "paused" in text_of(app.screen.query_one("#live-status"))
        from journal.events import error_event
        from journal.store.event_store import EventStore

        with EventStore(journal_url) as store:
            store.append([error_event("NewError", "n", name="api_c", ts=T0 + 590 * S)])
        await pilot.pause(0.6)
        await settle(pilot)
        assert "Total errors: 16" in text_of(app.screen.query_one("#stats"))
        await pilot.press("p")
        for _ in range(50):  # following again: the next polls fold the new event
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if app.followed >= 1:
                break
        await settle(pilot)
        assert "Total errors: 17" in text_of(app.screen.query_one("#stats"))


async def test_empty_journal_shows_a_clear_message(db_url: str) -> None:
    from journal.store.migrate import upgrade

    upgrade(db_url)
    app = _app(db_url, follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        empty = app.screen.query_one("#empty")
        assert empty.display
        assert "The journal is empty" in text_of(empty)
        assert not app.screen.query_one("#sections").display
        for key in ("2", "3", "4"):
            await pilot.press(key)
            await settle(pilot)
        assert "No incidents" in text_of(app.screen.query_one("#incidents-summary"))
        await pilot.press("2")
        await settle(pilot)
        assert "empty" in text_of(app.screen.query_one("#cursor"))
        await pilot.press("3")
        await settle(pilot)
        assert "empty" in text_of(app.screen.query_one("#detail"))


async def test_help_lists_every_binding_and_closes(journal_url: str) -> None:
    app = _app(journal_url, follow=False)
    async with app.run_test(size=(120, 48)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {(section, key) for section, key, _ in app.screen.rows}
        for section, bindings in MonitorApp.binding_sections():
            for b in bindings:
                assert (section, key_label(b.key)) in listed
        assert ("history", "b") in listed and ("everywhere", "?") in listed
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_modes_switch_with_number_keys_and_q_quits(journal_url: str) -> None:
    app = _app(journal_url, follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, mode in (("2", "history"), ("3", "events"), ("4", "incidents"), ("1", "live")):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_command_palette_offers_the_main_actions(journal_url: str) -> None:
    app = _app(journal_url, follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Live", "History", "Events", "Incidents", "Key bindings"} <= titles


def test_bad_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_journal("monitor", "--db", "mysql://x@y/z", cwd=tmp_path)
    assert_one_line_error(done, "unsupported database")
    assert "\x1b[" not in done.stdout  # no UI was started


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_journal("monitor", "--db", f"sqlite:///{tmp_path}/nope.db", cwd=tmp_path)
    assert_one_line_error(done, "no journal database at")
    assert not (tmp_path / "nope.db").exists()


def test_unmigrated_database_is_one_line_and_exit_2(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        import sqlite3

        sqlite3.connect(db_url.removeprefix("sqlite:///")).close()
    done = run_journal("monitor", "--db", db_url, cwd=tmp_path)
    assert_one_line_error(done, "journal")
    assert "head is" in done.stderr or "no revision" in done.stderr
