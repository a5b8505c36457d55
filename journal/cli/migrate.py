"""``journal migrate`` and ``journal info``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from journal.errors import ConfigError
from journal.settings import command_db_url, redact_url, resolve_db_url


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the commands to the CLI."""
    p = sub.add_parser(
        "migrate", parents=[common], help="upgrade the database schema to the newest revision"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--status", action="store_true", help="show the current and the newest revision"
    )
    mode.add_argument("--sql", action="store_true", help="print the upgrade SQL; touch no database")
    mode.add_argument("--downgrade", metavar="REV", help="downgrade to REV (e.g. base)")
    p.add_argument(
        "--yes",
        action="store_true",
        help="confirm a downgrade that drops journaled events or stored market rows",
    )
    p.set_defaults(handler=cmd_migrate)

    i = sub.add_parser(
        "info", parents=[common], help="show the database, its schema revision, size and time span"
    )
    i.set_defaults(handler=cmd_info)


def _url(args: argparse.Namespace) -> str:
    return command_db_url(args.db)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade (default), show status, print SQL or downgrade."""
    from journal.store import migrate

    if args.yes and not args.downgrade:
        raise ConfigError("--yes only confirms a --downgrade")
    url = resolve_db_url(args.db) if args.sql else _url(args)
    shown = redact_url(url)
    head = migrate.head_revision()
    if args.sql:
        print(migrate.offline_sql(url), end="")
        return 0
    current = _current_or_none(url)
    migrate.check_known(url, current)  # a newer database: say so, whatever was asked
    if args.status:
        state = (
            "not migrated" if current is None else ("up to date" if current == head else "behind")
        )
        print(
            f"database: {shown}\ncurrent:  {current or '(none)'}\nhead:     {head}\nstatus:   {state}"
        )
        return 0
    if args.downgrade:
        return _downgrade(url, current, args.downgrade, confirmed=args.yes)
    if current == head:
        print(f"already at head {head}: {shown}")
        return 0
    with _mapped_errors(url):
        migrate.upgrade(url)
    print(f"upgraded {shown}: {current or '(none)'} -> {head}")
    return 0


def _downgrade(url: str, current: str | None, target: str, *, confirmed: bool) -> int:
    from journal.store import migrate

    shown = redact_url(url)
    undone = migrate.downgrade_plan(url, current, target)
    if not undone:
        print(f"nothing to downgrade: {shown} is at {current or '(none)'}")
        return 0
    # only undoing the events table loses events (later revisions hold derived data)
    events = _event_count(url) if migrate.EVENTS_REVISION in undone else 0
    if events and not confirmed:
        raise ConfigError(
            f"downgrading {shown} to {target!r} drops the events table: {events:,} journaled "
            "event(s) would be lost; add --yes to do it"
        )
    if migrate.MARKET_REVISION in undone and not confirmed:
        with _mapped_errors(url):
            rows = migrate.market_row_count(url)
        if rows:
            raise ConfigError(
                f"downgrading {shown} to {target!r} drops the market tables: {rows:,} stored "
                "row(s) (candles, open interest, funding rates, ratios) would be lost; add --yes "
                "to do it"
            )
    with _mapped_errors(url):
        migrate.downgrade(url, target)
    print(f"downgraded {shown}: {current} -> {_current(url) or '(none)'}")
    return 0


@contextlib.contextmanager
def _mapped_errors(url: str) -> Iterator[None]:
    """Driver and file-system errors of a migration, as the journal's own (one line, exit 2)."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from journal.store.event_store import map_db_error

    try:
        yield
    except (OSError, sqlite3.Error, SQLAlchemyError) as exc:
        raise map_db_error(exc, url) from None


def _event_count(url: str) -> int:
    from journal.store.event_store import EventStore
    from journal.store.migrate import has_events_table

    if not has_events_table(url):
        return 0
    with EventStore(url, check_schema=False) as store:  # any revision: it has the table
        return store.count()


def _current(url: str) -> str | None:
    from journal.store.migrate import current_revision

    return current_revision(url)


def _current_or_none(url: str) -> str | None:
    from journal.store.migrate import sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None  # asking must not create the file
    return _current(url)


def cmd_info(args: argparse.Namespace) -> int:
    """What is in the journal."""
    from journal.events import iso
    from journal.store.event_store import EventStore
    from journal.store.migrate import check_migrated

    url = _url(args)
    head = check_migrated(url)
    with EventStore(url) as store:
        count = store.count()
        span = store.span()
        latest = store.latest_id()
        dialect = store.dialect
        size = store.storage_bytes()
    print(f"database: {redact_url(url)}")
    print(f"dialect:  {dialect}")
    print(f"schema:   {head} (up to date)")
    print(f"events:   {count:,} (latest id {latest})")
    print(f"size:     {_human_bytes(size)} on disk")
    print(f"span:     {iso(span[0]) + ' .. ' + iso(span[1]) if span else '(empty)'}")
    return 0


def _human_bytes(n: int) -> str:
    """1,234,567 -> '1.2 MiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
