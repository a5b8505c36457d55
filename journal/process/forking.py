"""Fork safety: a forked child gets its own writer, alert thread and locks, and multiprocessing
workers store every event they record.

Threads do not survive ``fork()``: the child has no writer thread, no alert thread, and any
lock another parent thread held at that instant stays locked forever. The hooks installed by
`install` (``os.register_at_fork``) make the journal whole again in the child:

- **before** the fork, the writer's `StoreGate` is closed: the store call in flight ends
  and none starts (a SQLite write caught mid-transaction by a fork leaves the child's copy
  of SQLite's lock bookkeeping holding the write lock for ever: the child could never
  write). Then the journal's short locks (configuration, live projections, bus, breakers,
  redaction) are taken, so the child never copies a projection or breaker in the middle of
  an update (like the stdlib ``logging`` module does). All of it within `FORK_LOCK_TIMEOUT`:
  what cannot be had in time is not waited for (the child replaces the locks anyway).
- **in the parent**, the gate opens and the locks are released; nothing else changes.
- **in the child**, every lock of the journal is replaced by a fresh one (also the Alembic
  lock and each store's schema lock, which can be held for a long time and are therefore not
  taken before the fork); the writer and the alert dispatcher are re-initialised in place
  with their parameters: a new thread, an empty queue, and a spool file of the child's own
  (created on first spill, named with the child's pid). What the parent had queued but not
  yet written belongs to the parent, which writes it: the child drops its copy. The parent's
  spool file is the parent's: the child closes its inherited descriptor (so that the
  parent's ``flock`` ends when the parent does) and never writes, drains or unlinks it.
  The child starts a fresh alert engine, so a rule window never counts the parent's events
  twice; the live projections keep the parent's state as of the fork (a child's snapshot
  includes what its parent had seen). The store's pool is disposed by `journal.store.event_store` and
  event ids are re-seeded by `journal.events`, both in their own fork hooks. This is done
  for the process-wide journal (`journal.configure`); a `Journal` made by hand is not
  repaired in a child.

How a child ends decides what is stored:

- ``multiprocessing`` workers, fork, spawn or forkserver, ``Process`` or ``Pool`` (closed and
  joined, or ended by ``maxtasksperchild``): a ``multiprocessing.util.Finalize`` with
  exit priority `EXIT_PRIORITY`, run by the worker's ``util._exit_function`` before its
  ``os._exit``, shuts the journal down (flush, then spool what cannot be written) within
  `EXIT_TIMEOUT` seconds. Spawned children also run ``atexit`` (``spawn_main`` ends in
  ``sys.exit``); the second shutdown is a no-op.
- ``terminate()`` (SIGTERM) kills a worker without finalizers, and ``Pool.terminate()`` -
  also what ``with Pool() as pool:`` does on leaving the block - terminates every worker:
  what the worker's writer had not yet written is lost, that is the events recorded in the
  last ``flush_interval`` (0.2 s by default) plus the batch being written (up to
  ``batch_size``, 500). Events already in the store or in the spool survive. Close and join
  a pool (or call ``journal.flush()`` at the end of each task) when every event matters.
- A bare ``os.fork()`` child: ``journal.flush()`` works as in any process; ``sys.exit`` or
  returning normally runs ``atexit`` and so the journal's shutdown; ``os._exit`` without a
  flush loses what was not yet written, as in any process.

Spawned children are fresh interpreters: `export_settings` (called by ``configure()``) puts
the configured database URL, source and spool directory in ``JOURNAL_DB_URL``,
``JOURNAL_SOURCE`` and ``JOURNAL_SPOOL_DIR``, so a child's default journal writes to the same
database; `restore_settings` (called by ``shutdown()``) puts the previous values back. Other
options (alert rules and sinks, batch sizes) do not travel: configure them in the worker's
initializer if a child needs them. A forkserver keeps the environment it was started with
(at the first forkserver process): configure before that, or in the worker.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from journal.sanitizing.redaction import library_logger
from journal.settings import ENV_DB_URL, ENV_SOURCE, ENV_SPOOL_DIR

if TYPE_CHECKING:
    from journal.process.lifecycle import Journal
    from journal.writing.writer import Appender, RecordAppender

log = library_logger("journal")

FORK_LOCK_TIMEOUT = 1.0  # seconds, for all the locks the parent takes before a fork
EXIT_TIMEOUT = 5.0  # seconds a multiprocessing worker gives its journal at exit (as atexit)
EXIT_PRIORITY = 100  # run before multiprocessing's own finalizers (queues, managers)


class _Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


# ---------------------------------------------------------------- locks


def _lock_owners() -> Iterator[tuple[object, str]]:
    """(object, attribute) of every short lock, in the order the code takes them."""
    from journal.process import emitter, lifecycle
    from journal.sanitizing import redaction

    yield emitter, "_lock"  # held around the default configuration, which takes api._lock
    yield lifecycle, "_lock"
    journal = lifecycle._current
    if journal is not None:
        yield journal, "_lock"  # live projections
    yield emitter.get_bus(), "_lock"
    breaker = sys.modules.get("journal.resilience.breaker")
    if breaker is not None:
        manager = breaker.get_circuit_breaker_manager()
        yield manager, "_lock"
        # Read after the manager's lock is ours, so no breaker is being added meanwhile.
        for cb in list(getattr(manager, "_breakers", {}).values()):
            yield cb, "_lock"
    yield redaction, "_lock"


def _long_lock_owners() -> Iterator[tuple[object, str, Callable[[], object]]]:
    """Locks held across IO (a migration, a schema check): replaced in the child, never waited for."""
    migrate = sys.modules.get("journal.store.migrate")
    if migrate is not None:
        yield migrate, "_alembic_lock", threading.RLock
    store = sys.modules.get("journal.store.event_store")
    if store is not None:
        for s in list(getattr(store, "_live_stores", ())):
            yield s, "_schema_lock", threading.Lock


_local = threading.local()  # per forking thread: two threads may fork at once


def _held() -> list[_Lock | StoreGate[Any]]:
    """What this thread took before its fork (released after it, in reverse order)."""
    held: list[_Lock | StoreGate[Any]] | None = getattr(_local, "held", None)
    if held is None:
        held = _local.held = []
    return held


_skipped = 0  # locks not had within FORK_LOCK_TIMEOUT (replaced in the child anyway)


R = TypeVar("R")


class StoreGate(Generic[R]):
    """The writer's store behind a gate that a fork closes: no store call is in flight while the
    process forks, and none starts until the fork is done.

    A SQLite write in progress at the fork leaves the child's copy of SQLite's per-file lock
    bookkeeping (and the connection, which the child never frees) believing the write lock is
    held: the child could never write. Closing the gate waits for the call in flight to end.
    """

    def __init__(self, store: RecordAppender[R]) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._calls = 0
        self._closers = 0

    def _enter(self) -> None:
        with self._cond:
            while self._closers:
                self._cond.wait()
            self._calls += 1

    def _leave(self) -> None:
        with self._cond:
            self._calls -= 1
            self._cond.notify_all()

    def append(self, events: list[R]) -> int:
        """The store's ``append``, once the gate is open."""
        self._enter()
        try:
            return self.store.append(events)
        finally:
            self._leave()

    def ping(self) -> None:
        """The store's ``ping``, once the gate is open."""
        self._enter()
        try:
            self.store.ping()
        finally:
            self._leave()

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (a store call of another kind: the writer's migration) through the gate."""
        self._enter()
        try:
            fn()
        finally:
            self._leave()

    def close(self, deadline: float) -> bool:
        """Stop new calls and wait (until ``deadline``) for the one in flight; True if none is."""
        if not self._cond.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            self._closers += 1
            while self._calls:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True
        finally:
            self._cond.release()

    def open(self) -> None:
        """Let calls through again (after a `close`)."""
        with self._cond:
            self._closers = max(0, self._closers - 1)
            self._cond.notify_all()


class _GatedPrepare:
    """The writer's ``prepare`` (auto-migration: its own connection) through a `StoreGate`."""

    def __init__(self, gate: StoreGate[Any], fn: Callable[[], None]) -> None:
        self.gate, self.fn = gate, fn

    def __call__(self) -> None:
        self.gate.call(self.fn)


def _gate_writer(writer: Any, store: Appender, prepare: Callable[[], None] | None) -> None:
    gate = StoreGate(store)
    writer.store = gate
    if prepare is not None and hasattr(writer, "_prepare"):
        writer._prepare = _GatedPrepare(gate, prepare)


def gate_store(journal: Journal) -> None:
    """Put the journal's writer (its store calls and its migration) behind a `StoreGate` (once)."""
    writer = journal.writer
    if not isinstance(writer.store, StoreGate):
        _gate_writer(writer, writer.store, getattr(writer, "_prepare", None))


def _before_fork() -> None:
    global _skipped
    _hook_multiprocessing()
    deadline = time.monotonic() + FORK_LOCK_TIMEOUT
    try:
        # The store first: a call in flight may publish (and fold under the journal's lock).
        from journal.process import lifecycle

        journal = lifecycle._current
        gate = journal.writer.store if journal is not None else None
        if isinstance(gate, StoreGate):
            gate.close(deadline)
            _held().append(gate)
        for owner, attr in _lock_owners():
            lock = getattr(owner, attr, None)
            if lock is None:
                continue
            if lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                _held().append(lock)
            else:
                _skipped += 1
    except Exception:  # a fork must never fail because of the journal
        pass


def _after_fork_in_parent() -> None:
    held = _held()
    while held:
        item = held.pop()
        try:
            item.open() if isinstance(item, StoreGate) else item.release()
        except RuntimeError:
            pass


def _fresh_locks() -> None:
    _held().clear()  # the child's copies of these are replaced below, not released
    for owner, attr in list(_lock_owners()):
        if getattr(owner, attr, None) is not None:
            setattr(owner, attr, threading.Lock())
    for owner, attr, make in list(_long_lock_owners()):
        if getattr(owner, attr, None) is not None:
            setattr(owner, attr, make())


# ---------------------------------------------------------------- the child's threads


def _init_args(obj: object, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments that rebuild ``obj``: each parameter of its class's ``__init__``
    from ``overrides``, else from the attribute of that name (or ``_name``), else its default."""
    args: dict[str, Any] = {}
    for name, param in inspect.signature(type(obj).__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in overrides:
            args[name] = overrides[name]
            continue
        for attr in (name, f"_{name}"):
            if hasattr(obj, attr):
                args[name] = getattr(obj, attr)
                break
    return args


def _restart_writer(journal: Journal) -> None:
    """Re-initialise the journal's writer in place for the child: same parameters, new thread,
    empty queue, own spool file; the bus subscription (a bound ``submit``) stays valid."""
    writer = journal.writer
    spool = getattr(writer, "spool", None)
    fd = getattr(spool, "_fh", None)
    if isinstance(fd, int):
        try:
            os.close(fd)  # our copy only: the parent keeps its file, its flock and its records
        except OSError:
            pass
        spool._fh = None  # type: ignore[union-attr]
    # Unwrap the parent's gate (closed in this copy) and its migration; the child gets its own.
    store = writer.store.store if isinstance(writer.store, StoreGate) else writer.store
    prepare = getattr(writer, "_prepare", None)
    prepare = prepare.fn if isinstance(prepare, _GatedPrepare) else prepare
    overrides: dict[str, Any] = {"store": store, "prepare": prepare}
    overrides["spool_dir"] = getattr(spool, "dir", None)
    retry = getattr(writer, "_retry", None)
    if isinstance(retry, tuple) and len(retry) == 3:
        overrides.update(retry_attempts=retry[0], retry_initial=retry[1], retry_max=retry[2])
    if getattr(writer, "_prepared", False):
        overrides["prepare"] = None  # the parent already migrated this database
    args = _init_args(writer, overrides)
    type(writer).__init__(writer, **args)
    _gate_writer(writer, store, args.get("prepare"))


def _restart_dispatcher(journal: Journal) -> None:
    """Re-initialise the alert dispatcher in place: new thread, empty queue, fresh rule state."""
    from journal.alerting.rules import AlertEngine

    dispatcher = journal.dispatcher
    engine = AlertEngine(journal.alerts.config)
    journal.alerts = engine
    args = _init_args(dispatcher, {"engine": engine})
    type(dispatcher).__init__(dispatcher, **args)


def _after_fork_in_child() -> None:
    try:
        _fresh_locks()
        from journal.process import lifecycle

        journal = lifecycle._current
        if journal is not None and not journal.closed:
            _restart_dispatcher(journal)
            _restart_writer(journal)
    except Exception:  # never break the child: it may not even use the journal
        log.exception("journal: could not set up the journal in a forked child")


# ---------------------------------------------------------------- multiprocessing


class _Anchor:
    """A weak-referenceable key for ``multiprocessing.util.register_after_fork``."""


_ANCHOR = _Anchor()
_mp_hooked = False
_finalizer: Any = None


def _flush_at_worker_exit() -> None:
    from journal.process import lifecycle

    try:
        if not lifecycle.shutdown(EXIT_TIMEOUT):
            log.warning("journal: a worker ended before its events were stored (spooled instead)")
    except Exception:
        log.exception("journal: shutdown at worker exit failed")


def _arm_exit_flush(_anchor: object = None) -> None:
    """Register the exit flush with this process's multiprocessing finalizers (once)."""
    global _finalizer
    from multiprocessing import util

    if _finalizer is not None and _finalizer.still_active():
        return
    _finalizer = util.Finalize(None, _flush_at_worker_exit, exitpriority=EXIT_PRIORITY)


def _hook_multiprocessing() -> None:
    """Once multiprocessing is in use: arm the exit flush in each of its children (they run
    their after-fork callbacks right after clearing the finalizers they inherited)."""
    global _mp_hooked
    if _mp_hooked or "multiprocessing.util" not in sys.modules:
        return
    import multiprocessing
    from multiprocessing import util

    _mp_hooked = True
    util.register_after_fork(_ANCHOR, _arm_exit_flush)
    if multiprocessing.parent_process() is not None:
        _arm_exit_flush()  # imported inside a worker that has already started


# ---------------------------------------------------------------- settings for spawned children

_saved_env: dict[str, str | None] | None = None


def configured(journal: Journal) -> None:
    """Called by ``configure()``: gate the writer's store for forks, export the settings."""
    gate_store(journal)
    export_settings(journal)


def export_settings(journal: Journal) -> None:
    """Put the journal's URL, source and spool directory in the environment (spawned children
    configure the same database); the first call remembers the values to restore."""
    global _saved_env
    spool = getattr(journal.writer, "spool", None)
    wanted = {
        ENV_DB_URL: journal.url,
        ENV_SOURCE: journal.source,
        ENV_SPOOL_DIR: str(spool.dir) if spool is not None else None,
    }
    if _saved_env is None:
        _saved_env = {k: os.environ.get(k) for k in wanted}
    for key, value in wanted.items():
        if value is not None and os.environ.get(key) != value:
            os.environ[key] = value


def restore_settings() -> tuple[dict[str, str | None], dict[str, str | None]] | None:
    """Put back the environment `export_settings` changed; returns what to give
    `reexport_settings` to undo this (None if nothing was exported)."""
    global _saved_env
    saved, _saved_env = _saved_env, None
    if saved is None:
        return None
    exported = {key: os.environ.get(key) for key in saved}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        elif os.environ.get(key) != value:
            os.environ[key] = value
    return saved, exported


def reexport_settings(
    undo: tuple[dict[str, str | None], dict[str, str | None]] | None,
) -> None:
    """Undo `restore_settings` (the running journal stays: its children keep its settings)."""
    global _saved_env
    if undo is None:
        return
    saved, exported = undo
    _saved_env = saved
    for key, value in exported.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_installed = False


def install() -> None:
    """Register the fork hooks (once per interpreter; called when `journal.process.lifecycle` is imported)."""
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):
        return
    _installed = True
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
    _hook_multiprocessing()
