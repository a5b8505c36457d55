"""History: the cursor's keys (event, minute, hour, breaker transitions, incidents, ends,
play) and the board as of the cursor, which equals ``journal status --at`` at that time."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from textual.widgets import DataTable

from journal.events import iso
from journal.tui.app import MonitorApp
from journal.tui.screens.history import HistoryScreen
from journal.tui.widgets.board import BoardView
from tests.journal_cli import run_journal
from tests.test_tui_support import END, T0, S, seed, settle, table_rows, text_of

FIRST = T0 + 10 * S  # the oldest event
LAST = T0 + 480 * S  # the newest event


@pytest.fixture
def journal_url(db_url: str) -> str:
    seed(db_url)
    return db_url


async def _history(app: MonitorApp, pilot: object) -> HistoryScreen:
    await settle(pilot)
    await pilot.press("2")  # type: ignore[attr-defined]
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def _keys(pilot: object, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)  # type: ignore[attr-defined]
        await settle(pilot)


def _total(screen: HistoryScreen) -> str:
    stats = text_of(screen.query_one("#stats"))
    return stats.split("Total errors: ", 1)[1].split()[0]


@pytest.mark.slow
async def test_keys_move_the_cursor_and_the_board_follows(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(160, 48)) as pilot:
        h = await _history(app, pilot)
        assert h.at == LAST and h.folded_at == LAST
        assert iso(LAST) in text_of(h.query_one("#cursor"))
        await _keys(pilot, "home")
        assert h.at == FIRST and _total(h) == "1"
        await _keys(pilot, "right", "right")
        assert h.at == T0 + 20 * S and _total(h) == "3"
        await _keys(pilot, "left")
        assert h.at == T0 + 15 * S and _total(h) == "2"
        await _keys(pilot, "full_stop")  # +1 minute
        assert h.at == T0 + 75 * S and _total(h) == "12"
        await _keys(pilot, "comma")
        assert h.at == T0 + 15 * S
        await _keys(pilot, "b")  # the first breaker transition: api_a opens at T0+70s
        assert h.at == T0 + 70 * S
        breakers = table_rows(h.query_one("#breakers", DataTable))
        assert breakers[0][:2] == ["api_a", "OPEN"]
        await _keys(pilot, "b", "b")
        assert h.at == T0 + 140 * S
        assert table_rows(h.query_one("#breakers", DataTable))[0][:2] == ["api_a", "CLOSED"]
        await _keys(pilot, "B")
        assert h.at == T0 + 130 * S
        assert table_rows(h.query_one("#breakers", DataTable))[0][:2] == ["api_a", "HALF_OPEN"]
        await _keys(pilot, "greater_than_sign")  # +1 h, clamped to the newest event
        assert h.at == LAST
        await _keys(pilot, "less_than_sign")  # -1 h, clamped to the oldest
        assert h.at == FIRST
        await _keys(pilot, "end")
        assert h.at == LAST
        assert iso(LAST) in text_of(h.query_one("#cursor"))


async def test_cursor_keys_move_the_cursor_on_a_board_that_scrolls(journal_url: str) -> None:
    # at 80x24 the board is taller than the screen: the focused board scrolls, and home, end,
    # left and right (which a scrolling container also binds) still move the cursor
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        h = await _history(app, pilot)
        board = h.query_one(BoardView)
        assert board.max_scroll_y > 0 and app.focused is board
        await _keys(pilot, "home")
        assert h.at == FIRST and _total(h) == "1"
        await _keys(pilot, "right")
        assert h.at == T0 + 15 * S
        await _keys(pilot, "left")
        assert h.at == FIRST
        await _keys(pilot, "end")
        assert h.at == LAST
        await _keys(pilot, "pagedown")  # the board's own keys still scroll it
        assert board.scroll_y > 0 and h.at == LAST


async def test_incident_jumps_go_to_incident_starts(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        h = await _history(app, pilot)
        starts = app.incident_starts()
        assert T0 + 70 * S in starts  # the breaker incident
        await _keys(pilot, "home", "n")
        assert h.at == starts[0]
        await _keys(pilot, "n")
        assert h.at == starts[1]
        await _keys(pilot, "N")
        assert h.at == starts[0]


async def test_play_advances_the_cursor_at_the_chosen_speed(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        h = await _history(app, pilot)
        await _keys(pilot, "home", "s", "s")
        assert h.speed == 100
        assert "paused 100x" in text_of(h.query_one("#cursor"))
        await pilot.press("space")
        assert h.playing
        for _ in range(40):
            await pilot.pause(0.1)
            if h.at is not None and h.at > FIRST + 60 * S:
                break
        await pilot.press("space")
        await settle(pilot)
        assert not h.playing
        assert h.at is not None and h.at > FIRST + 60 * S  # 100x: 25 s of journal per tick
        assert h.folded_at == h.at
        assert "paused 100x" in text_of(h.query_one("#cursor"))


def _status_at(url: str, at: int, cwd: Path) -> dict:  # type: ignore[type-arg]
    done = run_journal("status", "--db", url, "--at", iso(at), "--json", "--top", "50", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
async def test_the_board_at_the_cursor_equals_status_at(journal_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261128)
    cursors = sorted(rng.randrange(FIRST, LAST + 1) for _ in range(4))
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(160, 48)) as pilot:
        h = await _history(app, pilot)
        for at in cursors:
            h.go_to(at)
            await settle(pilot)
            assert h.folded_at == at
            want = _status_at(journal_url, at, tmp_path)
            stats = text_of(h.query_one("#stats"))
            assert f"Total errors: {want['errors']['total']:,}" in stats
            assert f"Types: {want['errors']['diversity']:,}" in stats
            assert f"Events: {want['events_folded']:,}" in stats
            rates = want["errors"]["per_minute"]
            assert (
                f"{rates['1m']:.2f} (1m)  {rates['5m']:.2f} (5m)  {rates['15m']:.2f} (15m)" in stats
            )
            types = table_rows(h.query_one("#types", DataTable))
            assert [r[:2] for r in types] == [
                [t["error_type"], f"{t['count']:,}"] for t in want["error_types"]
            ]
            breakers = table_rows(h.query_one("#breakers", DataTable))
            assert [[r[0], r[1], r[3], r[4], r[5], r[6]] for r in breakers] == [
                [
                    b["name"],
                    b["state"],
                    f"{b['calls']:,}",
                    f"{b['success_rate']:.2f}%",
                    f"{b['failures']:,}",
                    f"{b['rejected']:,}",
                ]
                for b in want["breakers"]
            ]
            health = text_of(h.query_one("#health"))
            assert f"HEALTH: {want['health']['label']}" in health
            assert f"outages: {want['writer']['outages']}" in health
            inc = want["incidents"]
            assert f"ongoing {inc['ongoing']}, resolved {inc['resolved']}" in health
