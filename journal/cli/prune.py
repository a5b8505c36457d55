"""``journal prune --before TIME``: retention, keeping the answers (`journal.history.pruning`)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from journal.errors import ConfigError
from journal.settings import command_db_url, redact_url
from journal.timeparse import parse_time

if TYPE_CHECKING:
    from journal.history.pruning import PrunePlan
    from journal.store.event_store import EventStore

EPILOG = """\
examples:
  journal prune --before 30d --dry-run                 what would go, changing nothing
  journal prune --before 30d --export-first old.jsonl  export what goes, then delete it
  journal prune --before 2026-11-01 --yes --vacuum     delete, then give the space back

Deletes the events whose time (ts) is before TIME, except:
  - journal events (outages, spool drains, rejected or dropped events): kept, so the
    writers' history in `journal status` and the outages in `journal incidents` stay;
  - late events: an event older than TIME recorded after an event at or after TIME
    (a spool drained after an outage, a clock behind) stays until a later prune;
  - the newest event always stays.
Before deleting, the state of everything deleted is stored as the journal's base
snapshot: status, status --at TIME or later, and incidents answer exactly as before.
A moment before the cut is refused afterwards (one line, exit 2). Incidents that began
before the cut keep their times, but count only the errors kept.

Deletion runs in batches of 10,000 ids, each its own short transaction: writers keep
appending meanwhile. Stopped midway, the answers stay right; run it again to finish.
--export-first writes the events that go (the `journal export` writer, atomic) before
anything is deleted; if it fails, nothing is. Without it, --yes is needed.
--vacuum gives the space back: SQLite rewrites the file (writers wait meanwhile; they
spool if it takes more than a few seconds); PostgreSQL marks it for reuse.
Don't import the export back into the pruned journal: its events would count twice.
Times: ISO 8601 (no zone = UTC) or relative to now (30s, 15m, 2h, 7d, now).
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "prune",
        parents=[common],
        help="delete events older than a time, keeping their totals in a base snapshot",
        description="Retention: delete the events before TIME; every answer at or after it stays.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--before", metavar="TIME", required=True, help="the cut: events before it go")
    p.add_argument(
        "--export-first", metavar="FILE", help="export the events that go to FILE, then delete"
    )
    p.add_argument(
        "--format", choices=("json", "jsonl"), help="of --export-first (default: by extension)"
    )
    p.add_argument("--yes", action="store_true", help="delete without exporting first")
    p.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
    p.add_argument("--vacuum", action="store_true", help="give the space back afterwards")
    p.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)  # tests
    p.set_defaults(handler=cmd_prune)


def cmd_prune(args: argparse.Namespace) -> int:
    """Plan, export (if asked), write the base snapshot, delete in batches."""
    from journal.events import iso, now_us, to_us
    from journal.history.pruning import BATCH_IDS, prune, vacuum
    from journal.history.pruning import plan as make_plan
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    cut = to_us(parse_time(args.before, option="--before"))
    now = now_us()
    if cut > now:
        raise ConfigError(
            f"--before {iso(cut)} is in the future: prune deletes only the past (try 30d, 7d)"
        )
    if not (args.dry_run or args.yes or args.export_first):
        raise ConfigError(
            "prune deletes events: add --export-first FILE to keep a copy, or --yes "
            "(see what would go with --dry-run)"
        )
    if args.format is not None and args.export_first is None:
        raise ConfigError("--format is the format of --export-first FILE")
    batch = BATCH_IDS if args.batch is None else args.batch
    if batch < 1:
        raise ConfigError("--batch must be >= 1")
    check_migrated(url)
    started = time.monotonic()
    with EventStore(url) as store:
        p = make_plan(store, cut)
        if args.dry_run:
            _show_plan(p, dry=True)
            return 0
        if p.deleted == 0:
            _show_plan(p, dry=False)
            return 0
        if args.export_first is not None:
            _export(store, p, url, args.export_first, args.format)
        result = prune(store, p, batch_ids=batch)
        _show_plan(p, dry=False, deleted=result.deleted, batches=result.batches)
        b = result.base
        if b is not None:
            print(
                f"base snapshot {b.snapshot_id} at event {b.through_id:,}: {b.events_seen:,} "
                f"events folded ({iso(b.min_ts)} .. {iso(b.at_ts)}), {b.bytes:,} bytes; "
                f"{result.snapshots_deleted} older snapshot(s) deleted"
            )
        if args.vacuum:
            before, after = vacuum(store)
            print(f"vacuum: {_mb(before)} -> {_mb(after)} on disk")
    print(f"took {time.monotonic() - started:.2f} s")
    return 0


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _show_plan(p: PrunePlan, *, dry: bool, deleted: int | None = None, batches: int = 0) -> None:
    from journal.events import iso

    if p.deleted == 0:
        print(f"nothing to prune before {iso(p.cut)}")
    elif dry:
        print(
            f"would delete {p.deleted:,} event(s) before {iso(p.cut)} "
            f"({iso(p.first_ts or 0)} .. {iso(p.last_ts or 0)}, "
            f"events {p.first_id or 0:,} .. {p.through_id:,})"
        )
    else:
        print(
            f"deleted {deleted or 0:,} event(s) before {iso(p.cut)} "
            f"({iso(p.first_ts or 0)} .. {iso(p.last_ts or 0)}, "
            f"events {p.first_id or 0:,} .. {p.through_id:,}) in {batches} batch(es)"
        )
    if p.kept_journal or p.kept_late:
        print(
            f"{'keeps' if dry else 'kept'} {p.kept_journal:,} journal event(s) and "
            f"{p.kept_late:,} late event(s) older than the cut"
        )


def _export(store: EventStore, p: PrunePlan, url: str, path: str, fmt_arg: str | None) -> None:
    """Write the events that go to ``path`` (atomically); nothing is deleted if this fails."""
    from journal.cli.export import _progress
    from journal.events import iso, to_us
    from journal.history.exporting import (
        FORMAT_NAME,
        FORMAT_VERSION,
        atomic_output,
        format_for,
        write_events,
    )
    from journal.history.pruning import DELETED_KINDS
    from journal.store.migrate import head_revision

    if path == "-":
        raise ConfigError("--export-first needs a file, not -")
    fmt = format_for(path, fmt_arg)
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": iso(to_us(datetime.now(timezone.utc))),
        "source_database": redact_url(url),
        "dialect": store.dialect,
        "schema_revision": head_revision(),
        "range": {"since": None, "until": iso(p.cut)},
        "filters": {
            "kind": list(DELETED_KINDS),
            "name": None,
            "error_type": None,
            "severity": None,
            "source": None,
        },
        "incident": None,
        "through_id": p.through_id,
        "count": p.deleted,
    }
    events = store.read(kinds=DELETED_KINDS, before_id=p.through_id + 1, batch_size=2_000)
    with atomic_output(path, streams=False) as out, _progress(p.deleted, "exporting") as tick:
        written = write_events(out, events, fmt, header, tick)
        if written != p.deleted:  # another prune ran meanwhile: no file, nothing deleted
            raise ConfigError(
                f"the journal changed during the export ({written:,} of {p.deleted:,} "
                "events read): nothing deleted; run it again"
            )
    print(f"exported {written:,} event(s) to {path} ({fmt})", file=sys.stderr)
