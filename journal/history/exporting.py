"""Streaming export writers and import readers: constant memory for any journal size.

Export formats (both UTF-8, one event per line, ISO 8601 UTC timestamps, every field):

- **JSON**: ``{"header": {...}, "events": [...]}``. The header comes first and holds the
  exact ``count``: the exporter fixes the newest ``id`` before it starts (``through_id``)
  and counts and reads only up to it, so rows appended meanwhile are left out of both.
- **JSON Lines**: one event object per line, nothing else (``jq`` and other tools read it).

Files are written to a temporary file in the target's folder, fsync'd and renamed over
the target: a failed export leaves no partial file.

The reader detects the format, streams it (`json.JSONDecoder.raw_decode` over a sliding
buffer: the standard library has no streaming parser, and records are small) and yields
``(where, record)`` pairs; where = ``line L, record N`` for error messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from journal.errors import ConfigError, JournalError
from journal.events import Event, iso

FORMAT_NAME = "error-journal-export"
FORMAT_VERSION = 1
# An event is bounded (8 KiB context, 2000-char message, 255-char names): anything much
# larger is not one of ours, and must not make the reader buffer the rest of the file.
MAX_RECORD_CHARS = 1 << 20
_CHUNK = 1 << 16

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class BadImportFile(JournalError):
    """The file to import is malformed; nothing was imported."""


# ---------------------------------------------------------------- writing


class _IsoClock:
    """`journal.events.iso`, with the text up to the second kept: neighbours share it."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def __call__(self, us: int) -> str:
        second, micro = divmod(us, 1_000_000)
        if second != self.second:
            self.prefix = iso(second * 1_000_000)[:-8]  # "....T10:30:00.000000Z" -> "...:00"
            self.second = second
        return f"{self.prefix}.{micro:06d}Z"


_iso = _IsoClock()


def event_line(e: Event) -> str:
    """One event as a compact JSON object (the stored context text spliced in, not re-encoded)."""
    head = _encode(
        {
            "id": e.id,
            "event_id": e.event_id,
            "ts": _iso(e.ts),
            "kind": e.kind,
            "source": e.source,
            "name": e.name,
            "error_type": e.error_type,
            "severity": e.severity,
            "message": e.message,
            "attempt": e.attempt,
            "delay": e.delay,
            "state_from": e.state_from,
            "state_to": e.state_to,
        }
    )
    return f'{head[:-1]},"context":{e.context_json}}}'


def format_for(path: str, explicit: str | None) -> str:
    """``--format``, else from the output's suffix (.jsonl / .ndjson: jsonl), else json."""
    if explicit:
        return explicit
    if path != "-" and Path(path).suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    return "json"


def write_events(
    out: IO[str], events: Iterator[Event], fmt: str, header: dict[str, Any] | None, tick: Any
) -> int:
    """Write ``events`` as ``fmt`` to ``out``; call ``tick(n)`` every 10,000; return how many."""
    n = 0
    write = out.write
    line = event_line
    if fmt == "json":
        write('{"header": ' + json.dumps(header, ensure_ascii=False) + ',\n"events": [\n')
        sep = ""
        for e in events:
            write(sep)
            write(line(e))
            sep = ",\n"
            n += 1
            if not n % 10_000:
                tick(n)
        write("\n]}\n")
    else:
        for e in events:
            write(line(e))
            write("\n")
            n += 1
            if not n % 10_000:
                tick(n)
    tick(n)
    return n


@contextlib.contextmanager
def atomic_output(path: str, *, streams: bool = True) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` only when the block succeeds (fsync, rename).

    A symbolic link stays a link: the file it names is replaced. A path that is not a regular
    file (a device such as /dev/stdout, a FIFO, a socket) is written in place, as a stream,
    never replaced: with ``streams=False`` it is refused instead (a caller that must know
    the output is on disk before it goes on).
    """
    target = Path(path)
    try:
        mode = target.stat().st_mode  # through links
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise ConfigError(f"cannot write {path}: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        if not streams:
            raise ConfigError(f"cannot write {path}: not a regular file")
        yield from _stream_output(path)
        return
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    folder = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        with open(fd, "w", encoding="utf-8", buffering=1 << 20) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            # a full disk, a file size limit, a vanished folder: one line, no partial file
            raise _cannot_write(path, exc) from None
        raise
    _fsync_dir(folder)


def _cannot_write(path: str, exc: OSError) -> ConfigError:
    """A failure to write the output, as one line."""
    return ConfigError(f"cannot write {path}: {exc.strerror or exc}")


def _stream_output(path: str) -> Iterator[IO[str]]:
    """``path`` opened for writing as it is (a device, a FIFO): no temporary file."""
    try:
        f = open(path, "w", encoding="utf-8", buffering=1 << 20)  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with f:
            yield f
            f.flush()
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise _cannot_write(path, exc) from None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(fd)


# ---------------------------------------------------------------- reading


class _Stream:
    """A text file read in chunks, with the position's line number for messages."""

    def __init__(self, f: IO[str], path: str) -> None:
        self.f = f
        self.path = path
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.base_line = 1  # line number of buf[0]
        self.keep = False  # True: positions are saved, do not drop consumed text
        self._decode = json.JSONDecoder().raw_decode

    def line(self, pos: int | None = None) -> int:
        return self.base_line + self.buf.count("\n", 0, self.pos if pos is None else pos)

    def fail(self, msg: str, pos: int | None = None) -> BadImportFile:
        return BadImportFile(f"{self.path}: line {self.line(pos)}: {msg}; nothing imported")

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.pos > _CHUNK and not self.keep:  # drop what was consumed (constant memory)
            self.base_line += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end), not consumed."""
        while True:
            n = len(self.buf)
            while self.pos < n and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < n:
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if not c or c not in chars:
            found = "the end of the file (truncated?)" if not c else repr(c)
            raise self.fail(f"expected {what}, found {found}")
        self.pos += 1
        return c

    def value(self, what: str) -> Any:
        """Decode the next JSON value; more is read while it may be incomplete."""
        self.peek()
        while True:
            try:
                obj, end = self._decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos < MAX_RECORD_CHARS and self._more():
                    continue
                detail = f"{exc.msg.removesuffix(' at')} at line {self.line(exc.pos)}"
                if self.eof and len(self.buf) - self.pos < MAX_RECORD_CHARS:
                    raise self.fail(f"{what} is cut short or malformed ({detail})") from None
                raise self.fail(f"{what} is malformed or too large ({detail})") from None
            # a number may go on in the next chunk: only a value ending before the buffer's end
            # (or at the end of the file) is certainly whole
            if end < len(self.buf) or self.eof or not self._more():
                self.pos = end
                return obj


def read_records(path: str) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)`` for every event record of a JSON or JSON Lines file."""
    try:
        f = open(path, encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        with f:
            if Path(path).is_dir():
                raise ConfigError(f"cannot read {path}: it is a directory")
            s = _Stream(f, path)
            first = s.peek()
            if first == "[":
                s.pos += 1
                yield from _array(s, top_level=True)
            elif first == "{" and _is_document(s):
                yield from _document(s)
            elif first == "{":
                yield from _lines(s)
            elif first == "":
                raise BadImportFile(f"{path}: the file is empty; nothing imported")
            else:
                raise s.fail("not a journal export (expected JSON or JSON Lines)")
    except UnicodeDecodeError as exc:
        raise BadImportFile(f"{path}: not UTF-8 text ({exc.reason}); nothing imported") from None


def _is_document(s: _Stream) -> bool:
    """Does the object at ``s.pos`` start with "header" or "events" (our JSON document)?"""
    save = s.pos
    s.pos += 1
    s.keep = True
    try:
        if s.peek() != '"':
            return False
        key = s.value("a key")
        return key in ("header", "events")
    except BadImportFile:
        return False
    finally:
        s.pos = save
        s.keep = False


def _document(s: _Stream) -> Iterator[tuple[str, Any]]:
    s.expect("{", "'{'")
    header: Any = None
    seen = False
    n = 0
    if s.peek() == "}":
        raise s.fail("no events array")
    while True:
        if s.peek() != '"':
            raise s.fail("expected a key")
        key = s.value("a key")
        s.expect(":", "':'")
        if key == "events":
            s.expect("[", "'[' (the events array)")
            for item in _array(s, top_level=False):
                n += 1
                yield item
            seen = True
        elif key == "header":
            header = s.value("the header")
            if not isinstance(header, dict):
                raise s.fail("the header is not an object")
        else:
            s.value(f"the value of {key!r}")
        if s.expect(",}", "',' or '}'") == "}":
            break
    if s.peek():
        raise s.fail("data after the end of the JSON document")
    if not seen:
        raise s.fail("no events array")
    count = header.get("count") if isinstance(header, dict) else None
    if isinstance(count, int) and count != n:
        raise s.fail(f"the header says {count:,} event(s) but the file holds {n:,}")


def _array(s: _Stream, *, top_level: bool) -> Iterator[tuple[str, Any]]:
    n = 0
    if s.peek() == "]":
        s.pos += 1
    else:
        while True:
            n += 1
            s.peek()
            line = s.line()
            yield f"line {line}, record {n}", s.value(f"record {n}")
            if s.expect(",]", f"',' or ']' after record {n}") == "]":
                break
    if top_level and s.peek():
        raise s.fail("data after the end of the JSON array")


def _lines(s: _Stream) -> Iterator[tuple[str, Any]]:
    s.f.seek(0)  # JSON Lines: start over, line by line (bounded reads)
    n = 0
    lineno = 0
    while True:
        text = s.f.readline(MAX_RECORD_CHARS + 1)
        if not text:
            return
        lineno += 1
        if len(text) > MAX_RECORD_CHARS and not text.endswith("\n"):
            raise BadImportFile(
                f"{s.path}: line {lineno}: longer than {MAX_RECORD_CHARS:,} characters; "
                "nothing imported"
            )
        if not text.strip():
            continue
        n += 1
        try:
            obj = json.loads(text)
        except ValueError as exc:
            cut = " (cut short?)" if not text.endswith("\n") else ""
            raise BadImportFile(
                f"{s.path}: line {lineno}: record {n} is not valid JSON{cut}: "
                f"{getattr(exc, 'msg', exc)}; nothing imported"
            ) from None
        yield f"line {lineno}, record {n}", obj
