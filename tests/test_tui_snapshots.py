"""Snapshot tests of every screen at 80x24 and 160x48: a fixed journal (fixed event ids),
a frozen clock, UTC, follow off. Update with ``pytest --snapshot-update`` and look at the diff."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from journal.tui.app import MonitorApp
from tests.test_tui_support import END, fixed_events, seed, settle

SIZES = [(80, 24), (160, 48)]
KEYS = {
    "live": (),
    "history": ("2", "home", "b"),  # the cursor on api_a's opening
    "events": ("3", "down"),
    "incidents": ("4", "down"),
    "help": ("question_mark",),
}


@pytest.fixture
def snap_url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TZ", "UTC")
    events = [e._replace(event_id=str(uuid.UUID(int=i + 1))) for i, e in enumerate(fixed_events())]
    seed(sqlite_url, events)
    return sqlite_url


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(KEYS))
def test_screen_snapshot(snap_compare: Any, snap_url: str, screen: str, size: Any) -> None:
    app = MonitorApp(snap_url, clock=lambda: END, follow=False)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.sub_title = "test journal"  # not the temporary path
        for key in KEYS[screen]:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)

    assert os.environ["TZ"] == "UTC"
    assert snap_compare(app, run_before=run_before, terminal_size=size)
