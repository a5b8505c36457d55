"""The background writer: events leave the hot path through an O(1) append and reach the
store in batches, on one thread per process.

- ``submit(event)`` appends to a deque: no lock, no IO, never raises. It wakes the thread
  only on transitions: when the backlog reaches ``batch_size`` and when it reaches
  ``max_memory_events``.
- The thread writes a batch when ``batch_size`` events are waiting or the oldest has waited
  ``flush_interval`` seconds, through ``store.append`` retried with tenacity (the
  `retry_db_operation` figures: 3 retries, 0.5 s doubling, 10 s cap).
- **Memory is bounded always.** Before each batch, if more than ``max_memory_events`` wait in
  memory (a store that is healthy but slower than the producer, or an outage), the whole
  backlog moves to the disk spool (append-only, fsync'd per batch, checksummed:
  `journal.writing.spool`). The spool is then drained, in order, before anything newer in memory is
  written, so events reach the store in the order each process submitted them. Without a
  usable spool the oldest events beyond the bound are dropped, counted and reported. Spills
  go in fsync'd chunks (at most 10,000). A backlog built while the store stalled is spilled
  whole; but if more than twice the bound arrive while a spill is written (a producer that
  outpaces even the disk), the oldest in memory beyond that are dropped, counted in
  ``dropped`` and journaled (``events_dropped``), rather than the process growing without
  limit.
- When the store stays unreachable (`StoreUnavailable`) an outage begins: a ``journal``
  event ``store_unavailable`` is emitted, each tick probes the store once instead of
  blocking, and every tick moves what is in memory to the spool. When the store answers
  again, the spool drains first, then memory, and ``store_recovered`` is emitted. At
  start-up, spool files left by dead processes are drained. Appends are idempotent on
  ``event_id``, so re-delivery after an ambiguous failure or a crash is harmless.
- **A bad row is not an outage.** When the store refuses the rows themselves
  (`StoreDataError`), the batch is bisected until the refused events are isolated; the
  others are written and each refused one goes to the dead-letter file
  (`journal.writing.deadletter`), with one ``event_rejected`` journal event per batch. The same
  happens to spooled records on drain, so no record can wedge the spool.
- **Nothing leaves the queue silently**: every event taken is stored, spooled,
  dead-lettered or counted in ``dropped`` (logged, and journaled when possible). The batch
  in hand is kept until it is settled; if the loop is hit by any exception (even a
  `BaseException`) the batch goes back to the front of the queue and the loop carries on
  (``restarts``); `submit`/`flush` restart a thread that died anyway. `flush()` says why it
  returned False in ``last_flush_problem``.
- **SQLite file faults**: a deleted or replaced database file (`StoreFileChanged`) is
  journaled (``store_file_replaced``); the writer re-runs its ``prepare`` hook (migrations)
  and re-sends the batch to the new file.
- **The crash window** (kill -9): events are durable once in the store, the spool or the
  dead-letter file. A killed process loses what was still in memory. While the store keeps
  up: at most ``max_memory_events`` plus the batch in hand plus what was submitted during
  one store call (the bound is checked between calls). A producer that outpaces the store
  and the disk: the backlog being spilled (twice the bound plus one store call's arrivals)
  plus up to twice the bound arrived meanwhile, about 4 x ``max_memory_events``. During an
  outage: what was submitted since the last tick. Measured (`benchmarks/bench_writer.py`,
  a child doing nothing but submit into a SQLite store slowed by 5 ms per append,
  ``max_memory_events=20_000``, kill -9 at random moments): at most ~70,000 lost per kill.
  Lower the bound to shrink the window.
  `close()` (also run at interpreter exit) writes or spools everything it holds.
- `SchemaNotReady` and other store errors are treated like an outage (logged once), so a
  misconfigured database never loses what was recorded while it is being fixed.
- **Generic over the record type.** Events are the default; a `journal.writing.spool.RecordCodec`
  (``codec=``) says how other records are spooled, named in messages and in the writer's
  ``journal`` events (the collector's market data: ``market_store_unavailable``...). The store
  is anything with ``append(records) -> int`` and ``ping()``. Records refused before they are
  queued (a caller's validation) go to the dead letters through `reject`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from journal.errors import StoreDataError, StoreFileChanged, StoreUnavailable
from journal.events import Event, journal_event
from journal.process import emitter
from journal.sanitizing.redaction import library_logger
from journal.writing.deadletter import DeadLetterError, DeadLetters
from journal.writing.spool import EVENT_CODEC, RecordCodec, Spool

log = library_logger("journal.writer")
_FILE_RETRIES = 3  # re-sends of one batch after the SQLite file changed under it
R = TypeVar("R")


class RecordAppender(Protocol[R]):
    """What the writer needs of a store: ``append`` returns how many records it stored."""

    def append(self, events: list[R], /) -> int: ...

    def ping(self) -> None: ...


Appender = RecordAppender[Event]
"""What the writer needs of the event store."""


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
    dead_lettered: int = 0
    restarts: int = 0


def _reason(exc: BaseException) -> str:
    """One storable line: no NUL, no lone surrogate, bounded."""
    text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:500]


class BufferedWriter(Generic[R]):
    """One background thread that batches events (or other records) into the store."""

    def __init__(
        self,
        store: RecordAppender[R],
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
        deadletter_dir: str | Path | None = None,
        codec: RecordCodec[R] | None = None,
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
        self.codec = codec if codec is not None else cast("RecordCodec[R]", EVENT_CODEC)
        self._noun = self.codec.noun
        # The writer's own journal events: named for the journal's store, prefixed for others.
        self._jprefix = "" if self.codec.name == EVENT_CODEC.name else f"{self.codec.name}_"
        self._prepare = prepare
        self._prepared = prepare is None
        self._emit = emit
        self._sleep = sleep
        self._q: deque[R] = deque()
        self._refused: deque[tuple[R, str]] = deque()  # `reject`ed, for the dead letters
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._stop = False
        self._written = self._dupes = self._dropped = self._batches = self._outages = 0
        self._last_ms: float | None = None
        self._outage_since: float | None = None
        self._outage_why = ""
        self._outage_buffered = 0
        self.spool = Spool(spool_dir, self.codec) if spool_dir is not None else None
        if deadletter_dir is None and spool_dir is not None:
            deadletter_dir = Path(spool_dir) / "deadletter"
        self.deadletters = DeadLetters(deadletter_dir) if deadletter_dir is not None else None
        self.drain_batch = drain_batch
        self._spooled = self._drained = self._orphans = 0
        self._dead = self._restarts = 0
        self._outage_spilled = self._outage_drained = 0
        self._orphans_done = self.spool is None
        self._spool_failed = self._drain_warned = self._deadletter_failed = False
        # The batch taken from memory and not yet settled (stored, spooled, dead-lettered or
        # counted as dropped): whatever happens to the thread, it goes back to the queue.
        self._inhand: list[R] | None = None
        self._dropped_seen = 0
        # Spills go in chunks (each fsync'd) so that the ceiling is checked between them: a
        # backlog built while the store stalled is spilled whole, but what arrives during a
        # spill may not pass twice the bound (a producer faster than the disk): beyond it
        # the oldest in memory are dropped and counted.
        self._spill_chunk = max(batch_size, min(max_memory_events, 10_000))
        self._ceiling = 2 * max_memory_events
        self._overloaded = False
        self.last_flush_problem: str | None = None
        self._thread_lock = threading.Lock()
        self._thread = self._start_thread()

    def _start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        t.start()
        return t

    # ------------------------------------------------------------ hot path

    def submit(self, event: R) -> None:
        """Queue an event (O(1), no IO, never raises)."""
        q = self._q
        q.append(event)
        n = len(q)
        # Wake the thread on transitions only: a set() per call costs more than the append.
        if n == self.batch_size or n == self.max_memory_events:
            self._wake.set()
            if not self._thread.is_alive():
                self._ensure_thread()

    def reject(self, record: R, reason: str) -> None:
        """Set aside a record refused before it was queued: the thread dead-letters it (O(1))."""
        self._refused.append((record, reason))

    # ------------------------------------------------------------ the thread

    def _ensure_thread(self) -> None:
        """Start a new writer thread if the old one died (rare path)."""
        if self._stop:
            return
        with self._thread_lock:
            if self._thread.is_alive():
                return
            self._settle_inhand()
            self._restarts += 1
            log.error("journal: the writer thread had died; restarted it")
            self._thread = self._start_thread()

    def _settle_inhand(self) -> None:
        batch, self._inhand = self._inhand, None
        if batch:
            self._q.extendleft(reversed(batch))  # back to the front, order kept

    def _run(self) -> None:
        if not self._orphans_done:
            self._wake.set()  # recover spools left by dead processes without waiting a tick
        while True:
            try:
                if self._loop():
                    return
            except BaseException as exc:  # supervise: the journal must outlive a rogue store
                self._settle_inhand()
                self._restarts += 1
                if self._restarts <= 3 or self._restarts % 100 == 0:
                    log.error(
                        "journal: writer loop hit %s: %s; batch kept, carrying on (restart %d)",
                        type(exc).__name__,
                        exc,
                        self._restarts,
                    )
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
                self._sleep_quietly()

    def _sleep_quietly(self) -> None:
        try:
            self._wake.wait(self.flush_interval)
        except BaseException:
            pass

    def _loop(self) -> bool:
        """Tick until stopped; True when the thread should end."""
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._idle:
                self._busy = True
            try:
                self._tick()
            except Exception:  # never let the thread die
                self._settle_inhand()
                log.exception("journal: writer loop failed; retrying next tick")
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
            if self._stop and (
                (not self._q and not self._spool_pending()) or self._outage_since is not None
            ):
                with self._idle:
                    self._idle.notify_all()
                return True

    def _spool_pending(self) -> int:
        return self.spool.pending if self.spool is not None else 0

    def _tick(self) -> None:
        if self._refused:
            self._dead_letter_refused()
        if self._outage_since is not None and (not self._probe() or not self._recover_spool()):
            self._spill()
            return
        if not self._orphans_done and not self._recover_orphans():
            self._spill()
            return
        q = self._q
        while True:
            if self._spool_pending():
                # What was spilled is older than anything in memory: it goes first.
                if not self._drain_own():
                    self._spill()
                    return
                continue
            if not q:
                break
            if len(q) > self.max_memory_events:
                self._spill()
                if self._spool_pending():
                    continue
            if self._overloaded and len(q) < self.max_memory_events:
                self._overloaded = False  # the next overload is logged again
            batch = [q.popleft() for _ in range(min(self.batch_size, len(q)))]
            self._inhand = batch
            if not self._write(batch):
                self._settle_inhand()
                self._spill()
                return
            self._inhand = None

    # ------------------------------------------------------------ writing

    def _ensure_prepared(self) -> None:
        if not self._prepared:
            assert self._prepare is not None
            self._prepare()
            self._prepared = True

    def _dead_letter_refused(self) -> None:
        refused = self._refused
        bad = [refused.popleft() for _ in range(len(refused))]
        try:
            self._dead_letter(bad)
        except BaseException:
            refused.extendleft(reversed(bad))  # the next tick tries again
            raise

    def _append(self, batch: list[R]) -> int:
        """One append; a database file replaced under us is re-prepared and the batch re-sent."""
        for attempt in range(_FILE_RETRIES + 1):
            self._ensure_prepared()
            try:
                return self.store.append(batch)
            except StoreFileChanged as exc:
                if attempt == _FILE_RETRIES:
                    raise
                log.warning(
                    "journal: %s; reconnecting and re-sending %d %s(s)", exc, len(batch), self._noun
                )
                self._report("store_file_replaced", str(exc), {"batch": len(batch)})
                self._prepared = self._prepare is None  # re-run migrations on a fresh file
        raise AssertionError("unreachable")

    def _append_isolating(self, batch: list[R]) -> int:
        """Append; if the store refuses rows, write the others and dead-letter the refused."""
        try:
            return self._append(batch)
        except StoreDataError as exc:
            bad: list[tuple[R, str]] = []
            inserted = self._bisect(batch, exc, bad)
        self._dead_letter(bad)
        return inserted

    def _bisect(self, batch: list[R], exc: StoreDataError, bad: list[tuple[R, str]]) -> int:
        """Write what the store accepts of a refused ``batch``; collect the refused events.

        Any other error propagates: the caller puts the whole batch back (appends are
        idempotent, and nothing is dead-lettered until the whole batch is settled).
        """
        if len(batch) == 1:
            bad.append((batch[0], _reason(exc)))
            return 0
        mid = len(batch) // 2
        inserted = 0
        for half in (batch[:mid], batch[mid:]):
            try:
                inserted += self._append(half)
            except StoreDataError as sub:
                inserted += self._bisect(half, sub, bad)
        return inserted

    def _dead_letter(self, bad: Sequence[tuple[R, str]]) -> None:
        if not bad:
            return
        first, noun = bad[0][1], self._noun
        where = "nowhere"
        try:
            if self.deadletters is None:
                raise DeadLetterError("no dead-letter directory (the writer has no spool)")
            where = str(self.deadletters.write(bad))
        except Exception as exc:
            self._dropped += len(bad)
            if not self._deadletter_failed:
                self._deadletter_failed = True
                log.error("journal: %s; dropped %d refused %s(s): %s", exc, len(bad), noun, first)
            self._report(
                "event_rejected",
                f"{len(bad)} {noun}(s) refused by the store and dropped: {first}",
                {"count": len(bad), "reason": first, "dropped": True},
            )
            return
        self._dead += len(bad)
        log.warning(
            "journal: %d %s(s) refused by the store, set aside in %s: %s",
            len(bad),
            noun,
            where,
            first,
        )
        is_report = self.codec.is_report
        if is_report is not None and all(is_report(e) for e, _ in bad):
            return  # never let our own report feed a loop
        self._report(
            "event_rejected",
            f"{len(bad)} {noun}(s) refused by the store, set aside: {first}",
            {"count": len(bad), "reason": first, "file": where},
        )

    def _deliver(self, batch: list[R]) -> None:
        """Write a spooled batch (no retries: a failure ends the drain, the file stays)."""
        inserted = self._append_isolating(batch)
        self._written += inserted
        self._dupes += len(batch) - inserted
        self._drained += len(batch)
        self._outage_drained += len(batch)
        if len(self._q) > self.max_memory_events:
            self._spill()  # a slow drain must not let memory grow: later events queue on disk

    def _drain_own(self) -> bool:
        """Deliver our spool in order; False (outage begun) if the store failed."""
        assert self.spool is not None
        try:
            self.spool.drain_own(self._deliver, self.drain_batch)
        except Exception as exc:
            self._begin_outage(exc)
            if not self._drain_warned:
                self._drain_warned = True
                log.warning("journal: spool drain interrupted, will resume: %s", exc)
            return False
        return True

    def _recover_spool(self) -> bool:
        """Store answers again: drain our spool, then end the outage. False if it failed again."""
        if self.spool is not None and not self._drain_own():
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
                "journal: drained %d %s(s) from %d spool file(s) left by earlier processes",
                n,
                self._noun,
                files,
            )
            self._report(
                "spool_drained",
                f"{n} {self._noun}(s) from {files} earlier spool file(s)",
                {"files": files, "events": n, "quarantined": self.spool.quarantined},
            )
        return True

    def _spill(self) -> None:
        """Move what is in memory to the spool (or bound memory if there is no usable spool).

        Memory is only cut (oldest dropped, counted) when the spool is missing or failed:
        events submitted while a spill was being fsync'd are spilled by the next check.
        """
        if self.spool is None:
            self._bound_memory()
            return
        q = self._q
        todo = len(q)  # what is there now: a producer that never pauses cannot keep us here
        while todo > 0 and q:
            batch = [q.popleft() for _ in range(min(todo, len(q), self._spill_chunk))]
            todo -= len(batch)
            try:
                self.spool.append(batch)
            except BaseException as exc:
                q.extendleft(reversed(batch))  # whatever the spool raised, nothing is lost
                if not isinstance(exc, Exception):
                    raise
                if not self._spool_failed:
                    self._spool_failed = True
                    log.error(
                        "journal: %s; keeping events in memory (up to %d)",
                        exc,
                        self.max_memory_events,
                    )
                    self._report("spool_unwritable", _reason(exc))
                self._bound_memory()
                return
            n = len(batch)
            self._spooled += n
            self._outage_spilled += n
            self._outage_buffered = max(self._outage_buffered, n)
            todo -= self._enforce_ceiling(todo)

    def _enforce_ceiling(self, slated: int) -> int:
        """The hard memory limit, for a producer faster than even the disk spool: beyond the
        backlog still ``slated`` for this spill, what arrived meanwhile may not pass the
        ceiling. Returns how many of the oldest were dropped."""
        over = len(self._q) - slated - self._ceiling
        if over <= 0:
            return 0
        for _ in range(over):
            self._q.popleft()
        self._dropped += over
        if not self._overloaded:
            self._overloaded = True
            log.error(
                "journal: events arrive faster than the store and the spool take them: dropped "
                "the %d oldest in memory to stay under %d (more drops are counted, not logged)",
                over,
                self._ceiling,
            )
            self._report(
                "events_dropped",
                f"dropped {over} {self._noun}(s): produced faster than the store and spool take them",
                {"dropped": over, "ceiling": self._ceiling},
            )
        return over

    def _write(self, batch: list[R]) -> bool:
        attempts, initial, cap = self._retry
        t0 = time.perf_counter()
        try:
            self._ensure_prepared()  # a failing migration is an outage now, not after retries
            inserted = 0
            for attempt in Retrying(
                stop=stop_after_attempt(1 if self._outage_since is not None else attempts),
                wait=wait_exponential(multiplier=initial, max=cap),
                retry=retry_if_exception_type(StoreUnavailable),
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    inserted = self._append_isolating(batch)
        except Exception as exc:  # StoreError, or a driver error the store did not map
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
                "journal: %d events in memory and no usable spool: dropped the %d oldest",
                self.max_memory_events,
                over,
            )
            self._report(
                "events_dropped",
                f"dropped the {over} oldest {self._noun}(s): memory bound reached, no usable spool",
                {"dropped": over, "total_dropped": self._dropped},
            )

    def _publish(self, event: Event) -> None:
        try:
            (self._emit or emitter.emit)(event)
        except Exception:
            pass

    def _report(self, name: str, message: str, context: dict[str, Any] | None = None) -> None:
        """Publish one of the writer's own ``journal`` events (never raises)."""
        try:
            self._publish(journal_event(self._jprefix + name, message, context=context))
        except Exception:
            pass

    def _begin_outage(self, exc: BaseException) -> None:
        if self._outage_since is not None:
            return
        self._outage_since = time.time()
        self._outages += 1
        self._outage_buffered = len(self._q)
        self._outage_spilled = self._outage_drained = 0
        self._spool_failed = self._drain_warned = False
        why = f"{type(exc).__name__}: {_reason(exc)}"
        self._outage_why = why
        log.warning("journal: store unavailable, buffering %ss: %s", self._noun, why)
        self._report("store_unavailable", why, {"queued": len(self._q)})

    def _end_outage(self) -> None:
        since = self._outage_since or time.time()
        self._outage_since = None
        seconds = round(time.time() - since, 3)
        log.warning("journal: store is back after %.1fs", seconds)
        self._report(
            "store_recovered",
            f"store back after {seconds:.1f}s",
            {
                "outage_seconds": seconds,
                "buffered": max(self._outage_buffered, len(self._q)),
                "dropped": self._dropped,
            },
        )

    # ------------------------------------------------------------ control

    def _total_dropped(self) -> int:
        return self._dropped + (self.spool.lost if self.spool is not None else 0)

    def _settled(self) -> bool:
        return not (self._q or self._busy or self._inhand or self._refused or self._spool_pending())

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is in the store (or dead-lettered).

        False on timeout, during an outage (events are then in the spool or in memory) or if
        events were dropped since the last flush; ``last_flush_problem`` says which.
        """
        self._ensure_thread()
        deadline = time.monotonic() + timeout
        self._wake.set()
        problem: str | None = None
        with self._idle:
            while not self._settled():
                left = deadline - time.monotonic()
                if self._outage_since is not None and not self._busy:
                    break
                if left <= 0:
                    problem = (
                        f"timed out after {timeout:g}s: {len(self._q)} {self._noun}(s) in memory, "
                        f"{self._spool_pending()} in the spool"
                    )
                    break
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        if self._outage_since is not None:
            problem = (
                f"store unavailable ({self._outage_why}): {len(self._q)} {self._noun}(s) in memory, "
                f"{self._spool_pending()} in the spool"
            )
        total = self._total_dropped()
        dropped = total - self._dropped_seen
        self._dropped_seen = total
        if problem is None and dropped:
            problem = f"{dropped} {self._noun}(s) dropped since the last flush (see the log)"
        self.last_flush_problem = problem
        return problem is None

    def close(self, timeout: float = 10.0) -> bool:
        """Flush with a deadline, spool the rest, stop the thread; True if everything reached the store."""
        done = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(max(0.1, timeout))
        if not self._thread.is_alive():
            self._settle_inhand()
            if self._q and self.spool is not None:
                self._spill()  # what could not be written goes to disk; the next start drains it
        if self._q:
            left = len(self._q)
            log.error(
                "journal: %d %s(s) could not be written or spooled before exit", left, self._noun
            )
            if not self._thread.is_alive():
                self._dropped += left
        if self.spool is not None and not self._thread.is_alive():
            self.spool.close()
        return done and not self._q

    def stats(self) -> WriterStats:
        """Counters."""
        return WriterStats(
            queued=len(self._q),
            written=self._written,
            duplicates=self._dupes,
            dropped=self._total_dropped(),
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
            dead_lettered=self._dead,
            restarts=self._restarts,
        )
