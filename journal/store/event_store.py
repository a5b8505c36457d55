"""The event store: append-only, idempotent on ``event_id``, streamed reads.

Dialect details live here (SQLite / PostgreSQL), with the schema in `journal.store.schema`;
everyone else is dialect-blind.

- **SQLite**: WAL, ``synchronous=NORMAL``, a 30 s busy timeout for readers. Appends run
  ``BEGIN IMMEDIATE`` + ``executemany(INSERT ... ON CONFLICT(event_id) DO NOTHING)`` on the
  driver with a short busy timeout (``write_busy_timeout``, 2 s): the writer retries a few
  times, so a lock held by another process becomes an outage (and the spool takes over) in
  about 10 s instead of minutes. Each connection remembers the file's (device, inode): an
  append first checks the file is still the one it opened and checks again after COMMIT, so
  a deleted or replaced database raises `StoreFileChanged` (the pool is dropped; the batch
  is re-sent to the new file) instead of writing into an unlinked inode.
- **PostgreSQL**: psycopg2, pooled and pre-pinged. Appends ``COPY`` the batch into a
  per-session temporary staging table, then take a transaction-scoped advisory lock
  and ``INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING``. The lock serialises
  the short insert step of concurrent writers, so ids become visible in increasing
  order: a follower polling ``id > last_seen`` can never skip a row that commits
  later with a lower id (rolled-back ids leave harmless gaps).
- **Errors are mapped at the edge** (`map_db_error`): `StoreDataError` when the rows
  themselves are refused (re-sending them fails again), `StoreUnavailable` when the database
  cannot be reached, `SchemaNotReady`, else `StoreError`. The writer sets refused rows aside
  and keeps going; it waits out an unavailable store.
- Reads stream in ``id`` order in constant memory: keyset pages on SQLite, a
  server-side cursor on PostgreSQL; rows become `Event` tuples without per-row
  SQLAlchemy processing. ``context_json`` is the stored JSON text: compact on SQLite,
  JSONB's canonical text on PostgreSQL (the decoded ``context`` is the same).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from journal.errors import (
    SchemaNotReady,
    StoreDataError,
    StoreError,
    StoreFileChanged,
    StoreUnavailable,
)
from journal.events import Event, to_us
from journal.sanitizing.fields import has_bad_chars
from journal.settings import redact_url, resolve_db_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_WRITE_BUSY_TIMEOUT = 2.0  # seconds, per append attempt
_ADVISORY_LOCK_KEY = 0x6A6F75726E616C  # "journal"
_COLUMNS = (
    "id, event_id, ts, kind, source, name, error_type, severity, message, "
    "attempt, delay, state_from, state_to, {context}"
)
_INSERT_COLUMNS = (
    "event_id, ts, kind, source, name, error_type, severity, message, "
    "attempt, delay, state_from, state_to, context"
)
# The text filter: ``{0}`` in message or name, A-Z folded to a-z and nothing else. SQLite's
# lower() folds ASCII only; PostgreSQL's folds per the collation, so it runs under "C" (ASCII
# only there too) and both dialects give the same answer. instr/strpos: no wildcards to escape.
_TEXT_MATCH = {
    "sqlite": "(instr(lower(message), lower({0})) > 0 OR instr(lower(name), lower({0})) > 0)",
    "postgresql": (
        '(strpos(lower(message COLLATE "C"), lower({0} COLLATE "C")) > 0 '
        'OR strpos(lower(name COLLATE "C"), lower({0} COLLATE "C")) > 0)'
    ),
}
_new_tuple = tuple.__new__
_cursor_names = itertools.count()
_live_stores: weakref.WeakSet[EventStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A forked child must not reuse the parent's pooled connections (SQLAlchemy's advice).
    for store in list(_live_stores):
        store.engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

Timestamp = datetime | int


# Python-side errors raised while binding a row or building the COPY buffer: the row is bad.
_PY_DATA_ERRORS = (TypeError, ValueError, UnicodeError, OverflowError)


def map_db_error(exc: BaseException, url: str) -> StoreError:
    """Translate a driver / SQLAlchemy / binding error into the journal's own hierarchy.

    | raised                                                       | becomes            |
    |--------------------------------------------------------------|--------------------|
    | "no such table" / relation does not exist / pgcode 42P01     | `SchemaNotReady`   |
    | sqlite3 OperationalError locked, busy, unable to open, I/O   | `StoreUnavailable` |
    | psycopg2 Operational/InterfaceError, pgcode 08xxx, 57P01-3   | `StoreUnavailable` |
    | a connection invalidated, ConnectionError, OSError           | `StoreUnavailable` |
    | psycopg2 DataError, IntegrityError, pgcode 22xxx, 23xxx      | `StoreDataError`   |
    | psycopg2 ProgrammingError without pgcode (can't adapt type)  | `StoreDataError`   |
    | sqlite3 InterfaceError, IntegrityError, DataError            | `StoreDataError`   |
    | sqlite3 ProgrammingError binding an unsupported type         | `StoreDataError`   |
    | TypeError, ValueError, UnicodeError, OverflowError           | `StoreDataError`   |
    | anything else                                                | `StoreError`       |
    """
    orig: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    where = redact_url(url)
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return SchemaNotReady(f"{where}: {text}")
    if isinstance(orig, sqlite3.OperationalError):
        if "locked" in lowered or "busy" in lowered:
            return StoreUnavailable(f"database {where} stayed locked by another writer: {text}")
        if "unable to open" in lowered or "disk i/o" in lowered or "readonly" in lowered:
            return StoreUnavailable(f"cannot open the database {where}: {text}")
        return StoreError(f"database error on {where}: {text}")
    if isinstance(orig, (sqlite3.InterfaceError, sqlite3.IntegrityError, sqlite3.DataError)):
        return StoreDataError(f"row refused by {where}: {text}")
    if isinstance(orig, sqlite3.ProgrammingError) and (
        "binding" in lowered or "not supported" in lowered or "unsupported" in lowered
    ):
        return StoreDataError(f"row refused by {where}: {text}")
    name = type(orig).__name__
    module = type(orig).__module__ or ""
    if module.startswith("psycopg2"):
        pgcode = getattr(orig, "pgcode", None)
        if name in ("OperationalError", "InterfaceError") and (
            pgcode is None or pgcode.startswith("08")
        ):
            return StoreUnavailable(f"cannot reach the database at {where}: {text}")
        if pgcode and pgcode.startswith(("08", "57P")):  # connection exceptions, admin shutdown
            return StoreUnavailable(f"cannot reach the database at {where}: {text}")
        if pgcode == "42P01":
            return SchemaNotReady(f"{where}: {text}")
        if (pgcode and pgcode.startswith(("22", "23"))) or _pg_class(orig, "DataError"):
            return StoreDataError(f"row refused by {where}: {text}")
        if _pg_class(orig, "IntegrityError"):
            return StoreDataError(f"row refused by {where}: {text}")
        if pgcode is None and _pg_class(orig, "ProgrammingError"):  # "can't adapt type ..."
            return StoreDataError(f"row refused by {where}: {text}")
        if pgcode == "57014" and "copy from stdin failed" in lowered:  # our buffer raised
            return StoreDataError(f"row refused by {where}: {text}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StoreUnavailable(f"lost the connection to {where}: {text}")
    if isinstance(orig, (ConnectionError, TimeoutError, OSError)):
        return StoreUnavailable(f"cannot reach the database at {where}: {text}")
    if isinstance(orig, _PY_DATA_ERRORS):
        return StoreDataError(f"row refused by {where}: {type(orig).__name__}: {text}")
    return StoreError(f"database error on {where}: {text}")


def _pg_class(exc: BaseException, name: str) -> bool:
    """Is ``exc`` a psycopg2 ``name`` (DataError, IntegrityError...) or a subclass of one?"""
    return any(
        c.__name__ == name and (c.__module__ or "").startswith("psycopg2")
        for c in type(exc).__mro__
    )


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    s = str(value)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


class _Filters:
    """WHERE clause builder shared by read and count (one placeholder style per dialect)."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}
        self._n = 0

    def ph(self, value: Any) -> str:
        self._n += 1
        key = f"p{self._n}"
        self.params[key] = value
        return f":{key}" if self.style == "named" else f"%({key})s"

    def add(self, sql: str, value: Any) -> None:
        self.clauses.append(sql.format(self.ph(value)))

    def add_in(self, column: str, values: Iterable[str] | None) -> None:
        if values is None:
            return
        vals = [str(v) for v in values]
        if not vals:
            self.clauses.append("1 = 0")
            return
        self.clauses.append(f"{column} IN ({', '.join(self.ph(v) for v in vals)})")

    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


class EventStore:
    """The journal's event table on SQLite or PostgreSQL."""

    def __init__(
        self,
        url: str | None = None,
        *,
        check_schema: bool = True,
        echo: bool = False,
        write_busy_timeout: float = SQLITE_WRITE_BUSY_TIMEOUT,
    ) -> None:
        self.url = resolve_db_url(url)
        self.write_busy_timeout = write_busy_timeout
        self._path = _sqlite_file(self.url)
        self._check_schema = check_schema
        self._schema_ok = False
        self._schema_lock = threading.Lock()
        self.engine: Engine = self._make_engine(echo)
        self.dialect: str = self.engine.dialect.name
        _live_stores.add(self)

    # ------------------------------------------------------------ engine

    def _make_engine(self, echo: bool) -> Engine:
        if self.url.startswith("sqlite"):
            memory = self.url in ("sqlite://", "sqlite:///:memory:")
            engine = create_engine(
                self.url,
                echo=echo,
                # A small pool: a connection (and its pragmas) per append would cost ~30%.
                **({"poolclass": StaticPool} if memory else {"pool_size": 4, "max_overflow": 8}),
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                if not memory:
                    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
                    if str(mode).lower() != "wal":
                        try:  # needs an exclusive lock: migrations normally did it already
                            cur.execute("PRAGMA journal_mode = WAL")
                        except sqlite3.OperationalError:
                            pass  # another writer holds the lock: WAL next time
                cur.execute("PRAGMA synchronous = NORMAL")
                cur.close()
                _record.info["file_id"] = _file_id(self._path)

            return engine
        return create_engine(
            self.url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=4,
            pool_recycle=1800,
            connect_args={"connect_timeout": 5},
        )

    def _raw(self) -> Any:
        """A pooled DBAPI connection (errors mapped)."""
        try:
            return self.engine.raw_connection()
        except Exception as exc:  # the pool can raise the driver's own error, unwrapped
            err = map_db_error(exc, self.url)
            if isinstance(err, StoreUnavailable) or isinstance(
                exc, (SQLAlchemyError, sqlite3.Error)
            ):
                raise err from None
            if type(exc).__module__.startswith("psycopg2"):
                raise StoreUnavailable(
                    str(err).replace("database error on", "cannot connect to")
                ) from None
            raise

    def _ensure_schema(self) -> None:
        if self._schema_ok or not self._check_schema:
            return
        with self._schema_lock:
            if self._schema_ok:
                return
            from journal.store.migrate import head_revision

            head = head_revision()
            conn = self._raw()
            try:
                cur = conn.cursor()
                try:
                    cur.execute("SELECT version_num FROM alembic_version")
                    row = cur.fetchone()
                except Exception as exc:
                    conn.rollback()
                    err = map_db_error(exc, self.url)
                    if isinstance(err, StoreUnavailable):
                        raise err from None
                    raise SchemaNotReady(f"{redact_url(self.url)} has no journal schema") from None
                finally:
                    cur.close()
                conn.rollback()
            finally:
                conn.close()
            current = row[0] if row else None
            if current != head:
                raise SchemaNotReady(
                    f"{redact_url(self.url)} is at {current or 'no revision'}, head is {head}"
                )
            self._schema_ok = True

    def _run(self, fn: Any, *args: Any, rows: bool = False) -> Any:
        """Run ``fn(dbapi_conn, *args)`` on a pooled connection; map errors; always release.

        ``rows``: ``fn`` binds caller-supplied rows, so a Python-side TypeError / ValueError /
        UnicodeError raised while binding them is a `StoreDataError`, not a bug of ours.
        """
        self._ensure_schema()
        conn = self._raw()
        try:
            return fn(conn, *args)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            _safe_rollback(conn)
            raise map_db_error(exc, self.url) from None
        except Exception as exc:
            _safe_rollback(conn)
            if type(exc).__module__.startswith("psycopg2") or (
                rows and isinstance(exc, _PY_DATA_ERRORS)
            ):
                raise map_db_error(exc, self.url) from None
            raise
        finally:
            _safe_close(conn)

    # ------------------------------------------------------------ writing

    def append(self, events: Sequence[Event]) -> int:
        """Write a batch in one transaction; events already stored (by event_id) are skipped."""
        if not events:
            return 0
        if self.dialect == "sqlite":
            return int(self._run(self._append_sqlite, events, rows=True))
        return int(self._run(self._append_pg, events, rows=True))

    def _check_file(self, conn: Any, when: str) -> None:
        """Raise `StoreFileChanged` if the file is no longer the one ``conn`` opened."""
        if self._path is None:
            return
        now = _file_id(self._path)
        if now == conn.info.get("file_id"):
            return
        # Every pooled connection points at the old inode: drop them all; the next append
        # opens the file that is there now (or creates it, and the writer migrates it).
        try:
            conn.invalidate()
        except Exception:
            pass
        self.engine.dispose()
        self._schema_ok = False
        what = "deleted" if now is None else "replaced"
        raise StoreFileChanged(f"the database file {self._path} was {what} ({when})")

    def _append_sqlite(self, conn: Any, events: Sequence[Event]) -> int:
        self._check_file(conn, "before the append")
        raw = conn  # the pool's proxy: cursor, total_changes, in_transaction pass through
        cur = raw.cursor()
        readers_ms = SQLITE_BUSY_TIMEOUT_MS  # restored after: readers wait longer
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(self.write_busy_timeout * 1000)}")
            cur.execute("BEGIN IMMEDIATE")
            before = raw.total_changes
            cur.executemany(
                f"INSERT INTO events ({_INSERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(event_id) DO NOTHING",
                [e[1:] for e in events],
            )
            inserted = raw.total_changes - before
            cur.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                cur.execute("ROLLBACK")
            raise
        finally:
            try:
                cur.execute(f"PRAGMA busy_timeout = {readers_ms}")
            except sqlite3.Error:
                pass  # a broken connection: the original error is the one to report
            finally:
                cur.close()
        # Unlinked while we wrote: the rows went to a dead inode. Say so: the batch is re-sent.
        self._check_file(conn, "during the append")
        return int(inserted)

    @staticmethod
    def _append_pg(conn: Any, events: Sequence[Event]) -> int:
        import io

        cur = conn.cursor()
        try:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS journal_staging ("
                "event_id varchar(36), ts bigint, kind varchar(16), source varchar(255), "
                "name varchar(255), error_type varchar(255), severity varchar(16), message text, "
                "attempt integer, delay double precision, state_from varchar(16), "
                "state_to varchar(16), context text) ON COMMIT DELETE ROWS"
            )
            esc = _copy_text
            # Encoded here, not inside COPY: a lone surrogate raises UnicodeEncodeError before
            # anything is sent (a data error) rather than aborting the COPY mid-stream.
            data = "".join(["\t".join([esc(v) for v in e[1:]]) + "\n" for e in events])
            buf = io.BytesIO(data.encode("utf-8"))
            cur.copy_expert(f"COPY journal_staging ({_INSERT_COLUMNS}) FROM STDIN", buf)
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_KEY,))
            cur.execute(
                f"INSERT INTO events ({_INSERT_COLUMNS}) "
                "SELECT event_id, ts, kind, source, name, error_type, severity, message, attempt, "
                "delay, state_from, state_to, context::jsonb FROM journal_staging "
                "ON CONFLICT (event_id) DO NOTHING"
            )
            inserted = cur.rowcount
            conn.commit()
            return int(inserted)
        finally:
            cur.close()

    # ------------------------------------------------------------ reading

    def _filters(
        self, base: tuple[Any, ...], after_id: int | None, before_id: int | None
    ) -> _Filters:
        since, until, kinds, names, severities, sources, error_types, text = base
        f = _Filters("named" if self.dialect == "sqlite" else "pyformat")
        if since is not None:
            f.add("ts >= {}", to_us(since))
        if until is not None:
            f.add("ts < {}", to_us(until))
        f.add_in("kind", kinds)
        f.add_in("name", names)
        f.add_in("severity", severities)
        f.add_in("source", sources)
        f.add_in("error_type", error_types)
        if text and has_bad_chars(text):  # stored texts never hold NUL or a lone surrogate
            f.clauses.append("1 = 0")  # (and neither driver would bind them)
        elif text:
            f.add(_TEXT_MATCH[self.dialect], text)
        if after_id is not None:
            f.add("id > {}", int(after_id))
        if before_id is not None:
            f.add("id < {}", int(before_id))
        return f

    def read(
        self,
        *,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        kinds: Iterable[str] | None = None,
        names: Iterable[str] | None = None,
        severities: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        error_types: Iterable[str] | None = None,
        text: str | None = None,
        after_id: int | None = None,
        before_id: int | None = None,
        limit: int | None = None,
        batch_size: int = 10_000,
        descending: bool = False,
        offset: int = 0,
    ) -> Iterator[Event]:
        """Stream matching events in id order (since inclusive, until exclusive), constant memory.

        ``offset`` skips that many matching events first (a jump into a listing; keyset paging
        with ``after_id`` / ``before_id`` is the cheap way on from a known row).

        ``text``: events whose message or name contains it, every character literal; case
        folds for A-Z only (``"ÉCHEC"`` finds ``"Échec"``, not ``"échec"``), the same on SQLite
        and PostgreSQL whatever its locale. A NULL message matches on the name; ``""`` matches all.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if offset < 0:
            raise ValueError("offset must be >= 0")
        if limit is not None and limit <= 0:
            return iter(())
        filters = (since, until, kinds, names, severities, sources, error_types, text)
        if self.dialect == "sqlite":
            return self._read_sqlite(
                filters, after_id, before_id, limit, batch_size, descending, offset
            )
        return self._read_pg(filters, after_id, before_id, limit, batch_size, descending, offset)

    def _read_sqlite(
        self,
        filters: tuple[Any, ...],
        after_id: int | None,
        before_id: int | None,
        limit: int | None,
        batch_size: int,
        descending: bool,
        offset: int,
    ) -> Iterator[Event]:
        # Keyset pages: no read transaction stays open between pages (WAL checkpoints proceed).
        self._ensure_schema()
        remaining = limit
        cursor_id = after_id if not descending else before_id
        while True:
            page = batch_size if remaining is None else min(batch_size, remaining)
            if descending:
                f = self._filters(filters, after_id, cursor_id)
            else:
                f = self._filters(filters, cursor_id, before_id)
            sql = (
                f"SELECT {_COLUMNS.format(context='context')} FROM events{f.where()} "
                f"ORDER BY id {'DESC' if descending else 'ASC'} LIMIT {int(page)}"
            )
            if offset:  # the first page only: the keyset carries on from its last row
                sql += f" OFFSET {int(offset)}"
                offset = 0
            rows = self._run(_fetch_all, sql, f.params)
            for row in rows:
                yield _new_tuple(Event, row)
            if len(rows) < page:
                return
            cursor_id = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)
                if remaining <= 0:
                    return

    def _read_pg(
        self,
        filters: tuple[Any, ...],
        after_id: int | None,
        before_id: int | None,
        limit: int | None,
        batch_size: int,
        descending: bool,
        offset: int,
    ) -> Iterator[Event]:
        self._ensure_schema()
        f = self._filters(filters, after_id, before_id)
        sql = (
            f"SELECT {_COLUMNS.format(context='context::text')} FROM events{f.where()} "
            f"ORDER BY id {'DESC' if descending else 'ASC'}"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        if offset:
            sql += f" OFFSET {int(offset)}"
        conn = self._raw()
        try:
            try:
                cur = conn.cursor(name=f"journal_read_{next(_cursor_names)}")
                cur.itersize = batch_size
                cur.execute(sql, f.params)
            except Exception as exc:
                _safe_rollback(conn)
                raise map_db_error(exc, self.url) from None
            while True:
                try:
                    rows = cur.fetchmany(batch_size)
                except Exception as exc:
                    raise map_db_error(exc, self.url) from None
                if not rows:
                    break
                for row in rows:
                    yield _new_tuple(Event, row)
            cur.close()
        finally:
            _safe_rollback(conn)
            _safe_close(conn)

    def follow(self, after_id: int, limit: int = 10_000) -> list[Event]:
        """Events with ``id > after_id`` in id order (at most ``limit``): for live tailing."""
        return list(
            self.read(after_id=after_id, limit=limit, batch_size=max(1, min(limit, 10_000)))
        )

    def count(
        self,
        *,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        kinds: Iterable[str] | None = None,
        names: Iterable[str] | None = None,
        severities: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        error_types: Iterable[str] | None = None,
        text: str | None = None,
        after_id: int | None = None,
        before_id: int | None = None,
    ) -> int:
        """How many events match the filters (``text`` as in `read`)."""
        f = self._filters(
            (since, until, kinds, names, severities, sources, error_types, text),
            after_id,
            before_id,
        )
        rows = self._run(_fetch_all, f"SELECT count(*) FROM events{f.where()}", f.params)
        return int(rows[0][0])

    def latest_id(self) -> int:
        """The highest id (0 when empty)."""
        rows = self._run(_fetch_all, "SELECT coalesce(max(id), 0) FROM events", {})
        return int(rows[0][0])

    def span(self) -> tuple[int, int] | None:
        """(oldest ts, newest ts) in microseconds, or None when empty."""
        # two subqueries: each is one index probe (a single min(), max() pair scans the index)
        rows = self._run(
            _fetch_all, "SELECT (SELECT min(ts) FROM events), (SELECT max(ts) FROM events)", {}
        )
        lo, hi = rows[0]
        return None if lo is None else (int(lo), int(hi))

    def storage_bytes(self) -> int:
        """What the journal takes on disk: the SQLite file and its WAL, or on PostgreSQL the
        events and snapshots tables with their indexes and TOAST."""
        if self.dialect == "sqlite":
            from journal.store.migrate import sqlite_path

            path = sqlite_path(self.url)
            if path is None:
                return 0
            return sum(
                p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()
            )
        rows = self._run(
            _fetch_all,
            "SELECT coalesce(pg_total_relation_size(to_regclass('events')), 0) "
            "+ coalesce(pg_total_relation_size(to_regclass('snapshots')), 0)",
            {},
        )
        return int(rows[0][0])

    def ping(self) -> None:
        """Raise `StoreUnavailable` if the database cannot be reached."""
        conn = self._raw()
        try:
            cur = conn.cursor()
            try:
                cur.execute("SELECT 1")
                cur.fetchall()
            except Exception as exc:
                raise map_db_error(exc, self.url) from None
            finally:
                cur.close()
        finally:
            _safe_rollback(conn)
            _safe_close(conn)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventStore({redact_url(self.url)!r})"


def _sqlite_file(url: str) -> str | None:
    """The absolute path of a SQLite URL's file (None: PostgreSQL or in-memory)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.database.startswith("file:"):
        return None
    return os.path.abspath(u.database)


def _file_id(path: str | None) -> tuple[int, int] | None:
    """(device, inode) of ``path``; None if it does not exist (or for no path)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _fetch_all(conn: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        rows: list[tuple[Any, ...]] = cur.fetchall()
    finally:
        cur.close()
    conn.rollback()  # ends the read transaction on PostgreSQL; a no-op in SQLite autocommit
    return rows


def _safe_rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:
        pass


def _safe_close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass
