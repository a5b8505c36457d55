"""``journal status``: the seed's dashboard, as of now (the wall clock) or any past moment.

As of now, the rates decay with the wall clock: a burst three days old reads as three days
old (the newest event's age is shown). Once (``--once``, the default when stdout is not a
terminal) it replays and prints; live (``--interval N``, the default on a terminal) it keeps
the folded state in memory and folds only the events appended since the last tick.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from journal.errors import ConfigError
from journal.settings import command_db_url
from journal.timeparse import parse_time

if TYPE_CHECKING:
    from journal.dashboard import WriterFold
    from journal.projections.state import JournalState
    from journal.store.event_store import EventStore

TIME_HELP = "ISO 8601 (no zone = UTC) or relative to now: 30s, 15m, 2h, 7d, now"
FOLLOW_BATCH = 10_000

EPILOG = """\
examples:
  journal status                      on a terminal: live, refreshed every 5 s (Ctrl-C quits)
  journal status --once               print once and exit (the default when piped)
  journal status --interval 10        live, refreshed every 10 s (piped: one dashboard per tick)
  journal status --at 2026-11-28T18:45:00   as of that moment (no zone = UTC)
  journal status --at 2h --recent 10 --top 5
  journal status --json | jq .health.level
  journal status --export errors_report.json

"as of" is the wall clock unless --at is given; the newest event's age is shown.
Rates are errors/minute over the trailing 1, 5 and 15 minutes.

--json prints one object (one per line with --interval), schema_version 1:
  schema_version, as_of (ISO 8601 UTC), as_of_wall_clock (bool),
  newest_event {id, timestamp, age_s}, events_folded,
  errors {total, diversity, diversity_exact, per_minute {1m, 5m, 15m}, by_severity},
  error_types [{error_type, count, per_minute {1m, 5m, 15m}, last_seen}] (--top of them),
  error_types_more, recent_errors [{timestamp, error_type, name, severity, message,
  context, source, event_id}] (--recent of them), breakers [{name, state, since,
  in_state_s, calls, successes, failures, rejected, success_rate, opens}],
  incidents {ongoing, resolved, mttr_s}, alerts {total, by_rule},
  health {level, label, reasons}, writer {store_available, outages, outages_open
  [{source, since}], last_outage_start, last_outage_s, spool_drains, drained_events,
  rejected_events, dropped_events, alert_sink_errors}.
--export FILE writes the seed's error report (JSON: summary + the last 1000 errors),
atomically, and prints one line.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "status",
        parents=[common],
        help="the dashboard: counts, rates, breakers, health, as of now or any moment",
        description="The monitoring dashboard, replayed from the journal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--at", metavar="TIME", help=f"as of TIME instead of now: {TIME_HELP}")
    p.add_argument("--since", metavar="TIME", help=f"fold only events from TIME on: {TIME_HELP}")
    p.add_argument(
        "--recent", type=int, default=5, metavar="N", help="recent errors to list (default 5)"
    )
    p.add_argument(
        "--top", type=int, default=20, metavar="N", help="error types to list (default 20)"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="print once and exit")
    mode.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="refresh every SECONDS (default on a terminal: live every 5)",
    )
    mode.add_argument(
        "--export", metavar="FILE", help="write the seed's JSON error report to FILE and exit"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (see below)")
    p.add_argument("--iterations", type=int, default=None, help=argparse.SUPPRESS)  # tests
    p.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    """Print the dashboard once, live, as JSON, or export the error report."""
    from journal.events import now_us, to_us
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    now = now_us()
    at = to_us(parse_time(args.at, option="--at")) if args.at is not None else None
    since = to_us(parse_time(args.since, option="--since")) if args.since is not None else None
    if since is not None and since > (now if at is None else at):
        raise ConfigError(
            f"--since is after {'--at' if at is not None else 'now'}: nothing to fold"
        )
    if args.recent < 0:
        raise ConfigError("--recent must be >= 0")
    if args.top < 0:
        raise ConfigError("--top must be >= 0")
    if args.interval is not None and not 0 < args.interval <= 86_400:
        raise ConfigError("--interval must be more than 0 and at most 86400 seconds")
    if args.iterations is not None and args.iterations < 1:
        raise ConfigError("--iterations must be >= 1")
    live = args.interval is not None or (
        sys.stdout.isatty() and not args.once and not args.json and args.export is None
    )
    if live and at is not None:
        raise ConfigError("--at shows a past moment: use it with --once (or without --interval)")
    check_migrated(url)
    with EventStore(url) as store:
        state, writer = _initial(store, since, at)
        if args.export is not None:
            return _export(args.export, state, writer, now if at is None else at)
        if not live:
            _show(args, state, writer, now if at is None else at, wall=at is None, live=False)
            return 0
        return _live(args, store, state, writer)


def _initial(
    store: EventStore, since: int | None, at: int | None
) -> tuple[JournalState, WriterFold]:
    """Replay up to ``at`` (everything by default), and fold the writers' ``journal`` events."""
    from journal.dashboard import WriterFold
    from journal.history.replay import replay
    from journal.history.snapshots import CLI_POLICY

    # Start from the nearest snapshot and leave checkpoints behind for the next run.
    state = replay(store, until=None if at is None else at + 1, since=since, snapshots=CLI_POLICY)
    writer = WriterFold()
    before = None if state.last_id is None else state.last_id + 1
    for e in store.read(
        kinds=["journal"], since=since, until=None if at is None else at + 1, before_id=before
    ):
        writer.apply(e)
    return state, writer


def _export(path: str, state: JournalState, writer: WriterFold, at: int) -> int:
    from journal.dashboard import error_report
    from journal.events import iso
    from journal.history.exporting import atomic_output

    snap = state.snapshot(at)
    report = error_report(snap, writer.result())
    with atomic_output(path) as f:
        json.dump(report, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(
        f"exported {snap.errors.total} error(s), the last {len(report['errors'])} in detail,"
        f" as of {iso(at)} to {path}"
    )
    return 0


def _console() -> Any:
    import os

    from rich.console import Console

    # Rich writes no ANSI codes when stdout is not a terminal; highlight=False keeps the
    # numbers as they are (no auto-colouring of digits and dates); piped, 120 columns
    piped = not sys.stdout.isatty()
    width = 120 if piped and not os.environ.get("COLUMNS") else None
    return Console(highlight=False, width=width)


def _show(
    args: argparse.Namespace,
    state: JournalState,
    writer: WriterFold,
    at: int,
    *,
    wall: bool,
    live: bool,
    console: Any = None,
) -> Any:
    """Print (or, with ``console`` None and live, return) the view as of ``at``."""
    from journal.dashboard import render, status_dict

    snap = state.snapshot(at)
    if args.json:
        data = status_dict(
            snap,
            writer=writer.result(),
            newest_ts=state.newest_ts,
            newest_id=state.last_id,
            as_of_wall_clock=wall,
            recent=args.recent,
            types=args.top,
        )
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None if live else 2) + "\n")
        sys.stdout.flush()
        return None
    view = render(
        snap,
        recent=args.recent,
        types=args.top,
        writer=writer.result(),
        newest_ts=state.newest_ts if state.newest_ts is not None else None,
    )
    if console is None:
        (_console()).print(view)
        sys.stdout.flush()
        return None
    return view


def follow(store: EventStore, state: JournalState, writer: WriterFold, after_id: int) -> int:
    """Fold the events appended after ``after_id``; returns the new last id."""
    while True:
        batch = store.follow(after_id, limit=FOLLOW_BATCH)
        for e in batch:
            state.apply(e)
            writer.apply(e)
        if batch:
            after_id = max(after_id, batch[-1].id or after_id)
        if len(batch) < FOLLOW_BATCH:
            return after_id


def _live(
    args: argparse.Namespace, store: EventStore, state: JournalState, writer: WriterFold
) -> int:
    from journal.events import now_us

    interval = 5.0 if args.interval is None else float(args.interval)
    last_id = state.last_id or 0
    ticks = 0
    in_place = sys.stdout.isatty() and not args.json
    try:
        if not in_place:  # piped: one dashboard (or JSON line) per tick
            while True:
                last_id = follow(store, state, writer, last_id)
                _show(args, state, writer, now_us(), wall=True, live=True)
                ticks += 1
                if args.iterations is not None and ticks >= args.iterations:
                    return 0
                time.sleep(interval)
        from rich.live import Live

        console = _console()
        with Live(console=console, auto_refresh=False, transient=False) as screen:
            while True:
                last_id = follow(store, state, writer, last_id)
                screen.update(
                    _show(args, state, writer, now_us(), wall=True, live=True, console=console),
                    refresh=True,
                )
                ticks += 1
                if args.iterations is not None and ticks >= args.iterations:
                    return 0
                time.sleep(interval)
    except KeyboardInterrupt:
        return 0
