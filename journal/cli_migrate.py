"""``journal migrate`` and ``journal info``."""

from __future__ import annotations

import argparse
from typing import Any

from journal.config import redact_url, resolve_db_url
from journal.errors import ConfigError


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
    p.set_defaults(handler=cmd_migrate)

    i = sub.add_parser(
        "info", parents=[common], help="show the database, its schema revision, size and time span"
    )
    i.set_defaults(handler=cmd_info)


def _url(args: argparse.Namespace) -> str:
    return resolve_db_url(args.db)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade (default), show status, print SQL or downgrade."""
    from journal import migrate

    url = _url(args)
    shown = redact_url(url)
    head = migrate.head_revision()
    if args.sql:
        print(migrate.offline_sql(url), end="")
        return 0
    if args.status:
        path = migrate.sqlite_path(url)
        current = None if (path is not None and not path.exists()) else _current(url)
        state = (
            "not migrated" if current is None else ("up to date" if current == head else "behind")
        )
        print(
            f"database: {shown}\ncurrent:  {current or '(none)'}\nhead:     {head}\nstatus:   {state}"
        )
        return 0
    if args.downgrade:
        before = _current(url)
        try:
            migrate.downgrade(url, args.downgrade)
        except Exception as exc:
            if "revision" in str(exc).lower() and "sqlalchemy" not in type(exc).__module__:
                raise ConfigError(f"cannot downgrade to {args.downgrade!r}: {exc}") from None
            raise
        print(f"downgraded {shown}: {before or '(none)'} -> {_current(url) or '(none)'}")
        return 0
    before = _current_or_none(url)
    if before == head:
        print(f"already at head {head}: {shown}")
        return 0
    migrate.upgrade(url)
    print(f"upgraded {shown}: {before or '(none)'} -> {head}")
    return 0


def _current(url: str) -> str | None:
    from journal.migrate import current_revision

    return current_revision(url)


def _current_or_none(url: str) -> str | None:
    from journal.migrate import sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    return _current(url)


def cmd_info(args: argparse.Namespace) -> int:
    """What is in the journal."""
    from journal.events import iso
    from journal.migrate import check_migrated
    from journal.store import EventStore

    url = _url(args)
    head = check_migrated(url)
    with EventStore(url) as store:
        count = store.count()
        span = store.span()
        latest = store.latest_id()
        dialect = store.dialect
    print(f"database: {redact_url(url)}")
    print(f"dialect:  {dialect}")
    print(f"schema:   {head} (up to date)")
    print(f"events:   {count:,} (latest id {latest})")
    print(f"span:     {iso(span[0]) + ' .. ' + iso(span[1]) if span else '(empty)'}")
    return 0
