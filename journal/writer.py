"""The background writer: events leave the hot path through an O(1) append and reach the
store in batches, on one thread per process.

- ``submit(event)`` appends to a deque: no lock, no IO, never raises.
- The thread writes a batch when ``batch_size`` events are waiting or the oldest has waited
  ``flush_interval`` seconds, through ``store.append`` retried with tenacity (the
  `retry_db_operation` figures: 3 retries, 0.5 s doubling, 10 s cap).
- When the store stays unreachable (`StoreUnavailable`) an outage begins: a ``journal``
  event ``store_unavailable`` is emitted, events stay in memory (up to
  ``max_memory_events``; beyond that the oldest are dropped and counted), and each tick
  probes the store once instead of blocking. When it answers, the backlog is written in
  order and ``store_recovered`` (outage duration, buffered, dropped) is emitted. Appends are
  idempotent on ``event_id``, so a batch re-sent after an ambiguous failure is harmless.
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
from typing import Protocol

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from journal import runtime
from journal.errors import StoreError, StoreUnavailable
from journal.events import Event, journal_event

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
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # never let the thread die
                log.exception("journal: writer loop failed; retrying next tick")
            if self._stop and not self._q:
                with self._idle:
                    self._idle.notify_all()
                return

    def _drain(self) -> None:
        while self._q:
            if self._outage_since is not None and not self._probe():
                self._bound_memory()
                return
            batch = [self._q.popleft() for _ in range(min(self.batch_size, len(self._q)))]
            with self._idle:
                self._busy = True
            try:
                ok = self._write(batch)
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
            if not ok:
                self._q.extendleft(reversed(batch))  # back to the front, order kept
                self._bound_memory()
                return
        with self._idle:
            self._idle.notify_all()

    def _write(self, batch: list[Event]) -> bool:
        attempts, initial, cap = self._retry
        t0 = time.perf_counter()
        try:
            if not self._prepared:
                assert self._prepare is not None
                self._prepare()
                self._prepared = True
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
        if self._outage_since is not None:
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
        """Wait until everything submitted so far is written; False on timeout or outage."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._q or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or (self._outage_since is not None and not self._busy):
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> bool:
        """Flush with a deadline and stop the thread; returns whether everything was written."""
        done = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(max(0.1, timeout))
        if self._q:
            log.error("journal: %d event(s) could not be written before exit", len(self._q))
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
        )
