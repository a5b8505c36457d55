"""The ``journal`` command line. Bad input: one line on stderr, exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from journal.errors import JournalError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journal", description="Event-sourced error journal.")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        handler = args.handler
        result: int = handler(args)
        return result
    except JournalError as exc:
        print(f"journal: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
