"""Market data in the database: `MarketStore` (upserts on natural keys, reads) and
`MarketWriter` (the buffered, outage-proof path the collector submits into).

- Tables ``candles``, ``open_interest``, ``funding_rates``, ``trader_ratios`` (migration
  ``0003_market_data``): one row per record ``key()``. An upsert writes a row when its key is
  new or a value changed (a candle re-fetched while still open is updated; re-fetching a
  closed one writes nothing) and the last of several records with one key in a batch wins.
- `MarketStore` shares the event store's engine settings, connection checks and error
  mapping (`journal.store.event_store.map_db_error`): a refused row raises `StoreDataError`, a database
  that cannot be reached `StoreUnavailable`, an old schema `SchemaNotReady`.
- `MarketWriter` is the journal's own `BufferedWriter` with the market codec: ``submit`` is a
  check and a deque append in the caller's thread and never raises; a thread writes batches
  with retries; during an outage the records go to ``<spool dir>/market/`` (fsync'd, drained
  in order on recovery, or by the next process after a crash); records the store refuses are
  bisected out and set aside in ``<spool dir>/market/deadletter/rejected.jsonl``; records that
  fail `normalise` go there at once, with the reason. The writer's own ``journal`` events are
  named ``market_store_unavailable``, ``market_store_recovered``, ``market_event_rejected``...
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from journal.errors import StoreDataError, StoreUnavailable
from journal.events import Event
from journal.process.forking import StoreGate
from journal.sanitizing.redaction import library_logger
from journal.settings import redact_url
from journal.store.event_store import SQLITE_WRITE_BUSY_TIMEOUT, EventStore, map_db_error
from journal.store.schema import metadata
from journal.writing.spool import default_spool_dir
from journal.writing.writer import BufferedWriter

from ._market_codec import MARKET_CODEC, normalise
from ._market_sql import SPEC_OF, SPECS, PostgresUpserts, SqliteUpserts, TableSpec
from .records import Candle, MarketRecord

log = library_logger("journal.collector.storage")
SPOOL_SUBDIR = "market"
TABLES = tuple(SPECS)
# Each record type's natural key (a prefix of its fields, at least two) as a tuple.
_KEY_OF: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    cls: itemgetter(*range(spec.nkey)) for cls, spec in SPEC_OF.items()
}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class MarketStore:
    """The market-data tables on SQLite or PostgreSQL."""

    def __init__(
        self,
        url: str | None = None,
        *,
        check_schema: bool = True,
        write_busy_timeout: float = SQLITE_WRITE_BUSY_TIMEOUT,
    ) -> None:
        # The event store's connections: same pool, pragmas, fork handling, schema check.
        self._db = EventStore(url, check_schema=check_schema, write_busy_timeout=write_busy_timeout)
        self.url = self._db.url
        self.dialect = self._db.dialect
        self._upserts = (
            SqliteUpserts(self._db) if self.dialect == "sqlite" else PostgresUpserts(self._db)
        )

    # ------------------------------------------------------------ writing

    def upsert(self, records: Iterable[MarketRecord]) -> int:
        """Check and store records (any mix of types); returns the rows inserted or changed.

        `StoreDataError` if a record is not valid (nothing is written then).
        """
        good: list[MarketRecord] = []
        for r in records:
            try:
                good.append(normalise(r))
            except (ValueError, TypeError) as exc:
                raise StoreDataError(f"record refused: {exc}") from None
        return self.append(good)

    def append(self, records: Sequence[MarketRecord]) -> int:
        """Store records already passed through `normalise` (the writer's path)."""
        if not records:
            return 0
        kinds = set(map(type, records))
        by_type: Mapping[type, Sequence[MarketRecord]]
        if len(kinds) == 1:  # the common batch: one record type
            by_type = {kinds.pop(): records}
        else:
            lists: dict[type, list[MarketRecord]] = {}
            for r in records:
                lists.setdefault(type(r), []).append(r)
            by_type = lists
        batch: list[tuple[TableSpec, Sequence[MarketRecord]]] = []
        for cls, group in by_type.items():
            spec = SPEC_OF.get(cls)
            if spec is None:
                raise StoreDataError(f"not a market record: {cls.__name__}")
            # Duplicate natural keys folded in C: the last record of a key wins, in the order
            # the keys first came (a dict's order); a batch without duplicates passes as it is.
            folded = dict(zip(map(_KEY_OF[cls], group), group, strict=True))
            batch.append((spec, group if len(folded) == len(group) else list(folded.values())))
        return int(self._db._run(self._upserts.write, batch, _now_ms(), rows=True))

    def ping(self) -> None:
        """Raise `StoreUnavailable` if the database cannot be reached."""
        self._db.ping()

    # ------------------------------------------------------------ reading

    def _select(self, stmt: Any) -> list[Any]:
        self._db._ensure_schema()
        try:
            with self._db.engine.connect() as conn:  # mapped errors, like the event store's
                return list(conn.execute(stmt).all())
        except SQLAlchemyError as exc:
            raise map_db_error(exc, self.url) from None

    @staticmethod
    def _table(name: str) -> Any:
        if name not in SPECS:
            raise ValueError(f"unknown market table {name!r} (one of {', '.join(SPECS)})")
        return metadata.tables[name]

    def count(self, table: str) -> int:
        """Rows in ``table``."""
        return int(self._select(select(func.count()).select_from(self._table(table)))[0][0])

    def distinct_keys(self, table: str) -> int:
        """Distinct natural keys in ``table`` (equals `count` while the primary key holds)."""
        t = self._table(table)
        keys = select(*[t.c[k] for k in SPECS[table].key]).distinct().subquery()
        return int(self._select(select(func.count()).select_from(keys))[0][0])

    def read_candles(
        self, symbol: str, timeframe: str, since: int | None = None, until: int | None = None
    ) -> list[Candle]:
        """Candles of one series with ``since <= ts < until`` (ms), oldest first."""
        t = self._table("candles")
        cond = [t.c.symbol == symbol, t.c.timeframe == timeframe]
        if since is not None:
            cond.append(t.c.ts >= int(since))
        if until is not None:
            cond.append(t.c.ts < int(until))
        cols = [t.c[c] for c in SPECS["candles"].columns]
        rows = self._select(select(*cols).where(and_(*cond)).order_by(t.c.ts))
        return [Candle._make(row) for row in rows]

    def read(self, table: str, **key: str) -> list[MarketRecord]:
        """Records of ``table`` matching the given key columns, in key order."""
        spec, t = SPECS[table], self._table(table)
        cond = self._key_filter(spec, t, key)
        cols = [t.c[c] for c in spec.columns]
        stmt = select(*cols).where(*cond).order_by(*[t.c[k] for k in spec.key])
        return [spec.record._make(row) for row in self._select(stmt)]  # type: ignore[attr-defined]

    def latest_ts(self, table: str, **key: str) -> int | None:
        """The newest ``ts`` in ``table`` for the given key columns (``symbol=``, ``timeframe=``...)."""
        spec, t = SPECS[table], self._table(table)
        cond = self._key_filter(spec, t, key)
        value = self._select(select(func.max(t.c.ts)).where(*cond))[0][0]
        return None if value is None else int(value)

    @staticmethod
    def _key_filter(spec: TableSpec, t: Any, key: Mapping[str, str]) -> list[Any]:
        unknown = set(key) - (set(spec.key) - {"ts"})
        if unknown:
            raise ValueError(
                f"{spec.name} is keyed by {', '.join(spec.key)}; not by {', '.join(sorted(unknown))}"
            )
        return [t.c[k] == v for k, v in key.items()]

    def close(self) -> None:
        """Release pooled connections."""
        self._db.close()

    def __enter__(self) -> MarketStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MarketStore({redact_url(self.url)!r})"


@dataclass(frozen=True, slots=True)
class MarketWriterStats:
    """What a market writer has done so far (records)."""

    queued: int  # in memory, waiting
    stored: int  # rows inserted or changed
    unchanged: int  # written again with the same values (re-fetches, re-deliveries)
    invalid: int  # refused by `normalise` at submit, set aside
    dead_lettered: int  # set aside in the dead letters (the invalid ones included)
    dropped: int  # lost and counted: no usable spool, dead-letter file unwritable...
    spooled: int
    drained: int
    orphans_drained: int  # from spool files of processes that died
    spool_pending: int
    quarantined: int  # damaged spool lines set aside (``<file>.quarantine``), not delivered
    outage: bool
    outages: int


_live_writers: weakref.WeakSet[MarketWriter] = weakref.WeakSet()


class MarketWriter:
    """Market records into the store through a background thread, a disk spool and dead letters."""

    def __init__(
        self,
        url: str | None = None,
        spool_dir: str | Path | None = None,
        *,
        batch_size: int = 2000,
        flush_interval: float = 0.2,
        max_memory_records: int = 100_000,
        retry_attempts: int = 4,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        auto_migrate: bool = True,
        emit: Callable[[Event], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        drain_batch: int = 5000,
        write_busy_timeout: float = SQLITE_WRITE_BUSY_TIMEOUT,
    ) -> None:
        self.store = MarketStore(url, write_busy_timeout=write_busy_timeout)
        self.url = self.store.url
        base = Path(spool_dir) if spool_dir is not None else default_spool_dir(self.url)
        self.spool_dir = base / SPOOL_SUBDIR  # never shared with the event writer's spool
        self._settings: dict[str, Any] = dict(
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_memory_events=max_memory_records,
            retry_attempts=retry_attempts,
            retry_initial=retry_initial,
            retry_max=retry_max,
            emit=emit,
            sleep=sleep,
            drain_batch=drain_batch,
        )
        self._auto_migrate = auto_migrate
        self._invalid = 0
        self.writer = self._make_writer(migrate=auto_migrate)
        _live_writers.add(self)

    def _make_writer(self, *, migrate: bool) -> BufferedWriter[MarketRecord]:
        url = self.url

        def prepare() -> None:
            from journal.store.migrate import upgrade

            try:
                upgrade(url)
            except (Exception, SystemExit) as exc:  # a SystemExit must not end the writer
                raise map_db_error(exc, url) from None

        # Store calls and the migration go through a gate that a fork closes (as for the event
        # writer): a SQLite transaction copied mid-flight would leave the child's copy of the
        # file's lock bookkeeping believing the write lock is held.
        self._gate = StoreGate(self.store)
        gate = self._gate
        return BufferedWriter(
            gate,
            codec=MARKET_CODEC,
            spool_dir=self.spool_dir,
            prepare=(lambda: gate.call(prepare)) if migrate else None,
            **self._settings,
        )

    # ------------------------------------------------------------ the caller's side

    def submit(self, record: MarketRecord) -> bool:
        """Queue a record (checks and a deque append; never raises). False: it was invalid and
        went to the dead letters."""
        try:
            good = normalise(record)
        except Exception as exc:
            self._refuse(record, exc)
            return False
        self.writer.submit(good)
        return True

    def submit_many(self, records: Iterable[MarketRecord]) -> int:
        """Queue records in order; returns how many were valid (the others are dead-lettered)."""
        ok = 0
        submit = self.writer.submit
        try:
            for record in records:
                try:
                    good = normalise(record)
                except Exception as exc:
                    self._refuse(record, exc)
                    continue
                submit(good)
                ok += 1
        except Exception as exc:  # the iterable itself failed
            log.error("journal: market records could not be read from the caller: %s", exc)
        return ok

    def _refuse(self, record: object, exc: BaseException) -> None:
        self._invalid += 1
        try:
            reason = f"invalid {type(record).__name__}: {exc}"
        except Exception:
            reason = "invalid record"
        self.writer.reject(record, reason)  # type: ignore[arg-type]  # set aside as it came

    # ------------------------------------------------------------ control

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record submitted so far is stored or set aside; False on timeout, during
        an outage (records are then in the spool or in memory) or after drops."""
        return self.writer.flush(timeout)

    @property
    def last_flush_problem(self) -> str | None:
        """Why the last `flush` returned False."""
        return self.writer.last_flush_problem

    def close(self, timeout: float = 10.0) -> bool:
        """Flush with a deadline, spool the rest, stop the thread, release connections."""
        done = self.writer.close(timeout)
        try:
            self.store.close()
        except Exception:
            pass
        _live_writers.discard(self)
        return done

    def stats(self) -> MarketWriterStats:
        """Counters."""
        s = self.writer.stats()
        spool = self.writer.spool
        return MarketWriterStats(
            queued=s.queued,
            stored=s.written,
            unchanged=s.duplicates,
            invalid=self._invalid,
            dead_lettered=s.dead_lettered,
            dropped=s.dropped,
            spooled=s.spooled,
            drained=s.drained,
            orphans_drained=s.orphans_drained,
            spool_pending=spool.pending if spool is not None else 0,
            quarantined=s.quarantined,
            outage=s.outage,
            outages=s.outages,
        )

    def __enter__(self) -> MarketWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _after_fork_in_child(self) -> None:
        """A forked child gets a writer of its own: empty queue, new thread, own spool file."""
        spool = self.writer.spool
        if spool is not None:
            # Our copies only: the parent keeps its files, their locks and records.
            fds = [spool._fh, *(seg.fd for seg in spool._sealed)]
            spool._fh = None
            spool._sealed = []
            for fd in fds:
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        self.writer = self._make_writer(migrate=False)


_closed_gates: list[StoreGate[Any]] = []


def _before_fork() -> None:
    """Close every market writer's gate (at most ~1 s in all) so no store call is in flight."""
    deadline = time.monotonic() + 1.0
    for writer in list(_live_writers):
        try:
            gate = writer._gate
            if gate.close(deadline):
                _closed_gates.append(gate)
            else:
                gate.open()  # not had in time: let it go on (the child re-makes its writer)
        except Exception:  # a fork must never fail because of the collector
            pass


def _after_fork_in_parent() -> None:
    while _closed_gates:
        try:
            _closed_gates.pop().open()
        except Exception:
            pass


def _after_fork_in_child() -> None:
    _closed_gates.clear()  # the child's copies: its writers are re-made below
    for writer in list(_live_writers):
        try:
            writer._after_fork_in_child()
        except Exception:  # a fork must never fail because of the collector
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )

__all__ = [
    "TABLES",
    "MarketStore",
    "MarketWriter",
    "MarketWriterStats",
    "StoreDataError",
    "StoreUnavailable",
]
