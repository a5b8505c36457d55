"""The background writer: events leave the hot path through an O(1) append and reach the
store in batches, on one thread per process.

- ``submit(event)`` appends to a deque: no lock, no IO, never raises.
- The thread writes a batch when ``batch_size`` events are waiting or the oldest has waited
  ``flush_interval`` seconds, through ``store.append`` retried with tenacity (the
  `retry_db_operation` figures: 3 retries, 0.5 s doubling, 10 s cap).
- When the store stays unreachable (`StoreUnavailable`) an outage begins: a ``journal``
  event ``store_unavailable`` is emitted and each tick probes the store once instead of
  blocking. With a spool directory, **every tick moves what is in memory to the disk spool**
  (append-only, fsync'd per batch, checksummed: `journal.spool`). Without one, or if the
  spool cannot be written, events stay in memory up to ``max_memory_events``; beyond that
  the oldest are dropped, counted and reported.
- When the store answers again, the spool drains first (in order), then memory, and
  ``store_recovered`` (outage duration, buffered, spilled, drained, dropped) is emitted.
  At start-up, spool files left by dead processes are drained. Appends are idempotent on
  ``event_id``, so re-delivery after an ambiguous failure or a crash is harmless.
- **The crash window**: events are durable once in the store or in the spool. A process
  killed without warning loses what was still in memory: during an outage, at most the
  events submitted since the last tick (``flush_interval``, 0.2 s by default); while
  healthy, at most the events of the last tick plus the batch being written. `close()`
  (also run at interpreter exit) writes or spools everything it holds.
- `SchemaNotReady` and other store errors are treated like an outage (logged once), so a
  misconfigured database never loses what was recorded while it is being fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from journal import runtime
from journal.errors import StoreError, StoreUnavailable
from journal.events import Event, journal_event
from journal.spool import Spool, SpoolError

log = logging.getLogger("journal.writer")


class Appender(Protocol):
    """What the writer needs of a store."""

    def append(self, events: list[Event]) -> int: ...

    def ping(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WriterStats:
    """What the writer has done so far."""

    queued: int
    written: int
    duplicates: int
    dropped: int
    batches: int
    last_flush_ms: float | None
    outage: bool
    outage_since: float | None
    outages: int
    spooled: int
    drained: int
    quarantined: int
    spool_bytes: int
    orphans_drained: int


class BufferedWriter:
    """One background thread that batches events into the store."""

    def __init__(
        self,
        store: Appender,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_memory_events: int = 100_000,
        retry_attempts: int = 4,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        prepare: Callable[[], None] | None = None,
        emit: Callable[[Event], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        spool_dir: str | Path | None = None,
        drain_batch: int = 2000,
    ) -> None:
        if batch_size < 1 or flush_interval <= 0 or max_memory_events < batch_size:
            raise ValueError("batch_size >= 1, flush_interval > 0, max_memory_events >= batch_size")
        self.store = store
        self.batch_size, self.flush_interval, self.max_memory_events = (
            batch_size,
            flush_interval,
            max_memory_events,
        )
        self._retry = (retry_attempts, retry_initial, retry_max)
        self._prepare = prepare
        self._prepared = prepare is None
        self._emit = emit
        self._sleep = sleep
        self._q: deque[Event] = deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._stop = False
        self._written = self._dupes = self._dropped = self._batches = self._outages = 0
        self._last_ms: float | None = None
        self._outage_since: float | None = None
        self._outage_buffered = 0
        self.spool = Spool(spool_dir) if spool_dir is not None else None
        self.drain_batch = drain_batch
        self._spooled = self._drained = self._orphans = 0
        self._outage_spilled = self._outage_drained = 0
        self._orphans_done = self.spool is None
        self._spool_failed = False
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ hot path

    def submit(self, event: Event) -> None:
        """Queue an event (O(1), no IO, never raises)."""
        self._q.append(event)
        if len(self._q) >= self.batch_size:
            self._wake.set()

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        if not self._orphans_done:
            self._wake.set()  # recover spools left by dead processes without waiting a tick
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # never let the thread die
                log.exception("journal: writer loop failed; retrying next tick")
            if self._stop and (not self._q or self._outage_since is not None):
                with self._idle:
                    self._idle.notify_all()
                return

    def _drain(self) -> None:
        if self._outage_since is not None and (not self._probe() or not self._recover_spool()):
            self._spill()
            return
        if not self._orphans_done and not self._recover_orphans():
            self._spill()
            return
        while self._q:
            with self._idle:  # busy before the queue empties: flush() must not return mid-batch
                self._busy = True
            batch = [self._q.popleft() for _ in range(min(self.batch_size, len(self._q)))]
            try:
                ok = self._write(batch)
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
            if not ok:
                self._q.extendleft(reversed(batch))  # back to the front, order kept
                self._spill()
                return
        with self._idle:
            self._idle.notify_all()

    def _deliver(self, batch: list[Event]) -> None:
        """Write a spooled batch (no retries: a failure ends the drain, the file stays)."""
        self._ensure_prepared()
        inserted = self.store.append(batch)
        self._written += inserted
        self._dupes += len(batch) - inserted
        self._drained += len(batch)
        self._outage_drained += len(batch)

    def _ensure_prepared(self) -> None:
        if not self._prepared:
            assert self._prepare is not None
            self._prepare()
            self._prepared = True

    def _recover_spool(self) -> bool:
        """Store answers again: drain our spool, then end the outage. False if it failed again."""
        try:
            if self.spool is not None:
                self.spool.drain_own(self._deliver, self.drain_batch)
        except Exception as exc:
            log.warning("journal: spool drain interrupted, will resume: %s", exc)
            return False
        if not self._q:
            self._end_outage()
        return True

    def _recover_orphans(self) -> bool:
        assert self.spool is not None
        try:
            files, n = self.spool.recover_orphans(self._deliver, self.drain_batch)
        except Exception as exc:
            self._begin_outage(exc)
            return False
        self._orphans_done = True
        if files:
            self._orphans += n
            log.warning(
                "journal: drained %d event(s) from %d spool file(s) left by earlier processes",
                n,
                files,
            )
            self._publish(
                journal_event(
                    "spool_drained",
                    f"{n} event(s) from {files} earlier spool file(s)",
                    context={"files": files, "events": n, "quarantined": self.spool.quarantined},
                )
            )
        return True

    def _spill(self) -> None:
        """Move what is in memory to the spool (or bound memory if there is no usable spool)."""
        if self.spool is not None and self._q:
            n = len(self._q)
            batch = [self._q.popleft() for _ in range(n)]
            try:
                self.spool.append(batch)
            except SpoolError as exc:
                self._q.extendleft(reversed(batch))
                if not self._spool_failed:
                    self._spool_failed = True
                    log.error(
                        "journal: %s; keeping events in memory (up to %d)",
                        exc,
                        self.max_memory_events,
                    )
                    self._publish(journal_event("spool_unwritable", str(exc)))
            else:
                self._spooled += n
                self._outage_spilled += n
                self._outage_buffered = max(self._outage_buffered, n)
        self._bound_memory()

    def _write(self, batch: list[Event]) -> bool:
        attempts, initial, cap = self._retry
        t0 = time.perf_counter()
        try:
            self._ensure_prepared()
            inserted = 0
            for attempt in Retrying(
                stop=stop_after_attempt(1 if self._outage_since is not None else attempts),
                wait=wait_exponential(multiplier=initial, max=cap),
                retry=retry_if_exception_type(StoreUnavailable),
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    inserted = self.store.append(batch)
        except StoreError as exc:
            self._begin_outage(exc)
            return False
        except Exception as exc:  # a driver error the store did not map
            self._begin_outage(exc)
            return False
        self._last_ms = (time.perf_counter() - t0) * 1000
        self._batches += 1
        self._written += inserted
        self._dupes += len(batch) - inserted
        if self._outage_since is not None and not self._q:
            self._end_outage()
        return True

    def _probe(self) -> bool:
        try:
            self.store.ping()
        except Exception:
            return False
        return True

    def _bound_memory(self) -> None:
        over = len(self._q) - self.max_memory_events
        if over > 0:
            for _ in range(over):
                self._q.popleft()
            self._dropped += over
            log.error(
                "journal: store unavailable and %d events in memory: dropped the %d oldest",
                self.max_memory_events,
                over,
            )

    def _publish(self, event: Event) -> None:
        try:
            (self._emit or runtime.emit)(event)
        except Exception:
            pass

    def _begin_outage(self, exc: BaseException) -> None:
        if self._outage_since is not None:
            return
        self._outage_since = time.time()
        self._outages += 1
        self._outage_buffered = len(self._q)
        self._outage_spilled = self._outage_drained = 0
        self._spool_failed = False
        why = f"{type(exc).__name__}: {exc}"
        log.warning("journal: store unavailable, buffering events in memory: %s", why)
        self._publish(journal_event("store_unavailable", why, context={"queued": len(self._q)}))

    def _end_outage(self) -> None:
        since = self._outage_since or time.time()
        self._outage_since = None
        seconds = round(time.time() - since, 3)
        log.warning("journal: store is back after %.1fs", seconds)
        self._publish(
            journal_event(
                "store_recovered",
                f"store back after {seconds:.1f}s",
                context={
                    "outage_seconds": seconds,
                    "buffered": max(self._outage_buffered, len(self._q)),
                    "dropped": self._dropped,
                },
            )
        )

    # ------------------------------------------------------------ control

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is in the store; False on timeout or during an
        outage (events are then in the spool or in memory)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._q or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or (self._outage_since is not None and not self._busy):
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        return self._outage_since is None

    def close(self, timeout: float = 10.0) -> bool:
        """Flush with a deadline, spool the rest, stop the thread; True if everything reached the store."""
        done = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(max(0.1, timeout))
        if self._q and not self._thread.is_alive() and self.spool is not None:
            self._spill()  # what could not be written goes to disk; the next start drains it
        if self._q:
            log.error(
                "journal: %d event(s) could not be written or spooled before exit", len(self._q)
            )
        if self.spool is not None and not self._thread.is_alive():
            self.spool.close()
        return done and not self._q

    def stats(self) -> WriterStats:
        """Counters."""
        return WriterStats(
            queued=len(self._q),
            written=self._written,
            duplicates=self._dupes,
            dropped=self._dropped,
            batches=self._batches,
            last_flush_ms=self._last_ms,
            outage=self._outage_since is not None,
            outage_since=self._outage_since,
            outages=self._outages,
            spooled=self._spooled,
            drained=self._drained,
            quarantined=self.spool.quarantined if self.spool else 0,
            spool_bytes=self.spool.bytes if self.spool else 0,
            orphans_drained=self._orphans,
        )
