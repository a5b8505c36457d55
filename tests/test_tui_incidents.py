"""Incidents: the list with MTTR, and Enter opening an incident's events with the history
cursor at its start."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from journal.events import iso
from journal.tui.app import MonitorApp
from journal.tui.screens.history import HistoryScreen
from journal.tui.widgets.event_list import EventList
from tests.test_tui_support import END, T0, S, seed, settle, table_rows, text_of


@pytest.fixture
def journal_url(db_url: str) -> str:
    seed(db_url)
    return db_url


async def test_lists_incidents_with_mttr_and_opens_one(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        rows = table_rows(app.screen.query_one("#incidents", DataTable))
        # the burst of TimeoutError (the 11th error within 5 minutes, at T0+60s), the
        # breaker api_a (open T0+70s to T0+140s: 1m 10s) and the outage of w1 (30 s)
        assert [(r[1], r[6]) for r in rows] == [
            ("burst", "TimeoutError"),
            ("breaker", "api_a"),
            ("outage", "w1"),
        ]
        assert rows[1][2] == "2026-11-28 10:01:10" and rows[1][3] == "1m 10s"
        assert rows[2][3] == "30.0s"
        assert rows[0][4:6] == ["2", "2"]  # the burst counts from its start (the 11th error)
        summary = text_of(app.screen.query_one("#incidents-summary"))
        report = app.screen.report  # type: ignore[attr-defined]
        assert summary.startswith("3 incident(s): 0 ongoing, 3 resolved; MTTR")
        assert report.mttr_s is not None
        await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "events"
        lst = app.screen.query_one(EventList)
        # api_a's events from T0+70s to T0+140s: the breaker at 70, 130, 140 and the tally at 120
        assert lst.total == 4
        assert "name=api_a" in text_of(app.screen.query_one("#events-status"))
        await pilot.press("2")
        await settle(pilot)
        h = app.screen
        assert isinstance(h, HistoryScreen)
        assert h.at == T0 + 70 * S
        assert iso(T0 + 70 * S) in text_of(h.query_one("#cursor"))


async def test_opening_an_incident_moves_an_open_history_cursor(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ("2", "4"):
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("enter")  # the first incident: the burst
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        report = app.incidents_report
        assert app.screen.at == report.rows[0].start  # type: ignore[attr-defined]


async def test_an_incident_begun_before_a_prune_shows_lower_bounds(db_url: str) -> None:
    # as `journal incidents` shows it: a burst from T0+50s whose tally a late error made
    # inexact, the journal then pruned at T0+90s: only the errors left can be counted
    from journal.events import error_event
    from journal.history.pruning import prune
    from journal.store.event_store import EventStore

    seed(db_url, [error_event("x", f"#{i}", name="api", ts=T0 + 5 * i * S) for i in range(12)])
    with EventStore(db_url) as store:
        store.append([error_event("x", "after", name="api", ts=T0 + t * S) for t in (100, 110)])
        store.append([error_event("x", "late", name="api", ts=T0 + 45 * S)])
        prune(store, T0 + 90 * S)
    app = MonitorApp(db_url, clock=lambda: T0 + 3600 * S, follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        rows = table_rows(app.screen.query_one("#incidents", DataTable))
        assert [(r[1], r[4], r[5], r[6]) for r in rows] == [("burst", ">=2", ">=2", "x")]
