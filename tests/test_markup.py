"""Text from the journal is shown as written, never read as Rich or Textual markup.

Error types, messages, breaker names and incident names come from the code a journal protects
(an exception's text, an exchange's HTML). Read as markup, ``[/]`` made `journal status` fail
with a MarkupError and ``[bold]`` vanished from the listing. Each view here shows a journal
of such names and must print them literally (SQLite and PostgreSQL).
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from textual.widgets import Input

from journal.events import Event, breaker_event, calls_event, error_event
from journal.tui.app import MonitorApp
from tests.journal_cli import run_journal
from tests.test_tui_support import END, T0, S, seed, settle, text_of

TYPE = "Parse[/]Error"  # an unmatched closing tag: a MarkupError when parsed
BREAKER = "api[bold]v2"  # a style tag: silently dropped when parsed
MESSAGE = "token[red]x[/red]in[link=https://example.invalid]y"


def nasty_events() -> list[Event]:
    """12 errors of `TYPE` on `BREAKER` within a minute (a burst), the breaker opened."""
    out = [error_event(TYPE, MESSAGE, name=BREAKER, ts=T0 + (10 + 5 * i) * S) for i in range(12)]
    out.append(calls_event(BREAKER, successes=5, failures=12, rejected=0, ts=T0 + 60 * S))
    out.append(breaker_event(BREAKER, "CLOSED", "OPEN", message="12 failures", ts=T0 + 70 * S))
    return out


@pytest.fixture
def journal_url(db_url: str) -> str:
    seed(db_url, nasty_events())
    return db_url


def test_status_prints_names_and_messages_literally(journal_url: str, tmp_path: Path) -> None:
    done = run_journal(
        "status", "--once", "--db", journal_url, "--at", "2026-11-28T10:02:00Z", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    flat = done.stdout.replace("\n", "").replace(" ", "").replace("│", "")
    assert TYPE in flat
    assert BREAKER in flat
    assert MESSAGE in flat


def test_incidents_print_names_literally(journal_url: str, tmp_path: Path) -> None:
    done = run_journal(
        "incidents", "--db", journal_url, "--until", "2026-11-28T10:10:00Z", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    flat = done.stdout.replace("\n", "").replace(" ", "").replace("│", "")
    assert TYPE in flat and BREAKER in flat


async def test_monitor_shows_names_and_messages_literally(journal_url: str) -> None:
    app = MonitorApp(journal_url, clock=lambda: END, follow=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        live = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        await pilot.press("4")  # incidents
        await settle(pilot)
        incidents = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        await pilot.press("3")  # events, filtered on an error type typed with brackets
        await settle(pilot)
        app.screen.query_one("#f-error-type", Input).value = TYPE
        await pilot.press("r")
        await settle(pilot)
        status = text_of(app.screen.query_one("#events-status"))
    assert TYPE in live and BREAKER in live and MESSAGE in live
    assert TYPE in incidents and BREAKER in incidents
    assert status.startswith("12 events (newest first") and f"error_type={TYPE}" in status
