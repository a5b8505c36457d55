"""The ``journal`` command line. Bad input: one line on stderr, exit code 2, never a traceback.

Each command module exposes ``register(subparsers, common)``; `COMMAND_MODULES` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from journal.errors import JournalError

COMMAND_MODULES = (
    "journal.cli.migrate",
    "journal.cli.status",
    "journal.cli.incidents",
    "journal.cli.demo",
    "journal.cli.export",
    "journal.cli.snapshot",
    "journal.cli.prune",
    "journal.collector.cli_collect",
    "journal.tui.cli_monitor",
)


class UsageError(JournalError):
    """Bad command-line usage."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("error-journal")
    except Exception:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered command."""
    parser = OneLineParser(
        prog="journal", description="Event-sourced error journal: migrate, inspect, replay."
    )
    parser.add_argument("--version", action="version", version=f"journal {_version()}")
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $JOURNAL_DB_URL, else sqlite:///journal.db)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 0
        result: int = args.handler(args)
        return result
    except JournalError as exc:
        _one_line(_describe(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        mapped = _map_driver_error(exc)
        if mapped is not None:
            _one_line(_describe(mapped))
            return 2
        if os.environ.get("JOURNAL_DEBUG") == "1":
            traceback.print_exc()
        _one_line(f"unexpected {_describe(exc)} (set JOURNAL_DEBUG=1 for the traceback)")
        return 1


def _map_driver_error(exc: Exception) -> JournalError | None:
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError) or type(exc).__module__.startswith(("psycopg2", "sqlite3")):
        from journal.store.event_store import map_db_error

        url = getattr(exc, "journal_url", "") or os.environ.get("JOURNAL_DB_URL", "the database")
        return map_db_error(exc, url)
    return None


def _describe(exc: BaseException) -> str:
    """The exception's message; its class name when it has none or its ``str()`` fails."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not turn one line into a traceback
        text = ""
    name = type(exc).__name__
    if isinstance(exc, JournalError):
        return text or name
    return f"{name}: {text}" if text else name


def _one_line(message: str) -> None:
    from journal.settings import hide_password

    text = hide_password(" ".join(message.split()))  # never echo a password
    print(f"journal: error: {text}", file=sys.stderr)
