"""``journal monitor``: the Textual monitor. Bad ``--db``: one line, exit 2, before any UI."""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """\
keys: 1 Live, 2 History, 3 Events, 4 Incidents, ? every key, q quits, Ctrl+P commands.
The board follows new events from every process writing to the journal.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "monitor",
        parents=[common],
        help="the live monitor (Textual): board, history, events, incidents",
        description="Watch the journal live, travel in its history, read and export events.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=cmd_monitor)


def check_journal(raw_url: str | None) -> str:
    """The validated URL of a migrated journal; `JournalError` (one line) otherwise."""
    from journal.settings import command_db_url
    from journal.store.migrate import check_migrated

    url = command_db_url(raw_url)
    check_migrated(url)
    return url


def run_monitor(url: str | None) -> int:
    """Check the journal at ``url`` (raising `JournalError` before any UI), then run the monitor."""
    checked = check_journal(url)
    from .app import MonitorApp

    result = MonitorApp(checked).run()
    return 0 if result is None else int(result)


def cmd_monitor(args: argparse.Namespace) -> int:
    """Run ``journal monitor``."""
    return run_monitor(args.db)
