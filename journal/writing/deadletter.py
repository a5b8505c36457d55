"""Dead letters: events the store refused, set aside so that everything else keeps moving.

When the store refuses rows themselves (`StoreDataError`: a value too long, a NUL byte, a
type the driver cannot bind), the writer finds the bad events by bisecting the batch and
appends each one here, in JSON Lines, with the reason: ``<dir>/rejected.jsonl``. A record is
``{"rejected_at": ISO, "reason": text, "event": {field: value}}``; another record type (a
named tuple: the collector's market data) is written as ``{"rejected_at", "reason", "type":
"Candle", "record": {field: value}}``. Values that JSON cannot
hold are written as their ``repr``, and the text is ASCII (lone surrogates escaped), so
writing a dead letter cannot fail on encoding. Each batch is one ``write`` under an
exclusive ``flock`` (several processes may share the file), then ``fsync``.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from journal.errors import JournalError
from journal.events import Event, iso, now_us
from journal.sanitizing.redaction import redact_text
from journal.sanitizing.safetext import safe_repr

FILENAME = "rejected.jsonl"
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=repr).encode


class DeadLetterError(JournalError):
    """The dead-letter file could not be written."""


def _plain(value: Any) -> Any:
    """A JSON-safe stand-in for one event field (secrets scrubbed from text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        try:
            return redact_text(value)
        except Exception:
            return value
    return redact_text(repr(value))


def encode_dead_letter(event: Sequence[Any], reason: str, at_us: int | None = None) -> bytes:
    """One JSON line for a refused event or record (never raises on odd field values)."""
    cls = type(event)
    names: Sequence[str] | None = getattr(cls, "_fields", None)
    record: dict[str, Any] = {
        "rejected_at": iso(now_us() if at_us is None else at_us),
        "reason": redact_text(str(reason)),
    }
    if cls is Event or (names is None and isinstance(event, tuple | list)):
        key = "event"
        fields = {name: _plain(v) for name, v in zip(Event._fields, event, strict=False)}
    elif isinstance(names, tuple):
        record["type"], key = cls.__name__, "record"
        fields = {name: _plain(v) for name, v in zip(names, event, strict=False)}
    else:  # not a record at all (a caller's mistake): its repr
        record["type"], key = cls.__name__, "record"
        fields = {"repr": _plain(safe_repr(event))}
    record[key] = fields
    try:
        text = _dumps(record)
    except (TypeError, ValueError, RecursionError):
        record[key] = {k: repr(v) for k, v in fields.items()}
        text = _dumps(record)
    return text.encode("ascii") + b"\n"


def read_dead_letters(path: Path | str) -> Iterator[dict[str, Any]]:
    """The records of a dead-letter file, in order."""
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.strip():
                record: dict[str, Any] = json.loads(line)
                yield record


class DeadLetters:
    """The dead-letter file in ``directory`` (created on first write)."""

    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory)
        self.path = self.dir / FILENAME
        self.written = 0

    def write(self, rejected: Sequence[tuple[Any, str]]) -> Path:
        """Append and fsync one record per (event or record, reason); `DeadLetterError` on failure."""
        if not rejected:
            return self.path
        at = now_us()
        data = b"".join(encode_dead_letter(e, reason, at) for e, reason in rejected)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # one batch never interleaves with another's
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock
        except OSError as exc:
            raise DeadLetterError(f"cannot write the dead-letter file {self.path}: {exc}") from None
        self.written += len(rejected)
        return self.path
