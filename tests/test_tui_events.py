"""The Events screen: lazy newest-first list, filters, the detail pane, paging through a
journal far larger than the widget holds, and export through ``journal export``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from journal.events import error_event
from journal.tui.app import MonitorApp
from journal.tui.widgets.event_list import MAX_PAGES, PAGE_SIZE, EventList
from tests.test_tui_support import END, T0, S, seed, settle, text_of


@pytest.fixture
def journal_url(db_url: str) -> str:
    seed(db_url)
    return db_url


async def _open_events(app: MonitorApp, pilot: object) -> None:
    await settle(pilot)
    await pilot.press("3")  # type: ignore[attr-defined]
    await settle(pilot)


async def _set_form(app: MonitorApp, pilot: object, **fields: str) -> None:
    for fid, value in fields.items():
        app.screen.query_one(f"#{fid.replace('_', '-')}", Input).value = value
    await pilot.press("r")  # type: ignore[attr-defined]
    await settle(pilot)


async def test_lists_every_event_newest_first_with_detail(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_events(app, pilot)
        status = text_of(app.screen.query_one("#events-status"))
        assert status.startswith("25 events (newest first")
        lst = app.screen.query_one(EventList)
        assert lst.total == 25
        first = lst.event_at(0)
        assert first is not None and first.name == "store_recovered"
        assert "name: store_recovered" in text_of(app.screen.query_one("#detail"))
        await pilot.press("down")
        await settle(pilot)
        assert lst.cursor == 1
        assert "name: store_unavailable" in text_of(app.screen.query_one("#detail"))


async def test_filters_by_kind_and_text_and_shows_the_context(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_events(app, pilot)
        await _set_form(app, pilot, f_kind="error", f_text="BAD VALUE")
        lst = app.screen.query_one(EventList)
        assert lst.total == 3
        assert [lst.event_at(i).message for i in range(3)] == [  # type: ignore[union-attr]
            "bad value 2",
            "bad value 1",
            "bad value 0",
        ]
        detail = text_of(app.screen.query_one("#detail"))
        assert '"symbol": "SOL/USDT"' in detail and '"k": 2' in detail
        await _set_form(app, pilot, f_kind="", f_text="", f_severity="critical")
        assert lst.total == 1
        await _set_form(
            app,
            pilot,
            f_severity="",
            f_name="api_a",
            f_since="2026-11-28T10:01:00",
            f_until="2026-11-28T10:02:20",
        )
        # api_a from T0+60s to before T0+140s: errors at 60 and 65, the tally at 60, the
        # breaker at 70, the tally at 120, the breaker at 130
        assert lst.total == 6


async def test_a_bad_filter_is_refused_with_a_message(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_events(app, pilot)
        await _set_form(app, pilot, f_kind="oops")
        assert app.screen.query_one(EventList).total == 25
        assert any("unknown kind oops" in n.message for n in app._notifications)
        await _set_form(
            app, pilot, f_kind="", f_since="2026-11-28T10:05", f_until="2026-11-28T10:01"
        )
        assert app.screen.query_one(EventList).total == 25  # the filter in force is kept
        assert any("since (2026-11-28T10:05" in n.message for n in app._notifications)


async def test_pages_lazily_through_a_large_journal(db_url: str) -> None:
    n = 5_000
    seed(db_url, [error_event("E", f"m{i}", name="x", ts=T0 + i * S) for i in range(n)])
    app = MonitorApp(db_url, clock=lambda: T0 + n * S, follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_events(app, pilot)
        lst = app.screen.query_one(EventList)
        assert lst.total == n
        for _ in range(12):
            await pilot.press("pagedown")
        await settle(pilot)
        row = lst.cursor
        assert row > 0
        assert lst.event_at(row).message == f"m{n - 1 - row}"  # type: ignore[union-attr]
        await pilot.press("end")
        await settle(pilot)
        assert lst.cursor == n - 1
        assert lst.event_at(n - 1).message == "m0"  # type: ignore[union-attr]
        assert len(lst.pages) <= MAX_PAGES
        assert sum(len(p) for p in lst.pages.values()) <= MAX_PAGES * PAGE_SIZE


async def test_exports_the_current_filter_like_journal_export(
    journal_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "errors.json"
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_events(app, pilot)
        await _set_form(app, pilot, f_kind="error", f_error_type="ValueError,DiskFull")
        app.screen.query_one("#f-export", Input).value = str(out)
        await pilot.press("x")
        await settle(pilot)
        data = json.loads(out.read_text())
        assert data["header"]["count"] == 4
        assert data["header"]["filters"]["kind"] == ["error"]
        assert sorted(e["error_type"] for e in data["events"]) == [
            "DiskFull",
            "ValueError",
            "ValueError",
            "ValueError",
        ]
        # the text filter too, as journal export --text applies it (what the list shows)
        other = tmp_path / "text.json"
        app.screen.query_one("#f-export", Input).value = str(other)
        await _set_form(app, pilot, f_error_type="", f_text="BAD VALUE")
        assert app.screen.query_one(EventList).total == 3
        await pilot.press("x")
        await settle(pilot)
        data = json.loads(other.read_text())
        assert data["header"]["filters"]["text"] == "BAD VALUE"
        assert [e["message"] for e in data["events"]] == [
            "bad value 0",
            "bad value 1",
            "bad value 2",
        ]


async def test_the_list_says_when_newer_events_arrive_and_r_takes_them_in(
    journal_url: str,
) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_events(app, pilot)
        status = app.screen.query_one("#events-status")
        assert text_of(status).startswith("25 events") and "newer" not in text_of(status)
        from journal.store.event_store import EventStore

        with EventStore(journal_url) as store:
            store.append([error_event("NewError", "n", name="api_c", ts=T0 + 590 * S)])
        for _ in range(50):
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if app.followed >= 1:
                break
        await settle(pilot)
        assert "25 events" in text_of(status)  # the list stays as it was applied
        assert "newer events since: r shows them, through id 26" in text_of(status)
        await pilot.press("r")
        await settle(pilot)
        assert text_of(status).startswith("26 events") and "newer" not in text_of(status)
        assert app.screen.query_one(EventList).event_at(0).error_type == "NewError"  # type: ignore[union-attr]
