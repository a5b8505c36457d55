"""The disk spool: where events wait, durably, while the store is unreachable.

Append-only files per process (``journal-<host>-<pid>-<start>.spool``) in the spool
directory. The spool is generic over what it holds: a `RecordCodec` says how a record becomes a
line and back (`EVENT_CODEC`, the default, for events; the collector's market writer has its
own codec and its own directory, so the two kinds never share a file). Draining seals the file being written (later spills start a new one), delivers
the sealed files in order and removes each once delivered; an interrupted drain resumes at
the first record not yet delivered. A record is one line: ``<crc32 of the payload, 8 hex>\\t<payload>\\n`` where the
payload is the JSON array of the event's fields (``ts`` in microseconds, ``context_json`` as
text): it decodes straight back into the `Event` tuple, so draining costs one
``json.loads`` per record.
Encoding is total: the payload is ASCII JSON (lone surrogates escaped) and a field JSON cannot
hold is written as its ``repr``, so spilling never fails on what an event holds; a record
the store then refuses is set aside by the writer (dead letters), not retried forever.
Each batch is written and ``fsync``'d before `append` returns. A process holds an exclusive
``flock`` on its own file for as long as the file is open, so another process can tell a
live spool from one left by a dead process, and two processes never drain the same file.

Reading is forgiving: a torn last record, a garbage line or a checksum mismatch costs only
that record, which goes to ``<file>.quarantine``; every valid record is delivered.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from journal.errors import JournalError
from journal.events import KINDS, Event, EventError
from journal.sanitizing.redaction import library_logger

log = library_logger("journal.spool")
SUFFIX = ".spool"
QUARANTINE = ".quarantine"
R = TypeVar("R")


class SpoolError(JournalError):
    """The spool could not be written (disk full, read-only, not a directory...)."""


def default_spool_dir(db_url: str) -> Path:
    """Beside the SQLite file; for PostgreSQL, under the user's data directory.

    ``JOURNAL_SPOOL_DIR`` overrides both.
    """
    env = os.environ.get("JOURNAL_SPOOL_DIR")
    if env:
        return Path(env)
    from journal.store.migrate import sqlite_path

    path = sqlite_path(db_url) if db_url.startswith("sqlite") else None
    if path is not None:
        return path.resolve().parent / f"{path.name}.spool.d"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "error-journal" / "spool"


# ASCII output: a lone surrogate becomes "\\ud800" instead of failing to encode as UTF-8.
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=repr).encode
_FIELDS = len(Event._fields) - 1  # every field but the store's id
_PLAIN = (str, int, float, bool, type(None))


def frame(payload: bytes) -> bytes:
    """One spool line: ``<crc32 of the payload, 8 hex>\\t<payload>\\n`` (payload without newlines)."""
    return b"%08x\t%s\n" % (zlib.crc32(payload), payload)


def encode_record(event: Event) -> bytes:
    """One spool line for an event (never raises on what the event's fields hold)."""
    try:
        payload = _dumps(event[1:]).encode("ascii")
    except (TypeError, ValueError, RecursionError):  # e.g. a self-referencing list
        payload = _dumps([v if type(v) in _PLAIN else repr(v) for v in event[1:]]).encode("ascii")
    return b"%08x\t%s\n" % (zlib.crc32(payload), payload)


def decode_payload(payload: bytes) -> Event:
    """The event of a record's payload; `EventError` if it is not one."""
    fields = json.loads(payload.decode("utf-8"))  # str input skips encoding detection
    # The checksum already vouches that this is what we wrote from a valid event: a shape
    # check is enough (full validation would cost as much as the decode).
    if type(fields) is not list or len(fields) != _FIELDS or type(fields[2]) is not str:
        raise EventError("not a spooled event")
    if fields[2] not in KINDS:
        raise EventError("not a spooled event")
    return tuple.__new__(Event, (None, *fields))


def _is_rejection_report(event: Event) -> bool:
    return event.kind == "journal" and event.name == "event_rejected"


@dataclass(frozen=True, slots=True)
class RecordCodec(Generic[R]):
    """What a spool (and a `journal.writing.writer.BufferedWriter`) needs to know of its records.

    ``encode`` makes one spool line (`frame` of an ASCII payload) and must not raise on a
    record the writer accepted; ``decode`` turns a payload back into a record and raises
    `ValueError` (or `TypeError`) on anything that is not one: that line is quarantined.
    ``name`` prefixes the spool files and, for any codec but the journal's own, the writer's
    ``journal`` events (``market_store_unavailable``...); ``noun`` names a record in messages.
    ``is_report``: is this record the writer's own report of refused records (never reported
    again, so a refused report cannot feed a loop)?
    """

    name: str
    noun: str
    encode: Callable[[R], bytes]
    decode: Callable[[bytes], R]
    is_report: Callable[[R], bool] | None = None


EVENT_CODEC: RecordCodec[Event] = RecordCodec(
    "journal", "event", encode_record, decode_payload, _is_rejection_report
)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What reading a spool file found."""

    events: int
    bad: int


def read_records(
    path: Path,
    quarantine: Callable[[bytes], None],
    decode: Callable[[bytes], R] = decode_payload,  # type: ignore[assignment]
) -> Iterator[R]:
    """Valid records of a spool file, in order; bad lines are handed to ``quarantine``."""
    for record, _end in _records_from(path, 0, quarantine, decode):
        yield record


def _records_from(
    path: Path, start: int, quarantine: Callable[[bytes], None], decode: Callable[[bytes], R]
) -> Iterator[tuple[R, int]]:
    """(record, byte offset just past its line) from ``start`` on."""
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for line in fh:
            pos += len(line)
            if not line.endswith(b"\n"):
                quarantine(line)  # a torn last record
                continue
            head, sep, payload = line[:-1].partition(b"\t")
            try:
                if not sep or len(head) != 8 or int(head, 16) != zlib.crc32(payload):
                    raise ValueError("checksum")
                yield decode(payload), pos
            except (ValueError, TypeError, EventError, UnicodeDecodeError):
                quarantine(line)


@dataclass(slots=True)
class _Sealed:
    """One of our files that no longer takes appends, waiting to be delivered."""

    path: Path
    fd: int  # kept open: our flock tells other processes the file is not an orphan
    records: int
    nbytes: int
    offset: int = 0  # bytes delivered so far
    delivered: int = 0


class Spool(Generic[R]):
    """This process's spool files (created on first append) plus recovery of others'."""

    def __init__(self, directory: Path | str, codec: RecordCodec[R] | None = None) -> None:
        self.dir = Path(directory)
        self.codec = codec if codec is not None else cast("RecordCodec[R]", EVENT_CODEC)
        self.path: Path | None = None
        self._fh: int | None = None
        self.records = 0  # records in our current file
        self.bytes_current = 0
        self.bytes = 0  # bytes in our files not yet delivered
        self.quarantined = 0
        self.lost = 0  # records whose file vanished before they were delivered
        self._sealed: list[_Sealed] = []

    @property
    def pending(self) -> int:
        """Records in our files not yet delivered."""
        return self.records + sum(s.records - s.delivered for s in self._sealed)

    # ------------------------------------------------------------ writing

    def _open(self) -> int:
        if self._fh is not None:
            return self._fh
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            host, pid = socket.gethostname(), os.getpid()
            name = f"{self.codec.name}-{host}-{pid}-{time.time_ns()}{SUFFIX}"
            self.path = self.dir / name
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise SpoolError(f"cannot create a spool file in {self.dir}: {exc}") from None
        self._fh = fd
        return fd

    def append(self, events: Sequence[R]) -> int:
        """Write and fsync a batch; returns how many records were written."""
        if not events:
            return 0
        encode = self.codec.encode
        data = b"".join(encode(e) for e in events)
        fd = self._open()
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except OSError as exc:
            raise SpoolError(f"cannot write the spool file {self.path}: {exc}") from None
        self.records += len(events)
        self.bytes += len(data)
        self.bytes_current += len(data)
        return len(events)

    def _seal(self) -> None:
        if self._fh is not None and self.path is not None and self.records:
            self._sealed.append(_Sealed(self.path, self._fh, self.records, self.bytes_current))
            self._fh = None
            self.path = None
            self.records = 0
            self.bytes_current = 0

    # ------------------------------------------------------------ draining

    def _quarantine_to(self, path: Path) -> Callable[[bytes], None]:
        qpath = path.with_name(path.name + QUARANTINE)

        def put(line: bytes) -> None:
            self.quarantined += 1
            try:
                with open(qpath, "ab") as q:
                    q.write(line if line.endswith(b"\n") else line + b"\n")
                    q.flush()
                    os.fsync(q.fileno())
            except OSError:
                log.exception("journal: cannot write the quarantine file %s", qpath)

        return put

    def drain_own(self, deliver: Callable[[list[R]], None], batch: int = 2000) -> int:
        """Deliver our records in order, removing each file once delivered; returns how many.

        What is appended while this runs (``deliver`` may spill) goes to a new file, delivered
        by the next call. Raises what ``deliver`` raises; the next call resumes where it stopped.
        """
        self._seal()
        n = 0
        while self._sealed:
            seg = self._sealed[0]

            def progress(end: int, count: int, seg: _Sealed = seg) -> None:
                self.bytes -= end - seg.offset
                seg.offset, seg.delivered = end, seg.delivered + count

            try:
                n += _deliver_file(
                    seg.path,
                    deliver,
                    batch,
                    self._quarantine_to(seg.path),
                    self.codec.decode,
                    seg.offset,
                    progress,
                )
            except FileNotFoundError:  # removed by hand: nothing left to deliver from it
                self.lost += seg.records - seg.delivered
                log.error(
                    "journal: spool file %s vanished with %d undelivered record(s)",
                    seg.path,
                    seg.records - seg.delivered,
                )
            # Delivered: the file goes. Closing releases our lock on it.
            os.close(seg.fd)
            seg.path.unlink(missing_ok=True)
            self.bytes -= seg.nbytes - seg.offset
            self._sealed.pop(0)
        return n

    def recover_orphans(
        self, deliver: Callable[[list[R]], None], batch: int = 2000
    ) -> tuple[int, int]:
        """Drain spool files of dead processes (their lock is free). Returns (files, events)."""
        if not self.dir.is_dir():
            return (0, 0)
        files = events = 0
        ours = {self.path, *(s.path for s in self._sealed)}
        for path in sorted(self.dir.glob(f"*{SUFFIX}")):
            if path in ours:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # its process is alive
                before = self.quarantined
                n = _deliver_file(
                    path, deliver, batch, self._quarantine_to(path), self.codec.decode
                )
                if self.quarantined > before:
                    log.warning(
                        "journal: spool %s had %d damaged record(s), moved to %s%s; %d delivered",
                        path.name, self.quarantined - before, path.name, QUARANTINE, n,
                    )  # fmt: skip
                path.unlink(missing_ok=True)
                files += 1
                events += n
            finally:
                os.close(fd)
        return files, events

    def close(self) -> None:
        """Close our files (kept on disk if they hold records: the next start drains them)."""
        for seg in self._sealed:
            os.close(seg.fd)
        self._sealed.clear()
        if self._fh is not None:
            os.close(self._fh)
            self._fh = None
            if self.path is not None and self.records == 0:
                self.path.unlink(missing_ok=True)


def _deliver_file(
    path: Path,
    deliver: Callable[[list[R]], None],
    batch: int,
    quarantine: Callable[[bytes], None],
    decode: Callable[[bytes], R],
    start: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    pending: list[R] = []
    n = end = 0
    for event, end in _records_from(path, start, quarantine, decode):
        pending.append(event)
        if len(pending) >= batch:
            deliver(pending)
            n += len(pending)
            if progress is not None:
                progress(end, len(pending))
            pending = []
    if pending:
        deliver(pending)
        n += len(pending)
        if progress is not None:
            progress(end, len(pending))
    return n
