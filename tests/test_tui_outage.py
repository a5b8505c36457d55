"""The monitor through a database outage (PostgreSQL behind a proxy that is cut and restored).

Live keeps its last board and says the database is unreachable (one notification when it
goes, one when it comes back, however many polls fail between); every screen says what
failed in its status line instead of waiting forever; the first replay is retried until the
database answers. Then everything works again without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from journal.events import error_event
from journal.store.event_store import EventStore
from journal.tui.app import MonitorApp
from tests.tcp_proxy import TcpProxy
from tests.test_tui_support import END, T0, S, seed, settle, text_of

pytestmark = pytest.mark.slow


@pytest.fixture
def proxied(pg_url: str) -> Iterator[tuple[TcpProxy, str, str]]:
    """(proxy, the journal's URL through the proxy, its direct URL), seeded."""
    seed(pg_url)
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    try:
        yield proxy, u.set(port=proxy.port).render_as_string(hide_password=False), pg_url
    finally:
        proxy.close()


def _notes(app: MonitorApp, text: str) -> list[str]:
    return [n.message for n in app._notifications if text in n.message]


async def _until(pilot: Any, check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await pilot.pause(0.1)


async def test_an_outage_is_shown_once_and_everything_recovers(
    proxied: tuple[TcpProxy, str, str],
) -> None:
    proxy, url, direct = proxied
    app = MonitorApp(url, clock=lambda: END, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        status = app.screen.query_one("#live-status")
        assert text_of(status).startswith("Live, following")
        proxy.cut()
        await _until(pilot, lambda: "Database unreachable" in text_of(status))
        polls = app.followed
        await pilot.pause(2.0)  # about ten more polls fail
        assert len(_notes(app, "follow:")) == 1  # one notification, not one per poll
        assert "Database unreachable since" in text_of(status)
        assert "Total errors: 16" in text_of(app.screen.query_one("#stats"))  # the last board
        assert app.followed == polls

        await pilot.press("3")
        events_status = app.screen.query_one("#events-status")
        await _until(pilot, lambda: "Could not read events" in text_of(events_status))
        await pilot.press("4")
        summary = app.screen.query_one("#incidents-summary")
        await _until(pilot, lambda: "Could not load incidents" in text_of(summary))
        await pilot.press("2")
        cursor = app.screen.query_one("#cursor")
        await _until(pilot, lambda: "fold failed" in text_of(cursor))

        proxy.restore()
        with EventStore(direct) as store:
            store.append([error_event("NewError", "n", name="api_c", ts=T0 + 590 * S)])
        await pilot.press("1")
        status = app.screen.query_one("#live-status")
        await _until(pilot, lambda: app.followed >= 1)
        await settle(pilot)
        assert text_of(status).startswith("Live, following")
        assert "Total errors: 17" in text_of(app.screen.query_one("#stats"))
        assert len(_notes(app, "database reachable again")) == 1
        await pilot.press("2")
        await pilot.press("end")
        await settle(pilot)
        assert "fold failed" not in text_of(app.screen.query_one("#cursor"))
        await pilot.press("3")
        await pilot.press("r")
        await settle(pilot)
        assert text_of(app.screen.query_one("#events-status")).startswith("26 events")
        await pilot.press("4")
        await pilot.press("r")
        await settle(pilot)
        assert "incident(s)" in text_of(app.screen.query_one("#incidents-summary"))


async def test_the_first_replay_is_retried_until_the_database_answers(
    proxied: tuple[TcpProxy, str, str],
) -> None:
    proxy, url, _ = proxied
    proxy.cut()
    app = MonitorApp(url, clock=lambda: END, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen.query_one("#live-status")
        await _until(pilot, lambda: "Database unreachable" in text_of(status))
        await pilot.pause(2.5)  # at least one retry fails too
        assert app.live_board is None
        assert len(_notes(app, "replay:")) == 1
        proxy.restore()
        await _until(pilot, lambda: app.live_board is not None)
        await settle(pilot)
        assert text_of(status).startswith("Live, following")
        assert "Total errors: 16" in text_of(app.screen.query_one("#stats"))
