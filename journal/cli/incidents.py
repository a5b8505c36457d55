"""``journal incidents``: breaker outages, error bursts and store outages in a time range.

An incident overlaps the range ``[--since, --until]`` (default: the whole journal up to
now). Breaker and burst incidents come from the replayed projections (`journal.projections.incidents`);
store outages from the writers' ``journal`` events (``store_unavailable`` then
``store_recovered`` from the same source). Each incident's id is a short hash of its kind,
key and start, so it is the same in every listing. ``journal incidents show ID`` prints its
timeline and the breaker states just before it began and as it ended.

Errors during an incident: for a breaker the errors whose ``name`` is the breaker, for a
burst the errors of its type, for a store outage every error. Peak errors/minute: the
most of those errors within any 60 seconds of the incident.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journal.cli.migrate import command_db_url
from journal.errors import ConfigError
from journal.settings import parse_time

if TYPE_CHECKING:
    from journal.events import Event
    from journal.projections.state import BreakerRow, JournalState
    from journal.store.event_store import EventStore

SCHEMA_VERSION = 1
KINDS = ("breaker", "burst", "outage")
TIME_HELP = "ISO 8601 (no zone = UTC) or relative to now: 30s, 15m, 2h, 7d, now"
# the seed's KPI targets
TARGET_ERRORS_PER_MIN = 1.0
TARGET_SUCCESS_PCT = 99.0
TARGET_BREAKER_OPENS = 0
TARGET_MTTR_S = 300.0
PEAK_WINDOW_US = 60_000_000

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

--json (schema_version 1): {schema_version, range {since, until}, incidents [{id, kind,
name, start, end (null while open), open, duration_s, errors, peak_errors_per_min,
opens}], summary {count, open, resolved, mttr_s}, kpis {errors, error_rate_per_min,
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


@dataclass(frozen=True, slots=True)
class Row:
    """One incident as listed."""

    id: str
    kind: str
    name: str
    start: int
    end: int | None
    duration_s: float
    errors: int
    peak_per_min: int
    opens: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        from journal.events import iso

        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "start": iso(self.start),
            "end": iso(self.end) if self.end is not None else None,
            "open": self.end is None,
            "duration_s": round(self.duration_s, 3),
            "errors": self.errors,
            "peak_errors_per_min": self.peak_per_min,
            "opens": self.opens,
        }


@dataclass(frozen=True, slots=True)
class Kpis:
    """The seed's KPIs over a range."""

    minutes: float
    errors: int
    diversity: int
    calls: int
    successes: int
    opens: int
    mttr_s: float | None

    @property
    def error_rate(self) -> float:
        """Errors per minute over the range."""
        return self.errors / self.minutes if self.minutes > 0 else 0.0

    @property
    def success_rate(self) -> float | None:
        """Percent of breaker calls that succeeded (None with no calls)."""
        return 100.0 * self.successes / self.calls if self.calls else None

    def met(self) -> dict[str, bool | None]:
        """Each target met (None: nothing to judge)."""
        sr = self.success_rate
        return {
            "error_rate": self.error_rate < TARGET_ERRORS_PER_MIN,
            "success_rate": None if sr is None else sr > TARGET_SUCCESS_PCT,
            "breaker_opens": self.opens <= TARGET_BREAKER_OPENS,
            "mttr": None if self.mttr_s is None else self.mttr_s < TARGET_MTTR_S,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Incidents over a range, with the summary and KPIs."""

    since: int
    until: int
    rows: tuple[Row, ...]
    kpis: Kpis

    @property
    def mttr_s(self) -> float | None:
        """Mean duration of the resolved incidents listed."""
        done = [r.duration_s for r in self.rows if r.end is not None]
        return sum(done) / len(done) if done else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (schema `SCHEMA_VERSION`)."""
        from journal.events import iso

        k = self.kpis
        mttr = self.mttr_s
        return {
            "schema_version": SCHEMA_VERSION,
            "range": {"since": iso(self.since), "until": iso(self.until)},
            "incidents": [r.to_dict() for r in self.rows],
            "summary": {
                "count": len(self.rows),
                "open": sum(1 for r in self.rows if r.end is None),
                "resolved": sum(1 for r in self.rows if r.end is not None),
                "mttr_s": None if mttr is None else round(mttr, 3),
            },
            "kpis": {
                "errors": k.errors,
                "error_rate_per_min": round(k.error_rate, 4),
                "success_rate": None if k.success_rate is None else round(k.success_rate, 2),
                "breaker_opens": k.opens,
                "mttr_s": None if k.mttr_s is None else round(k.mttr_s, 3),
                "error_diversity": k.diversity,
                "met": k.met(),
            },
        }


def incident_id(kind: str, key: str, start: int) -> str:
    """Stable short id: the same incident has the same id in every listing."""
    return hashlib.sha1(f"{kind}\0{key}\0{start}".encode()).hexdigest()[:10]


@dataclass
class _Tally:
    """Errors of one incident, with the most within any 60 s."""

    start: int
    end: int | None
    errors: int = 0
    peak: int = 0
    window: deque[int] = field(default_factory=deque)

    def add(self, ts: int) -> None:
        self.errors += 1
        w = self.window
        w.append(ts)
        while w[0] <= ts - PEAK_WINDOW_US:
            w.popleft()
        self.peak = max(self.peak, len(w))


def outages(store: EventStore, until: int) -> list[tuple[str, int, int | None]]:
    """(source, start, end or None) of each store outage begun before ``until``, in order."""
    open_: dict[str, int] = {}
    found: list[tuple[str, int, int | None]] = []
    for e in store.read(
        kinds=["journal"], names=["store_unavailable", "store_recovered"], until=until + 1
    ):
        if e.name == "store_unavailable":
            if e.source not in open_:
                open_[e.source] = e.ts
        else:
            start = open_.pop(e.source, None)
            if start is not None:
                found.append((e.source, start, e.ts))
    found.extend((s, t, None) for s, t in open_.items())
    found.sort(key=lambda o: o[1])
    return found


def collect(
    store: EventStore,
    since: int | None,
    until: int,
    *,
    names: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    only_open: bool = False,
) -> Report:
    """List the incidents overlapping the range, from the journal's state as of ``until``.

    The states as of ``since`` and ``until`` come from replays that start at projection
    snapshots; the errors and peak of a breaker or burst incident come from the fold's tally
    when it is exact for it (`IncidentsSnapshot.tally`), else from its error events; store
    outages count their errors from the events; the KPIs' errors and diversity are the
    difference of the two states' per-type counts (counted by the database instead when a
    clear or an evicted type makes those inexact).
    """
    from journal.history.replay import replay
    from journal.history.snapshots import CLI_POLICY
    from journal.projections.state import JournalState

    if since is None:
        span = store.span()
        lo = span[0] if span else until
        start_state = JournalState()
    else:  # the state as the range begins (events with ts < since)
        lo = since
        start_state = replay(store, until=since, snapshots=CLI_POLICY)
    state = replay(store, until=until + 1, snapshots=CLI_POLICY)
    parts = state.capture(until)
    incidents = parts.incidents.build(since=lo)  # only those that overlap the range
    found: list[tuple[str, str, int, int | None, int, tuple[int, int] | None]] = [
        (
            i.kind,
            i.key,
            i.start,
            i.end,
            i.opens if i.kind == "breaker" else 0,
            incidents.tally(i, until),
        )
        for i in incidents.items
    ]
    found.extend(("outage", src, start, end, 0, None) for src, start, end in outages(store, until))
    selected = sorted(
        (
            f
            for f in found
            if f[2] <= until
            and (f[3] is None or f[3] >= lo)
            and (not kinds or f[0] in kinds)
            and (not names or f[1] in names)
            and (not only_open or f[3] is None)
        ),
        key=lambda f: (f[2], f[0], f[1]),
    )
    rows = []
    for kind, key, start, end, opens, tally in selected:
        if tally is None:
            tally = _count_errors(store, kind, key, start, until if end is None else end)
        errors, peak = tally
        rows.append(
            Row(
                incident_id(kind, key, start),
                kind,
                key,
                start,
                end,
                ((until if end is None else end) - start) / 1e6,
                errors,
                peak,
                opens,
            )
        )
    counted = _errors_between(start_state, state)
    errors_in_range, diversity = counted if counted else _error_kpis(store, lo, until)
    before = {b.name: b for b in start_state.capture(lo).breakers}
    after = {b.name: b for b in parts.breakers}
    calls, successes, opens_in_range = _deltas(before, after)
    in_range = [(f[3] - f[2]) / 1e6 for f in found if f[3] is not None and lo <= f[3] <= until]
    kpis = Kpis(
        minutes=max(0, until - lo) / 60e6,
        errors=errors_in_range,
        diversity=diversity,
        calls=calls,
        successes=successes,
        opens=opens_in_range,
        mttr_s=sum(in_range) / len(in_range) if in_range else None,
    )
    return Report(lo, until, tuple(rows), kpis)


def _count_errors(store: EventStore, kind: str, key: str, start: int, end: int) -> tuple[int, int]:
    """(errors, peak per 60 s) of one incident, read from its error events."""
    span: dict[str, Any] = {"kinds": ["error"], "since": start, "until": end + 1}
    if kind == "breaker":
        found: Iterable[Event] = store.read(names=[key], **span)
    elif kind == "burst":  # its type, or its name when the error has no type
        found = heapq.merge(
            store.read(error_types=[key], **span),
            (e for e in store.read(names=[key], **span) if not e.error_type),
            key=lambda e: e.id or 0,
        )
    else:
        found = store.read(**span)
    tally = _Tally(start, end)
    for e in found:
        tally.add(e.ts)
    return tally.errors, tally.peak


def _errors_between(before: JournalState, after: JournalState) -> tuple[int, int] | None:
    """Errors folded into ``after`` but not ``before`` and their distinct types, from the
    per-type counts; None unless both are exact (no clear, no type evicted)."""
    for s in (before, after):
        if s.journal_counts.get("tracker_cleared", 0) or s.evicted_types or s.untracked:
            return None
    old = before.types
    types = 0
    for etype, stats in after.types.items():
        seen = old.get(etype)
        if stats.count > (0 if seen is None else seen.count):
            types += 1
    return after.total - before.total, types


def _error_kpis(store: EventStore, lo: int, until: int) -> tuple[int, int]:
    """Errors with ``lo <= ts <= until`` and how many distinct types they have."""
    from sqlalchemy import case, distinct, func, select
    from sqlalchemy.exc import SQLAlchemyError

    from journal.store.event_store import map_db_error
    from journal.store.schema import events as e

    etype = case((func.coalesce(e.c.error_type, "") == "", e.c.name), else_=e.c.error_type)
    q = select(func.count(), func.count(distinct(etype))).where(
        e.c.kind == "error", e.c.ts >= lo, e.c.ts <= until
    )
    try:
        with store.engine.connect() as conn:
            n, types = conn.execute(q).one()
    except SQLAlchemyError as exc:
        raise map_db_error(exc, store.url) from None
    return int(n), int(types)


def _deltas(
    before: Mapping[str, BreakerRow], after: Mapping[str, BreakerRow]
) -> tuple[int, int, int]:
    calls = successes = opens = 0
    for name, b in after.items():
        p = before.get(name)
        calls += b.calls - (p.calls if p else 0)
        successes += b.successes - (p.successes if p else 0)
        opens += b.opens - (p.opens if p else 0)
    return calls, successes, opens


# ---------------------------------------------------------------- the command


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


def find_incident(store: EventStore, incident: str, since: int | None, until: int) -> Row:
    """The incident with this id in the range; `ConfigError` (one line) if there is none."""
    wanted = incident.strip().lower()
    report = collect(store, since, until)
    row = next((r for r in report.rows if r.id == wanted), None)
    if row is None:
        raise ConfigError(
            f"no incident {incident!r} in the journal (list them with: journal incidents)"
        )
    return row


def incident_filters(row: Row, until: int) -> dict[str, Any]:
    """`EventStore.read` filters for an incident's events: its time span and what it is about
    (the breaker's name, the burst's error type; for an outage, errors and journal events)."""
    end = until if row.end is None else row.end
    filters: dict[str, Any] = {"since": row.start, "until": end + 1}
    if row.kind == "breaker":
        filters["names"] = [row.name]
    elif row.kind == "burst":
        filters["error_types"] = [row.name]
    else:
        filters["kinds"] = ["journal", "error"]
    return filters


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
                r.name,
                _t(r.start),
                "open" if r.end is None else _t(r.end),
                span_text(r.duration_s),
                str(r.errors),
                str(r.peak_per_min),
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
        Text(f"INCIDENT {row.id}: {row.kind} {row.name}"),
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
                f" {line['name']}  {line['detail']}"
            )
        )
    if data["timeline_more"]:
        parts.append(Text(f"  ... and {data['timeline_more']:,} more event(s) (see --limit)"))
    parts.append(Text("BREAKERS AFTER: " + _states(data["breakers_after"])))
    return Group(*parts)


def _states(states: Mapping[str, str]) -> str:
    return ", ".join(f"{n} {s}" for n, s in states.items()) or "(none)"
