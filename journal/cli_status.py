"""``journal status``: the dashboard, live or as of any past moment, replayed from the store."""

from __future__ import annotations

import argparse
from typing import Any

from journal.cli_migrate import command_db_url
from journal.config import parse_time


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser("status", parents=[common], help="replay the journal and show the dashboard")
    p.add_argument(
        "--at", metavar="TIME", help="as of TIME: ISO 8601 or relative (15m, 2h, 7d, now)"
    )
    p.add_argument("--since", metavar="TIME", help="fold only events from TIME on")
    p.add_argument(
        "--recent", type=int, default=5, metavar="N", help="recent errors to show (default 5)"
    )
    p.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    """Replay up to ``--at`` (default: everything) and print the dashboard."""
    from rich.console import Console

    from journal.dashboard import render
    from journal.errors import ConfigError
    from journal.events import to_us
    from journal.migrate import check_migrated
    from journal.replay import replay
    from journal.store import EventStore

    url = command_db_url(args.db)
    at = to_us(parse_time(args.at, option="--at")) if args.at is not None else None
    since = to_us(parse_time(args.since, option="--since")) if args.since is not None else None
    if at is not None and since is not None and since > at:
        raise ConfigError("--since is after --at: nothing to fold")
    if args.recent < 0:
        raise ConfigError("--recent must be >= 0")
    check_migrated(url)
    with EventStore(url) as store:
        state = replay(store, until=None if at is None else at + 1, since=since)
    snap = state.snapshot(at)
    Console().print(render(snap, recent=args.recent))
    return 0
