"""``journal incidents``: the incidents report (`journal.history.incident_report`) over a
time range, as a table or ``--json``; ``journal incidents show ID`` prints one incident's
timeline and the breaker states just before it began and as it ended.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from journal.errors import ConfigError
from journal.history.incident_report import (
    KINDS,
    SCHEMA_VERSION,
    Report,
    Row,
    collect,
    find_incident,
    incident_filters,
)
from journal.sanitizing.safetext import printable
from journal.settings import command_db_url
from journal.timeparse import parse_time

if TYPE_CHECKING:
    from journal.events import Event
    from journal.store.event_store import EventStore

TIME_HELP = "ISO 8601 (no zone = UTC) or relative to now: 30s, 15m, 2h, 7d, now"

EPILOG = """\
examples:
  journal incidents                            every incident in the journal
  journal incidents --since 1d                 the last day (no zone = UTC in ISO times)
  journal incidents --since 2026-11-28T10:00 --until 2026-11-28T12:00 --kind breaker
  journal incidents --name binance_funding --open
  journal incidents --json | jq '.summary.mttr_s'
  journal incidents show 3f2a91c0d4            the timeline of one incident

An incident is listed if it overlaps [--since, --until]. Kinds: breaker (OPEN until
CLOSED), burst (more than 10 errors of a type within 5 minutes), outage (the store was
unreachable for a writer). The count and MTTR are over the incidents listed; the KPIs
(error rate < 1/min, success rate > 99%, breaker opens 0, MTTR < 5 min, error
diversity) over the whole range.

On a pruned journal (journal prune) the whole journal still starts at its oldest event,
pruned ones included: incidents are kept in the prune's base snapshot. Where one that
began before the cut cannot be counted from the fold, its errors and peak are those of
the events left, shown as ">=N" (counts_exact false in --json).

--json (schema_version 1): {schema_version, range {since, until}, incidents [{id, kind,
name, start, end (null while open), open, duration_s, errors, peak_errors_per_min,
opens, counts_exact}], summary {count, open, resolved, mttr_s}, kpis {errors, error_rate_per_min,
success_rate, breaker_opens, mttr_s, error_diversity, met {error_rate, success_rate,
breaker_opens, mttr}}}.
"""

SHOW_EPILOG = """\
examples:
  journal incidents show 3f2a91c0d4
  journal incidents show 3f2a91c0d4 --json --limit 500

--json (schema_version 1): {schema_version, incident {...as in the list}, breakers_before
{name: state}, breakers_after {name: state}, timeline [{offset_s, timestamp, kind, name,
detail}], timeline_more}.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the command to the CLI."""
    p = sub.add_parser(
        "incidents",
        parents=[common],
        help="breaker, burst and store-outage incidents in a range, with MTTR and the KPIs",
        description="Incidents in a time range, with MTTR and the seed's KPIs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _range_args(p, None)
    p.add_argument(
        "--name", action="append", metavar="NAME", help="only this breaker/type/source (repeatable)"
    )
    p.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    p.add_argument("--open", action="store_true", help="only incidents still open")
    p.set_defaults(handler=cmd_incidents, action=None)
    actions = p.add_subparsers(dest="action", metavar="show ID", parser_class=type(p))
    s = actions.add_parser(
        "show",
        help="one incident's timeline",
        description="One incident's timeline, with the breaker states before and after it.",
        epilog=SHOW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: what was given before "show" (journal incidents --db X show ID) must stand
    s.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (default: $JOURNAL_DB_URL, else sqlite:///journal.db)",
    )
    _range_args(s, argparse.SUPPRESS)
    s.add_argument("id", metavar="ID", help="the incident's id, as listed")
    s.add_argument("--limit", type=int, default=50, metavar="N", help="timeline lines (default 50)")
    s.set_defaults(handler=cmd_show)


def _range_args(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("--since", metavar="TIME", default=default, help=f"from TIME: {TIME_HELP}")
    p.add_argument(
        "--until", metavar="TIME", default=default, help=f"up to TIME (default now): {TIME_HELP}"
    )
    p.add_argument(
        "--json",
        action="store_true",
        default=False if default is None else default,
        help="machine-readable output (see below)",
    )


def _range(args: argparse.Namespace) -> tuple[int | None, int]:
    from journal.events import now_us, to_us

    now = now_us()
    until = to_us(parse_time(args.until, option="--until")) if args.until is not None else now
    since = to_us(parse_time(args.since, option="--since")) if args.since is not None else None
    if since is not None and since > until:
        raise ConfigError("--since is after --until: give a range that starts before it ends")
    return since, until


def cmd_incidents(args: argparse.Namespace) -> int:
    """List the incidents in the range, then the summary and KPIs."""
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    since, until = _range(args)
    check_migrated(url)
    with EventStore(url) as store:
        report = collect(
            store,
            since,
            until,
            names=tuple(args.name or ()),
            kinds=tuple(args.kind or ()),
            only_open=args.open,
        )
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return 0
    _console().print(_render(report))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one incident's timeline."""
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    since, until = _range(args)
    if args.limit < 0:
        raise ConfigError("--limit must be >= 0")
    check_migrated(url)
    with EventStore(url) as store:
        row = find_incident(store, args.id, since, until)
        data = _timeline(store, row, until, args.limit)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    _console().print(_render_show(row, data))
    return 0


def _timeline(store: EventStore, row: Row, until: int, limit: int) -> dict[str, Any]:
    from journal.events import iso
    from journal.history.replay import replay_snapshot
    from journal.history.snapshots import CLI_POLICY

    end = until if row.end is None else row.end
    filters = incident_filters(row, until)
    lines: list[dict[str, Any]] = []
    more = 0
    for e in store.read(**filters):
        if len(lines) < limit:
            lines.append(
                {
                    "offset_s": round((e.ts - row.start) / 1e6, 3),
                    "timestamp": iso(e.ts),
                    "kind": e.kind,
                    "name": e.name,
                    "detail": _detail(e),
                }
            )
        else:
            more += 1
    before = replay_snapshot(store, row.start - 1, snapshots=CLI_POLICY).breakers
    after = replay_snapshot(store, end, snapshots=CLI_POLICY).breakers
    return {
        "schema_version": SCHEMA_VERSION,
        "incident": row.to_dict(),
        "breakers_before": {n: b.state for n, b in before.items()},
        "breakers_after": {n: b.state for n, b in after.items()},
        "timeline": lines,
        "timeline_more": more,
    }


def _detail(e: Event) -> str:
    if e.kind == "breaker":
        return f"{e.state_from} -> {e.state_to}" + (f": {e.message}" if e.message else "")
    if e.kind == "calls":
        c = e.context
        return (
            f"calls: {c.get('successes', 0)} ok, {c.get('failures', 0)} failed,"
            f" {c.get('rejected', 0)} rejected"
        )
    if e.kind == "retry":
        return f"attempt {e.attempt}, retry in {e.delay}s: {e.message or e.error_type or ''}"
    if e.kind == "error":
        return f"[{e.severity}] {e.error_type}: {e.message or ''}"
    return e.message or ""


# ---------------------------------------------------------------- rendering


def _console() -> Any:
    import os

    from rich.console import Console

    piped = not sys.stdout.isatty()
    return Console(highlight=False, width=140 if piped and not os.environ.get("COLUMNS") else None)


def _t(us: int) -> str:
    from journal.events import iso

    return iso(us)[:19] + "Z"


def _render(report: Report) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from journal.dashboard import span_text

    parts: list[Any] = [Text(f"INCIDENTS {_t(report.since)} .. {_t(report.until)}")]
    if report.rows:
        table = Table()
        for col, just in (
            ("id", "left"),
            ("kind", "left"),
            ("name", "left"),
            ("start", "left"),
            ("end", "left"),
            ("duration", "right"),
            ("errors", "right"),
            ("peak/min", "right"),
        ):
            table.add_column(col, justify=just, no_wrap=col != "name")  # type: ignore[arg-type]
        for r in report.rows:
            table.add_row(
                r.id,
                r.kind,
                Text(printable(r.name)),  # journal text: never markup, never a control
                _t(r.start),
                "open" if r.end is None else _t(r.end),
                span_text(r.duration_s),
                str(r.errors) if r.exact else f">={r.errors}",
                str(r.peak_per_min) if r.exact else f">={r.peak_per_min}",
            )
        parts.append(table)
    n_open = sum(1 for r in report.rows if r.end is None)
    mttr = report.mttr_s
    parts.append(
        Text(
            f"{len(report.rows)} incident(s): {len(report.rows) - n_open} resolved,"
            f" {n_open} open; MTTR {'n/a' if mttr is None else span_text(mttr)}"
        )
    )
    k = report.kpis
    met = k.met()

    def verdict(key: str) -> str:
        return {True: "met", False: "MISSED", None: "n/a"}[met[key]]

    sr = k.success_rate
    parts.append(Text(f"KPIs over {span_text(k.minutes * 60)}:"))
    for label, value, target, key in (
        ("error rate", f"{k.error_rate:.2f}/min ({k.errors} errors)", "< 1/min", "error_rate"),
        ("success rate", "n/a" if sr is None else f"{sr:.2f}%", "> 99%", "success_rate"),
        ("breaker opens", str(k.opens), "0", "breaker_opens"),
        ("MTTR", "n/a" if k.mttr_s is None else span_text(k.mttr_s), "< 5 min", "mttr"),
    ):
        parts.append(Text(f"  {label:<15} {value:<24} target {target:<8} {verdict(key)}"))
    parts.append(Text(f"  {'error diversity':<15} {k.diversity} type(s)"))
    return Group(*parts)


def _render_show(row: Row, data: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.text import Text

    from journal.dashboard import span_text

    end = "open" if row.end is None else _t(row.end)
    parts: list[Any] = [
        Text(f"INCIDENT {row.id}: {row.kind} {printable(row.name)}"),
        Text(
            f"  {_t(row.start)} .. {end} ({span_text(row.duration_s)}); errors {row.errors},"
            f" peak {row.peak_per_min}/min"
        ),
        Text("BREAKERS BEFORE: " + _states(data["breakers_before"])),
        Text("TIMELINE:"),
    ]
    for line in data["timeline"]:
        parts.append(
            Text(
                f"  {'+' + format(line['offset_s'], '.1f') + 's':>9}  {line['kind']:<8}"
                f" {printable(line['name'])}  {printable(line['detail'])}"
            )
        )
    if data["timeline_more"]:
        parts.append(Text(f"  ... and {data['timeline_more']:,} more event(s) (see --limit)"))
    parts.append(Text("BREAKERS AFTER: " + _states(data["breakers_after"])))
    return Group(*parts)


def _states(states: Mapping[str, str]) -> str:
    return ", ".join(f"{printable(n)} {printable(s)}" for n, s in states.items()) or "(none)"
