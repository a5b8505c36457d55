"""``journal export`` and ``journal import``: the journal as JSON or JSON Lines, and back."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from journal.errors import ConfigError
from journal.settings import command_db_url, redact_url
from journal.timeparse import parse_time

if TYPE_CHECKING:
    from journal.events import Event

BATCH = 5_000

EXPORT_EXAMPLES = """\
examples:
  journal export -o errors.json --since 7d --kind error --severity ERROR,CRITICAL
  journal export -o week.jsonl --since 2026-11-01 --until 2026-11-08
  journal export --format jsonl --name binance_ohlcv | head
  journal export -o timeouts.json --kind error --text "timed out"

The JSON form is {"header": {...}, "events": [...]}: the header (range, filters, exact count,
source database without its password, schema revision, exported_at, format version) comes
first. JSON Lines holds one event per line and nothing else. Timestamps are ISO 8601 UTC.
A file is written to a temporary file beside it and renamed when complete: a failed export
leaves no partial file. Times: ISO 8601 (no zone = UTC) or relative (30s, 15m, 2h, 7d, now);
--since is inclusive, --until exclusive. --text matches a substring of the message or the
name, every character literally (%, _ and \\ too); only A-Z/a-z fold, so "ÉCHEC" finds
"Échec" but not "échec" (the same on SQLite and PostgreSQL). The header records the text as
the journal would store it: a secret typed into --text is redacted there.
"""

IMPORT_EXAMPLES = """\
examples:
  journal import errors.json
  journal import --db postgresql://me@db:5432/journal --migrate week.jsonl

Reads either format (detected). The whole file is validated first: a malformed or truncated
file, a bad line or a record with an unknown kind or a bad timestamp is rejected whole with
the line and record number, and nothing is imported. Events keep their event_id, ts and
source; an event already in the journal (same event_id) is skipped, so importing twice adds
nothing. Messages, names and contexts are redacted again, as when they were recorded: a file
from elsewhere may hold secrets. If the database fails while events are being added, those
added so far stay: run the same import again (it is idempotent) to finish.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the commands to the CLI."""
    fmt = argparse.RawDescriptionHelpFormatter
    e = sub.add_parser(
        "export",
        parents=[common],
        help="write events as JSON or JSON Lines",
        description="Stream matching events to a JSON or JSON Lines file (or stdout).",
        epilog=EXPORT_EXAMPLES,
        formatter_class=fmt,
    )
    e.add_argument("-o", "--output", metavar="FILE", default="-", help="file, or - for stdout")
    e.add_argument(
        "--format",
        choices=("json", "jsonl"),
        help="default: jsonl for a .jsonl/.ndjson file, else json",
    )
    e.add_argument("--since", metavar="TIME", help="events at or after TIME")
    e.add_argument("--until", metavar="TIME", help="events before TIME")
    for flag, what in (
        ("--kind", "error, retry, breaker, calls, alert, journal"),
        ("--name", "breaker / endpoint name"),
        ("--error-type", "error family"),
        ("--severity", "WARNING, ERROR, CRITICAL"),
        ("--source", "writing process"),
    ):
        e.add_argument(
            flag, action="append", metavar="X[,Y]", help=f"only these ({what}); repeatable"
        )
    e.add_argument(
        "--text",
        metavar="TEXT",
        help="only events whose message or name contains TEXT (literal; A-Z/a-z fold, "
        "other letters match exactly)",
    )
    e.add_argument(
        "--incident",
        metavar="ID",
        help="the events of one incident (an id from `journal incidents`): its time span and "
        "its breaker, error type or, for an outage, errors and journal events",
    )
    e.set_defaults(handler=cmd_export)

    i = sub.add_parser(
        "import",
        parents=[common],
        help="add events from a JSON or JSON Lines export (idempotent)",
        description="Add the events of an export to the journal; a bad file is rejected whole.",
        epilog=IMPORT_EXAMPLES,
        formatter_class=fmt,
    )
    i.add_argument("file", metavar="FILE", help="a journal export (.json or .jsonl)")
    i.add_argument("--migrate", action="store_true", help="migrate the database first")
    i.set_defaults(handler=cmd_import)


# ---------------------------------------------------------------- export


def _values(raw: list[str] | None) -> list[str] | None:
    if raw is None:
        return None
    out = [v.strip() for item in raw for v in item.split(",") if v.strip()]
    return out or None


def _checked(raw: list[str] | None, known: frozenset[str], option: str, upper: bool) -> Any:
    values = _values(raw)
    if values is None:
        return None
    values = [v.upper() if upper else v.lower() for v in values]
    bad = [v for v in values if v not in known]
    if bad:
        raise ConfigError(f"unknown {option} {', '.join(bad)}: expected {', '.join(sorted(known))}")
    return values


def cmd_export(args: argparse.Namespace) -> int:
    """Stream the matching events to ``-o``."""
    from journal.events import KINDS, SEVERITIES, iso, to_us
    from journal.history.exporting import FORMAT_NAME, FORMAT_VERSION, atomic_output, format_for
    from journal.sanitizing.redaction import redact_text
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = command_db_url(args.db)
    since: datetime | int | None = (
        parse_time(args.since, option="--since") if args.since is not None else None
    )
    until: datetime | int | None = (
        parse_time(args.until, option="--until") if args.until is not None else None
    )
    if since is not None and until is not None and to_us(since) > to_us(until):
        raise ConfigError(
            f"--since ({iso(to_us(since))}) is after --until ({iso(to_us(until))}): "
            "nothing could match"
        )
    text: str | None = args.text
    if text == "":
        raise ConfigError("--text is empty: give the text to look for, or leave --text out")
    filters: dict[str, Any] = {
        "kinds": _checked(args.kind, KINDS, "--kind", upper=False),
        "severities": _checked(args.severity, SEVERITIES, "--severity", upper=True),
        "names": _values(args.name),
        "error_types": _values(args.error_type),
        "sources": _values(args.source),
        "text": text,
    }
    fmt = format_for(args.output, args.format)
    revision = check_migrated(url)
    with EventStore(url) as store:
        if args.incident is not None:
            since, until = _incident_scope(store, args.incident, since, until, filters)
        # Fix the newest id first: count and read stop there, so the header's count is exact
        # even while writers append (ids become visible in increasing order).
        through = store.latest_id()
        scope = {"since": since, "until": until, "before_id": through + 1, **filters}
        total = store.count(**scope)
        header = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "exported_at": iso(to_us(datetime.now(timezone.utc))),
            "source_database": redact_url(url),
            "dialect": store.dialect,
            "schema_revision": revision,
            "range": {
                "since": iso(to_us(since)) if since is not None else None,
                "until": iso(to_us(until)) if until is not None else None,
            },
            "filters": {
                "kind": filters["kinds"],
                "name": filters["names"],
                "error_type": filters["error_types"],
                "severity": filters["severities"],
                "source": filters["sources"],
                "text": None if text is None else redact_text(text),
            },
            "incident": args.incident,
            "through_id": through,
            "count": total,
        }
        events = store.read(**scope, batch_size=2_000)  # small pages: a flat, low peak RSS
        if args.output == "-":
            return _to_stdout(events, fmt, header, total)
        with atomic_output(args.output) as out, _progress(total, "exporting") as tick:
            written = _write(out, events, fmt, header, tick)
            if written != total:  # rows vanished under us (retention?): no silent mismatch
                raise ConfigError(
                    f"the journal changed during the export ({written:,} of {total:,} events "
                    "read): run it again"
                )
    print(f"exported {written:,} event(s) to {args.output} ({fmt})", file=sys.stderr)
    return 0


def _write(
    out: IO[str], events: Iterator[Event], fmt: str, header: dict[str, Any], tick: Any
) -> int:
    from journal.history.exporting import write_events

    return write_events(out, events, fmt, header, tick)


def _to_stdout(events: Iterator[Event], fmt: str, header: dict[str, Any], total: int) -> int:
    import io

    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", write_through=False)
    try:
        with _progress(total, "exporting") as tick:
            _write(out, events, fmt, header, tick)
            out.flush()
    except BrokenPipeError:
        # the reader left (`| head`): not an error; keep the exit flush from failing again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    finally:
        with contextlib.suppress(Exception):
            out.detach()
    return 0


@contextlib.contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr when it is a terminal; ``tick(done)`` updates it."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total or 1)
        yield lambda done: bar.update(task, completed=done)


# ---------------------------------------------------------------- import

_LENGTHS = {
    "event_id": 36,
    "kind": 16,
    "source": 255,
    "name": 255,
    "error_type": 255,
    "severity": 16,
    "state_from": 16,
    "state_to": 16,
}
_TEXT = ("event_id", "ts", "kind", "source", "name")
_OPTIONAL_TEXT = ("error_type", "severity", "message", "state_from", "state_to")


def to_event(record: Any) -> Event:
    """A record of an export as a validated, redacted `Event`; `EventError` says what is wrong."""
    from journal.events import (
        MAX_MESSAGE_CHARS,
        STATES,
        Event,
        EventError,
        encode_context,
    )
    from journal.sanitizing.redaction import redact_text

    if not isinstance(record, dict):
        raise EventError("not a JSON object")
    for key in _TEXT:
        if key not in record:
            raise EventError(f"no {key!r}")
    for key in _TEXT[:1] + _TEXT[2:] + _OPTIONAL_TEXT:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise EventError(f"{key} must be text, not {value!r}")
    if not record["event_id"]:
        raise EventError("empty event_id")
    for key, limit in _LENGTHS.items():
        value = record.get(key)
        if value is not None and len(value) > limit:
            raise EventError(f"{key} is longer than {limit} characters")
    ts = record["ts"]
    if isinstance(ts, str):
        try:
            datetime.fromisoformat(ts.replace("Z", "+00:00"))  # no zone: UTC, as everywhere
        except ValueError:
            raise EventError(f"invalid timestamp {ts!r} (ISO 8601 expected)") from None
    elif not isinstance(ts, int) or isinstance(ts, bool) or not -(1 << 62) < ts < 1 << 62:
        raise EventError(f"invalid timestamp {ts!r}")
    attempt, delay = record.get("attempt"), record.get("delay")
    if attempt is not None and (not isinstance(attempt, int) or isinstance(attempt, bool)):
        raise EventError(f"attempt must be an integer, not {attempt!r}")
    if attempt is not None and not 0 <= attempt < 1 << 31:
        raise EventError(f"attempt out of range: {attempt}")
    if delay is not None and (
        not isinstance(delay, (int, float)) or isinstance(delay, bool) or not math.isfinite(delay)
    ):
        raise EventError(f"delay must be a finite number, not {delay!r}")
    for key in ("state_from", "state_to"):
        if record.get(key) is not None and record[key] not in STATES:
            raise EventError(f"{key} must be CLOSED, OPEN or HALF_OPEN, not {record[key]!r}")
    context = record.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise EventError("context must be a JSON object")
    event = Event.from_dict(record)  # the journal's own checks (kind, severity, states)
    # Redact again: a file from elsewhere may hold secrets the recorder never saw.
    message = event.message
    if message is not None:
        message = redact_text(message)
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 15] + "...[truncated]"
    return event._replace(
        id=None,
        name=redact_text(event.name),
        error_type=None if event.error_type is None else redact_text(event.error_type),
        message=message,
        delay=None if delay is None else float(delay),
        context_json=encode_context(context),
    )


def _events(path: str) -> Iterator[Event]:
    from journal.events import EventError
    from journal.history.exporting import BadImportFile, read_records

    for where, record in read_records(path):
        try:
            yield to_event(record)
        except EventError as exc:
            text = str(exc).removeprefix("not an event: ")
            raise BadImportFile(f"{path}: {where}: {text}; nothing imported") from None


def _stamp(path: str) -> tuple[int, int, int]:
    """The file's identity, to see it unchanged between the two passes. Import reads its file
    twice (validate, then add): a directory, a pipe or a device is refused."""
    import stat

    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"cannot read {path}: Is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"import reads a file twice (validate, then add): {path} is not a regular file;"
            " save it to a file first"
        )
    return st.st_ino, st.st_size, st.st_mtime_ns


def cmd_import(args: argparse.Namespace) -> int:
    """Validate the whole file, then append it in batches (idempotent on event_id)."""
    from journal.errors import SchemaNotReady
    from journal.store import migrate
    from journal.store.event_store import EventStore

    url = command_db_url(args.db)
    path = args.file
    if path == "-":
        raise ConfigError("import reads a file twice (validate, then add): give a file, not -")
    before = _stamp(path)
    if args.migrate:
        migrate.upgrade(url)
    try:
        migrate.check_migrated(url)
    except SchemaNotReady as exc:
        raise ConfigError(f"{exc} (or add --migrate)") from None
    total = sum(1 for _ in _events(path))  # pass 1: every record parsed and validated
    if _stamp(path) != before:  # pass 2 must read what pass 1 checked
        raise ConfigError(f"{path} changed while it was being checked; nothing imported")
    added = 0
    with EventStore(url) as store, _progress(total, "importing") as tick:
        batch: list[Event] = []
        done = 0
        for event in _events(path):  # pass 2: the same records, appended in batches
            batch.append(event)
            if len(batch) >= BATCH:
                added += store.append(batch)
                done += len(batch)
                batch.clear()
                tick(done)
        added += store.append(batch)
    print(
        f"imported {added:,} new event(s) of {total:,} from {path} into {redact_url(url)} "
        f"({total - added:,} already present)"
    )
    return 0


def _incident_scope(
    store: Any,
    incident: str,
    since: datetime | int | None,
    until: datetime | int | None,
    filters: dict[str, Any],
) -> tuple[int, int]:
    """Narrow an export to one incident: its span, and what it is about (added to ``filters``;
    a filter the user gave as well must agree)."""
    from journal.events import now_us
    from journal.history.incident_report import find_incident, incident_filters

    if since is not None or until is not None:
        raise ConfigError("--incident sets the time range: leave out --since and --until")
    now = now_us()
    scope = incident_filters(find_incident(store, incident, None, now), now)
    for key in ("names", "error_types", "kinds"):
        if key in scope:
            given = filters.get(key)
            filters[key] = scope[key] if given is None else [v for v in given if v in scope[key]]
    return int(scope["since"]), int(scope["until"])
