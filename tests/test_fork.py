"""Fork safety: forked and multiprocessing children store every event they record, exactly once.

Real processes (fork, spawn, forkserver; ``Process``, ``Pool``, bare ``os.fork``) on a real
SQLite file and a real PostgreSQL schema. Counts are computed by hand: workers x events.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import journal
from journal.events import default_source
from journal.process.lifecycle import Journal
from journal.store.event_store import EventStore
from tests import fork_workers as fw

JOIN_TIMEOUT = 120.0  # a child that takes longer is hung (the tests fail instead of waiting)


@pytest.fixture
def parent(migrated_url: str, tmp_path: Path) -> Iterator[Journal]:
    """The process-wide journal (default source host:pid), shut down afterwards."""
    j = journal.configure(
        migrated_url, spool_dir=tmp_path / "spool", flush_interval=0.05, sink_retry_wait=0.0
    )
    yield j
    journal.shutdown(10)


def stored_messages(url: str, name: str = fw.NAME) -> tuple[list[str], set[str]]:
    """Messages of the stored error events called ``name``, and their distinct event ids."""
    store = EventStore(url)
    try:
        events = list(store.read(kinds=["error"], names=[name]))
    finally:
        store.close()
    return [e.message for e in events], {e.event_id for e in events}


def expected(workers: int, count: int) -> list[str]:
    """The messages `fork_workers.record` writes: ``w<worker>#<i>``."""
    return sorted(f"w{w}#{i}" for w in range(workers) for i in range(count))


def join_all(procs: list[multiprocessing.process.BaseProcess]) -> list[int | None]:
    """Join with a deadline; a child still alive is killed and reported as hung (None)."""
    for p in procs:
        p.join(JOIN_TIMEOUT)
    codes = [p.exitcode for p in procs]
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(5)
    return codes


def assert_parent_events_once(url: str, parent_name: str = "parent") -> None:
    messages, ids = stored_messages(url, parent_name)
    assert sorted(messages) == ["after", "before"]
    assert len(ids) == 2


# ---------------------------------------------------------------- multiprocessing


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_workers_store_every_event(parent: Journal, migrated_url: str, method: str) -> None:
    workers, count = (4, 10_000) if method == "fork" else (2, 2_000)
    journal.record_error("Parent", "before", name="parent")
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # The fork server keeps the environment it started with (the first test's database):
        # its children configure the journal themselves, and rely on the exit flush alone.
        procs = [ctx.Process(target=fw.record_at, args=(migrated_url, w, count)) for w in range(2)]
    else:  # fork: the parent's journal; spawn: the database configure() exported
        procs = [ctx.Process(target=fw.record, args=(w, count)) for w in range(workers)]
    for p in procs:
        p.start()
    assert join_all(procs) == [0] * workers  # type: ignore[arg-type]
    journal.record_error("Parent", "after", name="parent")
    assert journal.flush(30)

    messages, ids = stored_messages(migrated_url)
    assert len(messages) == workers * count
    assert sorted(messages) == expected(workers, count)
    assert len(ids) == workers * count
    assert_parent_events_once(migrated_url)
    assert parent.writer.stats().duplicates == 0


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_map_closed_and_joined_stores_every_event(
    parent: Journal, migrated_url: str, method: str
) -> None:
    tasks, per_task, size = (40, 1_000, 4) if method == "fork" else (10, 500, 2)
    journal.record_error("Parent", "before", name="parent")
    pool = multiprocessing.get_context(method).Pool(size)
    try:
        done = pool.map(fw.record_task, [(t, per_task) for t in range(tasks)], chunksize=1)
        pool.close()
        joiner = threading.Thread(target=pool.join, daemon=True)
        joiner.start()
        joiner.join(JOIN_TIMEOUT)
        assert not joiner.is_alive(), "pool workers hung at exit"
    finally:
        pool.terminate()
    assert sum(done) == tasks * per_task
    journal.record_error("Parent", "after", name="parent")
    assert journal.flush(30)

    messages, ids = stored_messages(migrated_url)
    assert len(messages) == tasks * per_task
    assert sorted(messages) == expected(tasks, per_task)
    assert len(ids) == tasks * per_task
    assert_parent_events_once(migrated_url)


def test_pool_workers_replaced_by_maxtasksperchild_store_their_events(
    parent: Journal, migrated_url: str
) -> None:
    # Workers end after 2 tasks and are forked again by the pool's handler thread.
    pool = multiprocessing.get_context("fork").Pool(2, maxtasksperchild=2)
    try:
        assert sum(pool.map(fw.record_task, [(t, 300) for t in range(12)], chunksize=1)) == 3600
        pool.close()
        pool.join()
    finally:
        pool.terminate()
    assert journal.flush(30)
    messages, ids = stored_messages(migrated_url)
    assert sorted(messages) == expected(12, 300)
    assert len(ids) == 3600


def test_process_pool_executor_workers_store_every_event(
    parent: Journal, migrated_url: str
) -> None:
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(3, mp_context=ctx) as pool:  # leaving the block joins the workers
        assert sum(pool.map(fw.record_task, [(t, 500) for t in range(9)])) == 4500
    assert journal.flush(30)
    messages, ids = stored_messages(migrated_url)
    assert sorted(messages) == expected(9, 500)
    assert len(ids) == 4500


# ---------------------------------------------------------------- bare os.fork


def _child_report(write_fd: int, body: dict[str, object]) -> None:
    os.write(write_fd, json.dumps(body).encode())
    os.close(write_fd)


def _fork(child: object) -> tuple[int, dict[str, object]]:
    """Run ``child()`` (returns a JSON-able dict) in a bare fork; its exit code and report."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(r)
            _child_report(w, child())  # type: ignore[operator]
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + JOIN_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.01)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    return os.waitstatus_to_exitcode(status), (json.loads(data) if data else {})


def test_bare_fork_child_flushes_its_own_events_not_its_parents(
    parent: Journal, migrated_url: str
) -> None:
    journal.record_error("Parent", "before", name="parent")
    # Give the parent a backlog, so that the child inherits a queue that is not its own.
    backlog = 0
    while parent.writer.stats().queued < 1_000 and backlog < 200_000:
        for i in range(1_000):
            journal.record_error("Backlog", f"#{backlog + i}", name="backlog")
        backlog += 1_000
    queued_at_fork = parent.writer.stats().queued

    def child() -> dict[str, object]:
        j = journal.get_journal()
        queued_after_fork = j.writer.stats().queued
        fw.record(0, 5_000)
        flushed = journal.flush(30)
        stats = j.writer.stats()
        return {
            "queued_after_fork": queued_after_fork,
            "flushed": flushed,
            "written": stats.written,
            "duplicates": stats.duplicates,
            "source": default_source(),
            "spool": str(j.writer.spool.path if j.writer.spool else None),
        }

    code, report = _fork(child)
    assert code == 0
    journal.record_error("Parent", "after", name="parent")
    assert journal.flush(30)

    assert queued_at_fork > 0  # the precondition: there was a backlog to inherit
    assert report["queued_after_fork"] == 0
    assert report["flushed"] is True
    assert report["duplicates"] == 0
    messages, _ = stored_messages(migrated_url)
    assert sorted(messages) == expected(1, 5_000)
    backlog_messages, backlog_ids = stored_messages(migrated_url, "backlog")
    assert len(backlog_messages) == backlog == len(backlog_ids)
    # The child wrote its own events (and the alerts they fired), nothing of its parent's.
    store = EventStore(migrated_url)
    try:
        by_child = list(store.read(sources=[str(report["source"])]))
    finally:
        store.close()
    assert report["written"] == len(by_child)
    assert {e.name for e in by_child if e.kind == "error"} == {fw.NAME}
    assert parent.writer.stats().duplicates == 0
    assert_parent_events_once(migrated_url)


def test_bare_fork_child_that_exits_normally_is_flushed_at_exit(
    migrated_url: str, tmp_path: Path
) -> None:
    # sys.exit in a forked child runs atexit, hence the journal's shutdown (no explicit flush).
    script = textwrap.dedent(
        f"""
        import os, sys
        import journal
        from tests import fork_workers as fw
        journal.configure({migrated_url!r}, spool_dir={str(tmp_path / "spool")!r})
        journal.record_error("Parent", "before", name="parent")
        pid = os.fork()
        if pid == 0:
            fw.record(0, 3000)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        journal.record_error("Parent", "after", name="parent")
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, timeout=JOIN_TIMEOUT, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    messages, ids = stored_messages(migrated_url)
    assert sorted(messages) == expected(1, 3000)
    assert len(ids) == 3000
    assert_parent_events_once(migrated_url)


def test_fork_while_another_thread_records_never_deadlocks_the_child(
    parent: Journal, migrated_url: str
) -> None:
    stop = threading.Event()
    counter = [0]
    racer = threading.Thread(target=fw.record_until, args=(stop, counter), daemon=True)
    racer.start()
    children = 12
    try:
        ctx = multiprocessing.get_context("fork")
        procs = []
        for w in range(children):  # one at a time: each fork lands mid-record in the racer
            p = ctx.Process(target=fw.record_and_flush, args=(w, 200))
            p.start()
            procs.append(p)
            time.sleep(0.02)
        codes = join_all(procs)
    finally:
        stop.set()
        racer.join(10)
    assert codes == [0] * children, "a child hung (None) or failed"
    assert journal.flush(30)

    messages, ids = stored_messages(migrated_url)
    assert sorted(messages) == expected(children, 200)
    assert len(ids) == children * 200
    race_messages, race_ids = stored_messages(migrated_url, "fork_race")
    assert len(race_messages) == counter[0] == len(race_ids)
    assert parent.writer.stats().duplicates == 0


def test_child_replaces_locks_another_parent_thread_held_at_fork(
    parent: Journal, migrated_url: str
) -> None:
    # Another thread holds the projections', the bus's and the breakers' locks through the
    # fork: the parent gives up waiting for them, so the child inherits them locked.
    from journal.resilience.breaker import get_circuit_breaker_manager

    manager = get_circuit_breaker_manager()
    manager.get_breaker("held_at_fork")
    locks = [parent._lock, parent.bus._lock, manager._lock]
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        for lock in locks:
            lock.acquire()
        holding.set()
        release.wait(JOIN_TIMEOUT)
        for lock in reversed(locks):
            lock.release()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(10)

    def child() -> dict[str, object]:
        fw.record(0, 1_000)
        get_circuit_breaker_manager().get_breaker("held_at_fork").call(int)
        return {"flushed": journal.flush(30)}

    try:
        code, report = _fork(child)
    finally:
        release.set()
        holder.join(10)
    assert code == 0
    assert report == {"flushed": True}
    messages, ids = stored_messages(migrated_url)
    assert sorted(messages) == expected(1, 1_000)
    assert len(ids) == 1_000


# ---------------------------------------------------------------- settings travel to spawn


def test_configure_exports_the_database_for_spawned_children_and_shutdown_restores(
    migrated_url: str, tmp_path: Path
) -> None:
    keys = ("JOURNAL_DB_URL", "JOURNAL_SOURCE", "JOURNAL_SPOOL_DIR")
    before = {k: os.environ.get(k) for k in keys}
    j = journal.configure(migrated_url, source="exported:1", spool_dir=tmp_path / "sp")
    try:
        assert os.environ["JOURNAL_DB_URL"] == j.url
        assert os.environ["JOURNAL_SOURCE"] == "exported:1"
        assert os.environ["JOURNAL_SPOOL_DIR"] == str(tmp_path / "sp")
    finally:
        journal.shutdown(10)
    assert {k: os.environ.get(k) for k in keys} == before
