"""``journal snapshot``: write a projection checkpoint at the end of the journal, list or prune them."""

from __future__ import annotations

import argparse
from typing import Any

from journal.settings import command_db_url
from journal.timeparse import parse_time

EPILOG = """\
examples:
  journal snapshot                      fold from the newest snapshot to the end, write one
  journal snapshot --list               the snapshots kept (newest fold last)
  journal snapshot --prune-older 30d    drop snapshots of events older than 30 days

Snapshots are derived data: replay (journal status --at, incidents) starts from the nearest
one at or before the moment asked, with the same answer as a full replay. Snapshots written
by another version of the projections are ignored (and dropped by --prune-older).
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "snapshot",
        parents=[common],
        help="write, list or prune projection snapshots (checkpoints for replay)",
        description="Fold the journal from its newest snapshot to the end and store a snapshot.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="list the snapshots instead")
    mode.add_argument(
        "--prune-older",
        metavar="TIME",
        help="delete snapshots whose newest event is before TIME (and those of other versions)",
    )
    p.set_defaults(handler=cmd_snapshot)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """Write (default), list or prune snapshots."""
    from journal.events import iso, to_us
    from journal.history.snapshots import Snapshots, snapshot_now
    from journal.projections.state import JournalState
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    older = (
        to_us(parse_time(args.prune_older, option="--prune-older"))
        if args.prune_older is not None
        else None
    )
    check_migrated(url)
    with EventStore(url) as store:
        snaps = Snapshots(store)
        if args.list:
            key = JournalState().projection_key()
            rows = snaps.infos()
            if not rows:
                print("no snapshots")
            for s in rows:
                mark = "" if s.projection_version == key else "  (other version: ignored)"
                print(
                    f"{s.id:>6}  event {s.last_event_id:>12,}  at {iso(s.at_ts)}  "
                    f"{s.events_seen:>12,} events  {s.bytes:>10,} bytes  "
                    f"{s.projection_version}{mark}"
                )
            return 0
        if older is not None:
            gone = snaps.prune(older_than=older)
            print(f"deleted {gone} snapshot(s)")
            return 0
        state, info, folded = snapshot_now(store)
    if state.last_id is None:
        print("the journal is empty: no snapshot")
    elif info is None:
        print(f"up to date: the newest snapshot is at event {state.last_id:,}")
    else:
        print(
            f"snapshot {info.id} at event {info.last_event_id:,} ({iso(info.at_ts)}): "
            f"{info.events_seen:,} events, {info.bytes:,} bytes; folded {folded:,} new event(s)"
        )
    return 0
