"""Journal text never drives the terminal it is shown on.

Error types, messages, names, sources and contexts come from the outside world (an exchange's
error page, a hostile peer): the journal keeps them as recorded, control characters included.
`journal status`, `journal incidents` (list and show) and the monitor show every control
character as its visible escape. Checked on the raw bytes each command writes to a real
pseudo-terminal: no title change, clipboard write, screen clear, 8-bit CSI, carriage return
or bidi override of the journal's reaches it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journal.events import (
    alert_event,
    breaker_event,
    calls_event,
    error_event,
    journal_event,
    now_us,
)
from journal.sanitizing.safetext import printable
from journal.store.event_store import EventStore
from journal.store.migrate import upgrade
from tests.journal_cli import run_journal
from tests.terminal import run_on_terminal

# each hostile piece: what a terminal would do with it raw
TITLE = "\x1b]0;PWNED-TITLE\x07"  # set the window title
CLIPBOARD = "\x1b]52;c;UFdORUQ=\x07"  # write the clipboard
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
CSI8 = "\x9b5m"  # 8-bit CSI (blink)
BIDI = "\u202eDESREVER"  # right-to-left override
CR = "\rOVERWRITTEN"  # overwrite the start of the line
HOSTILE = TITLE + CLIPBOARD + CLEAR + CSI8 + BIDI + CR
RAW_MARKERS = [
    TITLE.encode(),
    b"\x1b]52;c;UFdORUQ",
    CSI8.encode(),
    "\u202e".encode(),
    b"\rOVERWRITTEN",
    b"\x1b[2J\x1b[H" + CSI8.encode(),
]


def hostile_events(now: int) -> list:  # type: ignore[type-arg]
    """Hostile text in every field the commands and the monitor show."""
    s = 1_000_000
    name = "api" + HOSTILE
    etype = "Type" + HOSTILE
    out = []
    for i in range(12):  # a burst: an incident named by the error type
        out.append(
            error_event(
                etype,
                "msg " + HOSTILE,
                name=name,
                ts=now - 300 * s + i * s,
                source="src" + HOSTILE,
                context={"k" + HOSTILE: "v" + HOSTILE},
            )
        )
    out.append(calls_event(name, successes=1, failures=9, rejected=0, ts=now - 280 * s))
    out.append(breaker_event(name, "CLOSED", "OPEN", ts=now - 279 * s))
    out.append(
        alert_event("rule" + HOSTILE, name, "alert " + HOSTILE, ts=now - 278 * s, source="a")
    )
    out.append(
        journal_event(
            "store_unavailable", "down " + HOSTILE, ts=now - 270 * s, source="w" + HOSTILE
        )
    )
    return out


@pytest.fixture
def hostile_url(db_url: str) -> str:
    upgrade(db_url)
    with EventStore(db_url) as store:
        store.append(hostile_events(now_us()))
        stored = list(store.read())
    # the journal keeps what was recorded (the redaction of secrets aside)
    assert any(e.error_type is not None and TITLE in e.error_type for e in stored)
    return db_url


def _assert_safe(out: bytes, *, shown: bytes) -> None:
    for marker in RAW_MARKERS:
        assert marker not in out, (marker, out[-2000:])
    assert shown in out, out[-2000:]  # the text itself is shown, escaped


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable(HOSTILE) == (
        "\\x1b]0;PWNED-TITLE\\x07\\x1b]52;c;UFdORUQ=\\x07\\x1b[2J\\x1b[H"
        "\\x9b5m\\u202eDESREVER\\x0dOVERWRITTEN"
    )
    ok = "plain, non-ASCII é ü 東京 and emoji 👍🏽 👨\u200d👩\u200d👧"
    assert printable(ok) == ok
    assert printable("a\nb\tc", newlines=True) == "a\nb\\x09c"
    assert printable("a\nb") == "a\\x0ab"
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)]:
        assert printable(chr(code)).startswith("\\"), hex(code)
    for code in range(0x2066, 0x206A):
        assert printable(chr(code)).startswith("\\"), hex(code)


def test_status_shows_journal_text_escaped(hostile_url: str, tmp_path: Path) -> None:
    out = run_on_terminal(["status", "--once", "--db", hostile_url], cwd=tmp_path)
    _assert_safe(out, shown=b"\\x1b")
    assert b"OVERALL STATISTICS" in out


def test_incidents_list_and_show_escape_journal_text(hostile_url: str, tmp_path: Path) -> None:
    out = run_on_terminal(["incidents", "--db", hostile_url], cwd=tmp_path)
    _assert_safe(out, shown=b"\\x1b")
    listed = run_journal("incidents", "--json", "--db", hostile_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = [row["id"] for row in json.loads(listed.stdout)["incidents"]]
    assert ids
    for incident in ids:
        out = run_on_terminal(["incidents", "show", incident, "--db", hostile_url], cwd=tmp_path)
        _assert_safe(out, shown=b"\\x1b")


@pytest.mark.slow
def test_the_monitor_escapes_journal_text_on_every_screen(hostile_url: str, tmp_path: Path) -> None:
    # Live, then Events (the newest event's detail), Incidents and Enter on the first one
    # (its events, with the incident's name in the filter form), History, then quit
    keys = [(3.0, b"3"), (5.0, b"4"), (7.0, b"\r"), (9.0, b"2"), (11.0, b"1"), (12.5, b"q")]
    out = run_on_terminal(["monitor", "--db", hostile_url], cwd=tmp_path, keys=keys, timeout=90)
    _assert_safe(out, shown=b"\\x1b")
    assert b"HEALTH" in out and b"Cursor:" in out
